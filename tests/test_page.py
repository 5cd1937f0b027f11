"""The page without a browser: its handlers (what a click does), the file-serving check, the
settings file, and the rules for passwords. The browser itself is in test_page_browser.py."""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import CORPUS, run_cli, write_corpus
from search.config import Settings, save_settings, saved_settings, setting_sources
from search.errors import FathomError
from search.page import folder_actions, render, render_library, search_actions, settings_actions
from search.page.state import page_state
from search.page.access import check_exposure, credentials, is_loopback
from search.page.files import FileCopies, servable_file
from search.live import LibraryView
from search.page.loader import LoaderView
from search.page.runtime import Runtime
from search.wording import Terminal, worded

ROOT = Path(__file__).resolve().parent.parent


# -- files: only indexed files inside indexed folders ------------------------------------------------


def test_crafted_paths_get_nothing(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "docs")
    secret = tmp_path / "secret.txt"
    secret.write_text("the key to everything", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "diary.txt").write_text("dear diary", encoding="utf-8")
    (folder / "link-to-secret.txt").symlink_to(secret)
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    (folder / ".env").write_text("PASSWORD=hunter2", encoding="utf-8")
    (folder / "visible.txt").symlink_to(folder / ".env")  # inside, but leads to a file never read
    (folder / "note-link.txt").symlink_to(folder / "pets" / "cat.txt")  # leads to a file that is read
    loop = folder / "loop.txt"
    loop.symlink_to(loop)
    real = folder / "cooking" / "sourdough.md"
    # What the index knows: every path as given, the links included (a crafted index entry).
    indexed = {str(real), str(folder / "link-to-secret.txt"), str(folder / "linked-dir" / "diary.txt"), str(loop),
               str(folder / "visible.txt"), str(folder / "note-link.txt")}

    def serve(path: Any) -> Path | None:
        return servable_file(path, [folder], indexed.__contains__)

    assert serve(str(real)) == real.resolve()
    assert serve(str(folder / "note-link.txt")) == (folder / "pets" / "cat.txt").resolve()
    crafted = [
        str(folder / ".." / "secret.txt"),  # climbs out
        str(folder / "cooking" / ".." / ".." / "secret.txt"),
        str(secret),  # absolute, outside every folder
        "/etc/passwd",
        str(folder / "link-to-secret.txt"),  # a symlink pointing out
        str(folder / "linked-dir" / "diary.txt"),  # a file under a symlinked folder
        str(folder / ".env"),  # inside, but never indexed (hidden)
        str(folder / "visible.txt"),  # a link inside to .env (indexed before links were judged by their target)
        str(loop),  # a symlink loop
        str(folder),  # a folder, not a file
        "cooking/sourdough.md",  # relative: would be read against the server's folder
        f"{real}\x00.png",
        "",
        None,
        str(folder / "missing.txt"),
    ]
    for path in crafted:
        assert serve(path) is None, path


def test_copies_are_private_and_cleaned(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("text", encoding="utf-8")
    copies = FileCopies(tmp_path / "data", keep=2)
    first = copies.copy(source)
    copies.copy(source)
    third = copies.copy(source)
    assert third.read_text(encoding="utf-8") == "text" and third.name == "a.txt"
    assert copies.root.parent == tmp_path / "data" / "page-files"
    assert [oct(p.stat().st_mode & 0o777) for p in (third, third.parent, copies.root, copies.root.parent)] == [
        "0o600", "0o700", "0o700", "0o700",
    ]
    assert not first.exists()  # only the last `keep` copies stay
    copies.close()
    assert not third.exists() and not (tmp_path / "data" / "page-files").exists()


# -- a runtime with the real small model ----------------------------------------------------------------


@pytest.fixture
def runtime(minilm_path: str, minilm: Any) -> Iterator[Runtime]:
    settings = Settings.resolve(embedding_model=minilm_path, reranker_model="none")
    rt = Runtime(settings, embedder=minilm).start()
    assert rt.loader.wait(60)
    yield rt
    rt.close()


def added(rt: Runtime, folder: Path) -> None:
    ok, words = folder_actions.add_folder(rt, str(folder))
    assert ok, words
    assert rt.library.wait_idle(60)


def test_first_run_guides_to_add_a_folder(runtime: Runtime) -> None:
    view = search_actions.search(runtime, search_actions.SearchForm(query="anything"))
    assert "Add folder" in view.message and not view.results
    state = page_state(runtime)
    assert not state.has_folders
    assert "No folders yet" in state.progress
    assert "Ready" in state.pill and "cpu" in state.pill


def test_adding_a_folder_checks_the_path(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = write_corpus(tmp_path / "docs")
    cases = {
        "": "Type the path of a folder",
        "docs": "not a full path",
        str(tmp_path / "nowhere"): "No folder at",
        str(docs / "pets" / "cat.txt"): "is a file, not a folder",
    }
    for text, expected in cases.items():
        ok, words = folder_actions.add_folder(runtime, text)
        assert not ok and expected in words, text
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == docs else real_access(p, mode))
    ok, words = folder_actions.add_folder(runtime, str(docs))
    assert not ok and "cannot read" in words
    monkeypatch.undo()

    added(runtime, docs)
    ok, words = folder_actions.add_folder(runtime, str(docs))
    assert not ok and "already indexed" in words
    ok, words = folder_actions.add_folder(runtime, str(docs / "pets"))
    assert not ok and "is inside" in words
    state = page_state(runtime)
    assert state.has_folders and "Watching" in state.folders
    assert f"{len(CORPUS)} files" in state.progress


def test_search_cards_more_like_this_and_empty_states(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    added(runtime, docs)
    view = search_actions.search(runtime, search_actions.SearchForm(query="how do I bake bread at home"))
    assert view.results[0]["path"] == str(docs / "cooking" / "sourdough.md")
    assert "files in" in view.summary and " ms" in view.summary and not view.message
    card = search_actions.cards(view.results, show_scores=False)[0]
    assert "sourdough.md" in card and "cooking" in card and "<mark>" in card and "score" not in card
    assert "score 0." in search_actions.cards(view.results, show_scores=True)[0]

    like = search_actions.more_like_this(runtime, view.results[0]["path"], search_actions.SearchForm())
    assert like.results and str(docs / "cooking" / "sourdough.md") not in [r["path"] for r in like.results]
    assert "Files like <b>sourdough.md</b>" in like.summary

    only_md = search_actions.search(runtime, search_actions.SearchForm(query="bread", types="md"))
    assert {Path(r["path"]).suffix for r in only_md.results} == {".md"}
    nothing = search_actions.search(runtime, search_actions.SearchForm(query="bread", path_glob="nothing-like-this*"))
    assert not nothing.results and "filters" in nothing.message
    bad = search_actions.search(runtime, search_actions.SearchForm(query="bread", after="last tuesday"))
    assert "Modified after" in bad.message and "is not a date" in bad.message
    empty = search_actions.search(runtime, search_actions.SearchForm(query="  "))
    assert "Type what you are looking for" in empty.message


def test_odd_searches_get_a_sentence_on_the_page(runtime: Runtime, tmp_path: Path) -> None:
    """Dates no file time can hold, and a 1 MB query: an answer or a sentence, never a bare "Error"."""
    added(runtime, write_corpus(tmp_path / "docs"))
    for after, before in (("0001-01-01", ""), ("99999999999d", ""), ("", "9999-12-31T23:59:59")):
        view = search_actions.search(runtime, search_actions.SearchForm(query="bread", mode="keyword", after=after, before=before))
        assert view.results, (after, before)
    began = time.monotonic()
    huge = search_actions.search(runtime, search_actions.SearchForm(query="word " * 200_000, mode="keyword"))
    assert not huge.results and "at most 10,000" in huge.message and time.monotonic() - began < 5


def test_a_corrected_search_says_so_with_the_words_as_typed_one_click_away(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    added(runtime, docs)
    view = search_actions.search(runtime, search_actions.SearchForm(query="sourdogh bred", mode="keyword"))
    assert view.results[0]["path"] == str(docs / "cooking" / "sourdough.md")
    assert "Showing results for <b>sourdough bread</b>" in view.summary
    assert "Search instead for" in view.summary and "sourdogh bred</a>" in view.summary
    assert "&quot;\\&quot;sourdogh\\&quot; \\&quot;bred\\&quot;&quot;" in view.summary  # quoted: as typed
    typed = search_actions.search(runtime, search_actions.SearchForm(query='"sourdogh" "bred"', mode="keyword"))
    assert not typed.results and "Showing results" not in typed.summary
    assert "No file has this exact phrase" in typed.message and "once the model is loaded" not in typed.message
    words = search_actions.search(runtime, search_actions.SearchForm(query="zzzz qqqq", mode="keyword"))
    assert "No file has these words" in words.message and "once the model is loaded" not in words.message
    left_out = search_actions.search(runtime, search_actions.SearchForm(query="bread -sourdough"))
    assert str(docs / "cooking" / "sourdough.md") not in [r["path"] for r in left_out.results]
    only_minus = search_actions.search(runtime, search_actions.SearchForm(query="-bread"))
    assert not only_minus.results and "every word has a minus" in only_minus.message


def test_open_file_hands_out_a_copy_of_indexed_files_only(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    (tmp_path / "secret.txt").write_text("private", encoding="utf-8")
    added(runtime, docs)
    original = docs / "pets" / "cat.txt"
    copy, problem = search_actions.open_file(runtime, str(original))
    assert copy is not None and not problem
    assert copy.read_bytes() == original.read_bytes()
    assert runtime.files.root in copy.parents  # a copy in a private folder, not the file itself
    for crafted in (str(docs / ".." / "secret.txt"), str(tmp_path / "secret.txt"), "/etc/passwd"):
        copy, problem = search_actions.open_file(runtime, crafted)
        assert copy is None and "cannot be opened" in problem


def test_a_file_name_in_a_download_failure_is_text_not_html(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = write_corpus(tmp_path / "docs")
    named = docs / "<img src=x onerror=alert(1)>.txt"
    named.write_text("a note with a crafted name", encoding="utf-8")
    added(runtime, docs)

    def unreadable(path: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runtime.files, "copy", unreadable)
    copy, problem = search_actions.open_file(runtime, str(named))
    assert copy is None and "&lt;img src=x onerror=alert(1)&gt;.txt" in problem and "<img" not in problem


def test_a_folder_that_cannot_be_watched_says_so(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchdog.observers import Observer

    def watch_limit_reached(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(Observer, "schedule", watch_limit_reached)
    added(runtime, write_corpus(tmp_path / "docs"))
    folders = page_state(runtime).folders
    assert "Checking" in folders and "checked for changes every 60 s" in folders
    assert "max_user_watches" in folders


def test_reranking_on_the_page(minilm_path: str, minilm: Any, tiny_qwen3_reranker: Path, tmp_path: Path) -> None:
    """The page loads the reranker in the background and uses it when the switch is on."""
    settings = Settings.resolve(embedding_model=minilm_path, reranker_model=str(tiny_qwen3_reranker))
    rt = Runtime(dataclasses.replace(settings, rerank_top=3), embedder=minilm).start()
    try:
        assert rt.loader.wait(60)
        deadline = time.monotonic() + 60
        while not rt.loader.reranker_ready and rt.loader.view().reranker != "failed" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rt.loader.reranker_ready, rt.loader.view().reranker_error
        added(rt, write_corpus(tmp_path / "docs"))
        form = search_actions.SearchForm(query="how do I bake bread at home", rerank=True)
        view = search_actions.search(rt, form)
        scores = [r["rerank_score"] for r in view.results]
        assert all(s is not None for s in scores[:3]) and all(s is None for s in scores[3:])
        assert scores[:3] == sorted(scores[:3], reverse=True)
        assert "Not reranked" not in view.summary
        assert "rerank 0." in search_actions.cards(view.results, show_scores=True)[0]
        plain = search_actions.search(rt, search_actions.SearchForm(query=form.query))
        assert all(r["rerank_score"] is None for r in plain.results)
        assert page_state(rt).tasks  # the reranker reads the task, MiniLM does not
    finally:
        rt.close()


def test_the_task_control_shows_only_where_a_model_reads_it(runtime: Runtime, tiny_qwen3_embedder: Path) -> None:
    assert not page_state(runtime).tasks  # MiniLM takes no instructions, no reranker
    settings = Settings.resolve(embedding_model=str(tiny_qwen3_embedder), reranker_model="none")
    rt = Runtime(settings).start()
    try:
        assert rt.loader.wait(60)
        assert page_state(rt).tasks
    finally:
        rt.close()


def test_reindex_and_remove_a_folder(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (docs / ".env").write_text("PASSWORD=hunter2", encoding="utf-8")
    added(runtime, docs)
    assert [path for path, _ in runtime.library.view().failed] == [str(docs / "broken.pdf")]
    assert runtime.library.view().ignored == [(str(docs / ".env"), "a hidden file", False)]
    state = page_state(runtime)
    assert "broken.pdf" in state.problems and "failed" in state.problems
    assert ".env" in state.problems and "a hidden file" in state.problems
    assert state.problems_label == "Files not indexed (2)"
    assert "Re-indexing" in folder_actions.reindex_folder(runtime, str(docs))
    assert runtime.library.wait_idle(60)
    assert runtime.library.view().indexed_files == len(CORPUS)
    assert "Choose an indexed folder" in folder_actions.remove_folder(runtime, str(tmp_path))
    assert "Removed" in folder_actions.remove_folder(runtime, str(docs))
    assert runtime.library.wait_idle(60)
    assert runtime.engine.folders() == [] and runtime.library.view().indexed_files == 0


class GatedEmbedder:
    """MiniLM whose document embedding waits at a gate once it is closed, so a test can look
    at the page while indexing is half-way."""

    def __init__(self, embedder: Any):
        self.inner = embedder
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_documents(self, texts: Any) -> Any:
        if not self.gate.is_set():
            self.waiting.set()
            assert self.gate.wait(60)
        return self.inner.embed_documents(texts)


def test_reindex_reads_again_but_embeds_nothing_that_did_not_change(
    minilm_path: str, minilm: Any, tmp_path: Path
) -> None:
    gated = GatedEmbedder(minilm)
    rt = Runtime(Settings.resolve(embedding_model=minilm_path, reranker_model="none"), embedder=gated).start()
    try:
        assert rt.loader.wait(60)
        docs = write_corpus(tmp_path / "docs")
        added(rt, docs)
        gated.gate.clear()  # from now on the model would block
        assert "Re-indexing" in folder_actions.reindex_folder(rt, str(docs))
        assert rt.library.wait_idle(60)
        assert not gated.waiting.is_set()  # every passage took its stored vector
        assert rt.library.view().indexed_files == len(CORPUS) and rt.library.view().waiting.chunks == 0
        for query, name in (("sourdough starter", "sourdough.md"), ("marathon training", "running.txt")):
            view = search_actions.search(rt, search_actions.SearchForm(query=query, mode="vector"))
            assert view.results and Path(view.results[0]["path"]).name == name
        (docs / "sourdough.md").write_text("A note about sea kayaks and tides.", encoding="utf-8")
        assert gated.waiting.wait(60)  # an edit is embedded, by the model
    finally:
        gated.gate.set()
        rt.close()


def test_search_works_by_keywords_while_the_model_loads(minilm_path: str, minilm: Any, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    settings = Settings.resolve(embedding_model=minilm_path, reranker_model="none")
    first = Runtime(settings, embedder=minilm).start()
    added(first, docs)
    first.close()
    waiting = Runtime(settings)  # not started: its model is not loaded yet
    try:
        view = search_actions.search(waiting, search_actions.SearchForm(query="sourdough"))
        assert view.results[0]["path"] == str(docs / "cooking" / "sourdough.md")
        assert "still loading" in view.summary
        assert "Waiting to load" in page_state(waiting).pill
    finally:
        waiting.close()


def test_a_model_that_cannot_load_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings.resolve(embedding_model="Qwen/Qwen3-Embedding-0.6B", reranker_model="none")
    rt = Runtime(settings).start()  # HF_HUB_OFFLINE=1: the Hub cannot be reached
    try:
        assert not rt.loader.wait(60) and rt.loader.failed
        state = page_state(rt)
        assert "Model not loaded" in state.pill
        assert "local model folder" in state.models and "Settings" in state.models
        docs = write_corpus(tmp_path / "docs")
        ok, words = folder_actions.add_folder(rt, str(docs))
        assert ok and "searchable by its words at once" in words and "once the model is loaded" in words
        assert rt.library.wait_idle(60)
        # searchable by its words at once, though no model will load
        view = search_actions.search(rt, search_actions.SearchForm(query="sourdough"))
        assert view.results[0]["path"] == str(docs / "cooking" / "sourdough.md")
        assert view.results[0]["embedded"] is False and "words only" in search_actions.cards(view.results, False)[0]
        assert "did not load" in view.summary
        progress = page_state(rt).progress
        assert f"{len(CORPUS)} files searchable by their words only" in progress and "local model folder" in progress
    finally:
        rt.close()


# -- render: what a person reads -----------------------------------------------------------------------


def test_text_from_files_is_escaped_and_highlighted() -> None:
    result = {
        "path": "/notes/<b>x</b>.md", "score": 0.5, "vector_score": 0.4, "keyword_score": None,
        "rerank_score": None, "page": 3, "snippet": "use <script> tags", "highlights": [[4, 12]],
        "context": "x.md › Setup", "modified": 1_700_000_000.0, "text": "",
    }
    card = render.card(result, 1, show_scores=True)
    assert "<script>" not in card and "<b>x</b>" not in card
    assert "<mark>&lt;script&gt;</mark>" in card and "page 3" in card and "Setup" in card
    assert "vector 0.400" in card and "words –" in card and "rerank" not in card


def test_scores_show_the_word_score_beside_the_vector_one() -> None:
    # The passage shown was chosen by meaning; the file matched the words in another one.
    result = {"path": "/n/a.md", "score": 0.3, "vector_score": 0.61, "keyword_score": None, "word_score": 7.25,
              "rerank_score": None, "page": None, "snippet": "x", "highlights": [], "context": "", "text": ""}
    assert "vector 0.610 · words 7.250" in render.card(result, 1, show_scores=True)
    assert "words" not in render.card(result, 1, show_scores=False)


def test_progress_shows_bar_counts_and_time_left() -> None:
    library = LibraryView(
        folders=[], busy=True, running=["/docs"], notice=None, error=None, last_run=None, last_change=None,
        watch_error=None, indexed_files=0, chunks=0,
        progress={"files_total": 200, "files_done": 50, "files_queued": 150, "files_failed": 2, "chunks_done": 400,
                  "chunks_per_second": 12.5, "eta_seconds": 600.0, "current": "/docs/a.pdf"},
    )
    loader = LoaderView("ready", "Ready", 3.0, 0, "cpu float32", None, "none", None)
    html = render_library.progress(library, loader)
    assert "Reading 50 of 200 files" in html and "about 10 min left" in html
    assert 'aria-valuenow="25"' in html and "2 failed" in html and "/docs/a.pdf" in html
    assert "Reading 50 of 200" in render.pill(loader, library)
    # then the meaning phase: passages embedded, the time left from tokens, the file being embedded
    embedding = dataclasses.replace(library, progress=None, running=[], busy=False, embedding={
        "chunks_total": 1000, "chunks_done": 250, "chunks_per_second": 20.0, "eta_seconds": 90.0,
        "current": "/docs/b.md", "phase": "meaning"})
    html = render_library.progress(embedding, loader)
    assert "Embedding 250 of 1,000 passages" in html and "about 2 min left" in html and "/docs/b.md" in html
    assert "searchable by its words" in html and 'aria-valuenow="25"' in html
    assert "Embedding 250 of 1,000" in render.pill(loader, embedding)
    downloading = LoaderView("loading", "Loading the embedding model Qwen3-Embedding-0.6B", 12.0, 340_000_000, "", None, "waiting", None)
    assert "Downloading the embedding model Qwen3-Embedding-0.6B · 340 MB so far · 12 s" in render.pill(downloading)


# -- settings: a file in the data folder, below options and variables ------------------------------


def test_settings_file_sits_below_options_and_variables(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert saved_settings(isolated_env) == {}
    save_settings(isolated_env, {"embedding_model": "Qwen/Qwen3-Embedding-4B", "device": "cpu", "dim": 256, "rerank_top": 5})
    save_settings(isolated_env, {"dim": None})  # merges; None removes
    assert json.loads((isolated_env / "settings.json").read_text()) == {
        "embedding_model": "Qwen/Qwen3-Embedding-4B", "device": "cpu", "rerank_top": 5,
    }
    settings = Settings.resolve()
    assert (settings.embedding_model, settings.device, settings.dim, settings.rerank_top) == (
        "Qwen/Qwen3-Embedding-4B", "cpu", None, 5,
    )
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", "Qwen/Qwen3-Embedding-8B")
    assert Settings.resolve().embedding_model == "Qwen/Qwen3-Embedding-8B"
    assert Settings.resolve(embedding_model="Qwen/Qwen3-Embedding-0.6B").embedding_model == "Qwen/Qwen3-Embedding-0.6B"
    assert setting_sources(device="cuda") == {
        "embedding_model": "FATHOM_EMBEDDING_MODEL", "reranker_model": "default", "device": "option",
        "dim": "default", "rerank_top": "settings file", "embedding_url": "default", "reranker_url": "default",
        "query_format": "default", "reranker_format": "default",
    }
    (isolated_env / "settings.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FathomError, match="settings.json.*delete it"):
        Settings.resolve()
    (isolated_env / "settings.json").write_text('{"dim": "wide"}', encoding="utf-8")
    with pytest.raises(FathomError, match="dim in .* whole number"):
        Settings.resolve()


def test_saving_settings_on_the_page(runtime: Runtime, tmp_path: Path, minilm_path: str) -> None:
    added(runtime, write_corpus(tmp_path / "docs"))
    form = settings_actions.SettingsForm(minilm_path, "none", "auto", None, 7)
    outcome = settings_actions.save(runtime, form)
    assert outcome.saved and not outcome.confirm
    assert saved_settings(runtime.settings.data_dir)["rerank_top"] == 7
    assert Settings.resolve().rerank_top == 7 and runtime.settings.rerank_top == 7

    bad = settings_actions.save(runtime, settings_actions.SettingsForm(str(tmp_path / "no-model"), "none", "auto", None, 7))
    assert not bad.saved and "no folder at" in bad.message
    bad = settings_actions.save(runtime, settings_actions.SettingsForm(minilm_path, "none", "auto", 2.5, 7))
    assert not bad.saved and "whole number" in bad.message

    rebuild = settings_actions.SettingsForm(minilm_path, "none", "auto", 128, 7)
    ask = settings_actions.save(runtime, rebuild)  # a new dimension re-embeds everything: ask first
    assert ask.confirm and not ask.saved and f"all {len(CORPUS)} indexed files" in ask.message
    assert saved_settings(runtime.settings.data_dir).get("dim") is None
    done = settings_actions.save(runtime, rebuild, confirmed=True)
    assert done.saved and "Rebuilding the index" in done.message
    assert runtime.settings.dim == 128 and Settings.resolve().dim == 128
    assert runtime.loader.wait(60) and runtime.library.wait_idle(60)
    assert not runtime.loader.failed
    assert runtime.engine.store.embedding_space().dimension == 128
    assert runtime.library.view().indexed_files == len(CORPUS)


# -- who may see the page ---------------------------------------------------------------------------------


def test_passwords_come_from_options_variable_and_file(tmp_path: Path) -> None:
    secrets = tmp_path / "users.txt"
    secrets.write_text("# who may search\n\nanna:correct horse:battery\n bo:pw \n", encoding="utf-8")
    assert credentials(["me:pw"], str(secrets), "env:one,env2:two") == [
        ("me", "pw"), ("env", "one"), ("env2", "two"), ("anna", "correct horse:battery"), ("bo", "pw"),
    ]
    with pytest.raises(FathomError, match="USER:PASSWORD"):
        credentials(["nopassword"])
    with pytest.raises(FathomError, match="USER:PASSWORD") as error:
        credentials([":hunter2"])  # no user: the message must not print the password
    assert "hunter2" not in str(error.value)
    with pytest.raises(FathomError, match=r"line 2 of .*users.txt"):
        secrets.write_text("a:b\nbroken\n", encoding="utf-8")
        credentials(auth_file=str(secrets))
    with pytest.raises(FathomError, match="Cannot read the credentials file"):
        credentials(auth_file=str(tmp_path / "missing.txt"))


def test_no_share_link_or_open_address_without_a_password() -> None:
    with pytest.raises(FathomError, match="Refusing to make a share link without a password"):
        check_exposure("127.0.0.1", share=True, auth=[])
    with pytest.raises(FathomError, match="Refusing to listen on 0.0.0.0") as refused:
        check_exposure("0.0.0.0", share=False, auth=[])
    # the settings it names are marked: the CLI words them as its flags, the page never shows them
    assert "[[auth_file FILE]]" in str(refused.value) and "[[host]]" in str(refused.value)
    assert ("Add --auth-file FILE (USER:PASSWORD lines), set FATHOM_AUTH=USER:PASSWORD or add --auth USER:PASSWORD, "
            "or leave --host out") in worded(str(refused.value), Terminal("python app.py"))
    check_exposure("127.0.0.1", share=False, auth=[])
    check_exposure("0.0.0.0", share=True, auth=[("a", "a-long-passphrase")])
    assert is_loopback("localhost") and is_loopback("::1") and not is_loopback("192.168.1.5")


def test_serve_refuses_to_share_without_a_password(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import search.page

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(search.page, "serve", lambda settings, **kw: calls.append(kw) or 0)
    monkeypatch.delenv("FATHOM_AUTH", raising=False)
    code, _, err = run_cli(capsys, "serve", "--share")
    assert code == 1 and "Refusing to make a share link without a password" in err and not calls
    code, _, err = run_cli(capsys, "--host", "0.0.0.0", "--port", "8123")
    assert code == 1 and "Refusing to listen on 0.0.0.0" in err and not calls

    monkeypatch.setenv("FATHOM_AUTH", "anna:secret-enough-for-a-link")
    code, _, err = run_cli(capsys, "serve", "--share", "--port", "8123", "--no-browser")
    assert code == 0, err
    (call,) = calls
    assert call["share"] and call["auth"] == [("anna", "secret-enough-for-a-link")] and call["port"] == 8123
    assert call["host"] == "127.0.0.1" and not call["open_browser"]


def test_the_page_paints_before_torch_is_imported(isolated_env: Path) -> None:
    """Building the whole page imports Gradio but neither torch nor transformers."""
    script = (
        "import sys, app\n"
        "from search.config import Settings\n"
        "from search.page.runtime import Runtime\n"
        "from search.page.layout import build\n"
        "rt = Runtime(Settings.resolve())\n"
        "build(rt)\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
        "rt.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_page_answers_terminal_searches_once_its_model_is_loaded(runtime: Runtime, isolated_env: Path) -> None:
    from search.channel import ask, serving, socket_path

    assert serving(isolated_env)["role"] == "page"
    runtime.loader._state = "loading"  # as while a model loads: the terminal searches by itself
    (answer,) = ask(socket_path(isolated_env), {"version": 1, "settings": {}, "queries": ["bread"]})
    assert "declined" in answer
