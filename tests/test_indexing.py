"""Indexing keeps the store true to the disk, and bad files never cost the good ones."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from typing import Any

from conftest import CORPUS, FakeEmbedder, execute, json_lines, run_cli, write_corpus
from pdf_fixtures import write_corrupt_pdf, write_encrypted_pdf, write_text_pdf
from search.errors import ExtractError
from search.ingest.indexer import Indexer, IndexReport, Progress
from search.query import SearchOptions, search
from search.wording import Terminal, worded
from storage import EmbeddingSpace, StorageError, Store, open_store


def make_indexer(tmp_path: Path, embedder: FakeEmbedder, database: Path | str | None = None, **kwargs: Any) -> Indexer:
    store = open_store(database or tmp_path / "index.db")
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    return Indexer(store, embedder, chunk_tokens=kwargs.pop("chunk_tokens", 64), overlap_tokens=8, **kwargs)


def counts(store: Store) -> tuple[int, int, int]:
    """Chunks, vectors and keyword rows (FTS5's, or PostgreSQL's tsvectors): they must always agree."""
    if hasattr(store, "_pool"):
        (row,) = execute(store, "SELECT COUNT(*), (SELECT COUNT(*) FROM chunk_vectors), COUNT(keywords) FROM chunks")
        return row
    conn = store._conn
    return (
        conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM chunk_vectors").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM chunks_fts_docsize").fetchone()[0],
    )


def paths_found(store: Store, query: str, embedder: FakeEmbedder) -> list[str]:
    return [r.path for r in search(store, query, SearchOptions(k=20, rerank=False), embedder)]


def test_second_run_embeds_only_what_changed(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = make_indexer(tmp_path, fake_embedder, database)
    first = indexer.index_folders([root])
    assert first.added == len(CORPUS) and first.failed == []

    fake_embedder.calls.clear()
    again = indexer.index_folders([root])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, len(CORPUS), 0)
    assert fake_embedder.calls == []

    # A new mtime with the same bytes: the hash says nothing changed.
    os.utime(root / "pets/cat.txt", ns=(1, 1))
    touched = indexer.index_folders([root])
    assert (touched.updated, touched.unchanged) == (0, len(CORPUS))
    assert fake_embedder.calls == []

    (root / "pets/cat.txt").write_text("Our parrot repeats every word of the podcast.", encoding="utf-8")
    edited = indexer.index_folders([root])
    assert (edited.updated, edited.unchanged) == (1, len(CORPUS) - 1)
    assert sum(fake_embedder.calls) == edited.chunks
    assert str(root / "pets/cat.txt") in paths_found(indexer.store, "parrot podcast", fake_embedder)
    assert "veterinarian" not in " ".join(
        r.text for r in search(indexer.store, "veterinarian", SearchOptions(mode="keyword", rerank=False))
    )
    assert counts(indexer.store)[0] == counts(indexer.store)[1] == counts(indexer.store)[2]


def test_deleted_and_renamed_files_leave_the_index(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = make_indexer(tmp_path, fake_embedder, database)
    indexer.index_folders([root])
    (root / "garden/tomatoes.md").unlink()
    (root / "pets/cat.txt").rename(root / "pets/kitty.txt")
    report = indexer.index_folders([root])
    assert report.removed == 2 and report.added == 1
    found = paths_found(indexer.store, "tomatoes seedlings frost cat vaccination", fake_embedder)
    assert str(root / "garden/tomatoes.md") not in found
    assert str(root / "pets/cat.txt") not in found
    assert str(root / "pets/kitty.txt") in found
    stats = indexer.store.stats()
    assert stats.files == len(CORPUS) - 1
    assert counts(indexer.store)[0] == counts(indexer.store)[1] == counts(indexer.store)[2]


def test_chunks_of_many_files_are_embedded_together(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = make_indexer(tmp_path, fake_embedder, batch_chunks=1000)
    indexer.index_folders([root])
    assert fake_embedder.calls == [len(CORPUS)]  # one short chunk per file, one call


def test_long_file_is_chunked_with_offsets(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    text = "\n\n".join(f"Paragraph {i} talks about topic number {i} in some detail." for i in range(200))
    (root / "long.md").write_text(text, encoding="utf-8")
    indexer = make_indexer(tmp_path, fake_embedder, chunk_tokens=40)
    report = indexer.index_folders([root])
    assert report.chunks > 20
    hits = search(indexer.store, "topic number 137", SearchOptions(mode="keyword", rerank=False))
    assert hits and "137" in hits[0].text
    assert text[hits[0].start : hits[0].end] == hits[0].text


def test_bad_files_are_recorded_and_the_rest_indexed(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    write_corrupt_pdf(root / "broken.pdf")
    write_encrypted_pdf(root / "locked.pdf", "secret salaries of everyone")
    (root / "binary.txt").write_bytes(b"\x7fELF\x00\x00\x01\x02" * 100)
    (root / "huge.txt").write_text("big " * 5000, encoding="utf-8")
    (root / "empty.md").write_text("", encoding="utf-8")
    indexer = make_indexer(tmp_path, fake_embedder, max_file_bytes=10_000)
    report = indexer.index_folders([root])
    reasons = dict(report.failed)
    assert set(reasons) == {str(root / n) for n in ("broken.pdf", "locked.pdf")}
    assert "corrupt" in reasons[str(root / "broken.pdf")]
    assert "encrypted" in reasons[str(root / "locked.pdf")]
    skips = dict(report.skipped)
    assert set(skips) == {str(root / n) for n in ("binary.txt", "huge.txt")}
    assert "binary" in skips[str(root / "binary.txt")]
    assert "limit" in skips[str(root / "huge.txt")]
    assert report.added == len(CORPUS) + 1  # the empty file is indexed, with no chunks
    stats = indexer.store.stats()
    assert sorted(stats.failed) == sorted(report.failed)
    assert sorted(stats.skipped) == sorted(report.skipped)
    # A failed file is not retried until it changes...
    again = indexer.index_folders([root])
    assert again.failed == []
    # ...and once it is fixed, it is indexed and no longer listed as failed.
    (root / "binary.txt").write_text("now it is text about llamas", encoding="utf-8")
    fixed = indexer.index_folders([root])
    assert fixed.updated == 1
    assert str(root / "binary.txt") not in dict(indexer.store.stats().failed)


def test_pdf_pages_through_the_cli(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_corpus(tmp_path / "docs")
    write_text_pdf(root / "manual.pdf", [
        "Chapter one introduces the washing machine and its control panel.",
        "Chapter two: to descale the coffee maker, fill the tank with vinegar and run two cycles.",
        "Chapter three covers warranty terms and customer service.",
    ])
    write_corrupt_pdf(root / "broken.pdf")
    write_encrypted_pdf(root / "locked.pdf", "secret")
    common = ["--embedding-model", minilm_path, "--reranker-model", "none"]
    code, out, err = run_cli(capsys, "index", str(root), *common)
    assert code == 0, err
    assert "failed: " + str(root / "broken.pdf") in out
    code, out, _ = run_cli(capsys, "search", "how to descale the coffee maker with vinegar", "--json", *common)
    best = json_lines(out)[0]["results"][0]
    assert best["path"] == str(root / "manual.pdf")
    assert best["page"] == 2
    code, out, _ = run_cli(capsys, "status", "--json", *common)
    failed = {f["path"]: f["error"] for f in json.loads(out)["failed"]}
    assert set(failed) == {str(root / "broken.pdf"), str(root / "locked.pdf")}
    assert "encrypted" in failed[str(root / "locked.pdf")]


def test_unreadable_folder_is_reported_and_skipped(tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_corpus(tmp_path / "docs")
    locked = root / "private"
    locked.mkdir()
    (locked / "diary.txt").write_text("dear diary", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:  # root ignores chmod, so refuse by hand
        if Path(os.fsdecode(path)) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    indexer = make_indexer(tmp_path, fake_embedder)
    report = indexer.index_folders([root])
    assert report.unreadable == [(str(locked), "Permission denied")]
    assert report.added == len(CORPUS)
    listed = [(i.path, i.reason, i.is_folder) for i in indexer.store.stats().ignored]
    assert listed == [(str(locked), "cannot be read: Permission denied", True)]


def test_hidden_and_tool_folders_are_skipped(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    for rel in (".git/notes.txt", "node_modules/pkg/readme.md", ".hidden.md", "__pycache__/x.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("should not be indexed", encoding="utf-8")
    report = make_indexer(tmp_path, fake_embedder).index_folders([root])
    assert report.added == len(CORPUS)


def test_a_full_disk_stops_cleanly_and_loses_nothing(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("small note about apples", encoding="utf-8")
    indexer = make_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    before = counts(indexer.store)
    # SQLite's own page limit gives the real "database or disk is full" error.
    pages = indexer.store._conn.execute("PRAGMA page_count").fetchone()[0]
    indexer.store._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    (root / "b.txt").write_text(" ".join(f"word{i}" for i in range(30_000)), encoding="utf-8")
    with pytest.raises(StorageError, match="disk .* is full"):
        indexer.index_folders([root])
    assert counts(indexer.store) == before
    assert paths_found(indexer.store, "apples", fake_embedder) == [str(root / "a.txt")]


def test_an_interruption_never_leaves_half_a_file(tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = make_indexer(tmp_path, fake_embedder, batch_chunks=1)
    real_insert = Store.write_file
    calls = {"n": 0}

    def write_then_die(self: Store, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            # die in the middle of the third file's transaction, in the words phase
            original = self._conn.execute

            def execute(sql: str, params: object = ()) -> object:
                if sql.startswith("INSERT INTO chunks_fts"):
                    raise KeyboardInterrupt
                return original(sql, params)

            self._conn = _ConnProxy(self._conn, execute)
            try:
                return real_insert(self, *args, **kwargs)
            finally:
                self._conn = self._conn.inner
        return real_insert(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_file", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        indexer.index_folders([root])
    assert indexer.store.stats().files == 2
    chunks, vectors, fts = counts(indexer.store)
    assert chunks == fts and vectors == 0  # searchable by their words; the meaning phase never began
    monkeypatch.setattr(Store, "write_file", real_insert)
    report = indexer.index_folders([root])
    assert report.added == len(CORPUS) - 2 and report.unchanged == 2
    chunks, vectors, fts = counts(indexer.store)
    assert chunks == vectors == fts


def test_an_interruption_of_the_meaning_phase_is_finished_by_the_next_run(
    tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, database: Path | str
) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = make_indexer(tmp_path, fake_embedder, database, batch_chunks=2)
    Store = type(indexer.store)  # the backend's own class
    real_write = Store.write_vectors
    calls = {"n": 0}

    def die_on_the_third(self: Store, *args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_vectors", die_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        indexer.index_folders([root])
    chunks, vectors, fts = counts(indexer.store)
    assert chunks == fts == len(CORPUS) and vectors == 4  # two batches of two stored, whole
    assert indexer.store.pending_work().chunks == len(CORPUS) - 4
    assert all(v is True or v == 0 for v in indexer.store.integrity().values())
    monkeypatch.setattr(Store, "write_vectors", real_write)
    report = indexer.index_folders([root])
    assert report.unchanged == len(CORPUS) and report.chunks == len(CORPUS) - 4
    assert counts(indexer.store) == (len(CORPUS),) * 3 and indexer.store.pending_work().chunks == 0


class _ConnProxy:
    """The store's connection with `execute` replaced, everything else passed through."""

    def __init__(self, inner: object, execute: object):
        self.inner = inner
        self.execute = execute

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_progress_counts_files_and_chunks(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    seen: list[tuple[int, int]] = []
    progress = Progress(listener=lambda p: seen.append((p.files_done, p.files_total)))
    make_indexer(tmp_path, fake_embedder).index_folders([root], progress)
    assert progress.files_done == progress.files_total == len(CORPUS)
    assert progress.chunks_done >= len(CORPUS)
    assert seen[-1] == (len(CORPUS), len(CORPUS))


# -- every file accounted for ---------------------------------------------------------------------

PLAIN_TEXT_NAMES = [
    "README.Debian", "AUTHORS", "sshd_config", "NEWS", "gcc.changelog", "Makefile", "Dockerfile",
    "app.conf", "setup.cfg", "tox.ini", "server.log", "paper.tex", "groceries",
]


def files_on_disk(root: Path, never_entered: set[str]) -> int:
    """Files under root, as `find` counts them, outside the folders never entered."""
    count = 0
    for here, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if str(Path(here) / d) not in never_entered]
        count += len(names)
    return count


def test_every_text_file_is_indexed_whatever_its_name_and_every_file_is_accounted_for(
    tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    root = tmp_path / "debian"
    root.mkdir()
    for i, name in enumerate(PLAIN_TEXT_NAMES):
        (root / name).write_text(f"{name}: plain text, and the word only it holds is uniqword{i}.\n", encoding="utf-8")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 8)
    (root / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(256) * 8)
    (root / ".hidden-notes").write_text("uniqword-hidden", encoding="utf-8")
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}', encoding="utf-8")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.js").write_text("module.exports = 1;", encoding="utf-8")

    code, out, err = run_cli(capsys, "index", str(root))
    assert code == 0, err
    for i, name in enumerate(PLAIN_TEXT_NAMES):
        code, out, _ = run_cli(capsys, "search", f"uniqword{i}", "--mode", "keyword", "--json")
        assert [r["path"] for r in json_lines(out)[0]["results"]] == [str(root / name)], name

    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    skipped = {item["path"]: item["error"] for item in status["skipped"]}
    assert skipped == {
        str(root / "photo.jpg"): "binary file (contains NUL bytes), not text",
        str(root / "program"): "binary file (contains NUL bytes), not text",
    }
    ignored = {item["path"]: (item["reason"], item["folder"]) for item in status["ignored"]}
    assert ignored == {
        str(root / ".hidden-notes"): ("a hidden file", False),
        str(root / "package-lock.json"): ("a lock file (not a document)", False),
        str(root / "node_modules"): ("dependencies", True),
    }
    (folder,) = status["folders"]
    assert (folder["indexed"], folder["failed"], folder["skipped"], folder["ignored"], folder["ignored_folders"]) == (
        len(PLAIN_TEXT_NAMES), 0, 2, 2, 1
    )
    on_disk = files_on_disk(root, never_entered={str(root / "node_modules")})
    assert folder["indexed"] + folder["failed"] + folder["skipped"] + folder["ignored"] == on_disk
    assert folder["files"] == folder["indexed"] + folder["failed"] + folder["skipped"]

    code, out, _ = run_cli(capsys, "status")
    assert f"{on_disk} files: {len(PLAIN_TEXT_NAMES)} indexed, 0 failed, 2 skipped, 2 ignored; 1 folder(s) never entered" in out
    assert f"  {root / 'photo.jpg'}: binary file (contains NUL bytes), not text" in out
    assert f"  {root / 'node_modules'}/: dependencies" in out


def test_what_is_left_out_follows_the_disk(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    (root / ".draft.md").write_text("hidden", encoding="utf-8")
    indexer = make_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    assert [i.path for i in indexer.store.stats().ignored] == [str(root / ".draft.md")]
    (root / ".draft.md").rename(root / "draft.md")
    indexer.index_folders([root])
    stats = indexer.store.stats()
    assert stats.ignored == [] and stats.indexed == len(CORPUS) + 1
    # the watcher's rescan of an unchanged folder writes nothing
    generation = indexer.store._generation()
    indexer.update_paths([root])
    assert indexer.store._generation() == generation


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_ignored_not_read(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    os.mkfifo(root / "pipe")  # reading it would wait for a writer forever
    report = make_indexer(tmp_path, fake_embedder).index_folders([root])
    assert report.added == len(CORPUS) and report.ignored == 1


# -- retry --------------------------------------------------------------------------------------


def test_a_raised_size_limit_retries_what_it_skipped(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    (root / "long.txt").write_text("a long walk along the fjord " * 100, encoding="utf-8")  # 2,800 bytes
    strict = make_indexer(tmp_path, fake_embedder, max_file_bytes=2_000)
    (path, reason), = strict.index_folders([root]).skipped
    assert path == str(root / "long.txt")
    assert worded(reason, Terminal("python app.py")) == "larger than the 0.002 MB limit (0.0 MB; raise it with --max-file-size)"
    assert strict.index_folders([root]).skipped == []  # unchanged, same limit: not read again
    raised = Indexer(strict.store, fake_embedder, chunk_tokens=64, overlap_tokens=8, max_file_bytes=3_000)
    report = raised.index_folders([root])
    assert (report.updated, report.skipped) == (1, [])
    assert paths_found(raised.store, "fjord", fake_embedder)[0] == str(root / "long.txt")
    assert raised.store.stats().skipped == []


def test_failed_files_are_tried_again_by_readers_that_read_more(
    tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.ingest.parsing import Parser

    root = write_corpus(tmp_path / "docs")
    (root / "page.html").write_text("<p>The lighthouse keeper's diary</p>", encoding="utf-8")
    old = Parser(reader="hostile_readers:not_yet")
    try:
        before = make_indexer(tmp_path, fake_embedder, parser=old)
        assert [p for p, _ in before.index_folders([root]).failed] == [str(root / "page.html")]
    finally:
        old.close()
    same = Indexer(before.store, fake_embedder, chunk_tokens=64, overlap_tokens=8)
    assert same.index_folders([root]).unchanged == len(CORPUS) + 1  # same readers: not retried
    import search.ingest.indexer

    monkeypatch.setattr(search.ingest.indexer, "READERS_VERSION", search.ingest.indexer.READERS_VERSION + 1)
    newer = Indexer(same.store, fake_embedder, chunk_tokens=64, overlap_tokens=8)  # a later release
    report = newer.index_folders([root])
    assert (report.updated, report.failed) == (1, [])
    assert paths_found(newer.store, "lighthouse keeper", fake_embedder)[0] == str(root / "page.html")


def test_index_retry_tries_failed_files_again(
    tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import search.ingest.extract as extract_module

    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    root = write_corpus(tmp_path / "docs")
    (root / "flaky.txt").write_text("Notes from the network share about the glacier", encoding="utf-8")
    real = extract_module.decode_text

    def share_hiccup(data: bytes, declared: str | None = None) -> str:
        if b"glacier" in data:
            raise ExtractError("cannot read the file: the network share went away")
        return real(data, declared)

    monkeypatch.setattr(extract_module, "decode_text", share_hiccup)
    assert run_cli(capsys, "index", str(root))[0] == 0
    monkeypatch.setattr(extract_module, "decode_text", real)  # the share is back
    code, out, _ = run_cli(capsys, "index", "--json")
    assert json.loads(out)["unchanged"] == len(CORPUS) + 1  # nothing changed: not retried
    code, out, err = run_cli(capsys, "index", "--retry", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["updated"], report["failed"]) == (1, [])
    code, out, _ = run_cli(capsys, "search", "glacier", "--mode", "keyword", "--json")
    assert json_lines(out)[0]["results"][0]["path"] == str(root / "flaky.txt")


# -- a folder removed while it is indexed -----------------------------------------------------------


@pytest.mark.parametrize("phase", ["words", "meaning"])
def test_removing_a_folder_while_it_is_indexed_leaves_nothing_of_it(
    tmp_path: Path, isolated_env: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, phase: str,
    database: Path | str,
) -> None:
    """`folders remove` from another process while this one is half-way through the folder, in
    either phase: no error, and no row of the folder is left behind or written after."""
    import subprocess
    import sys
    import threading

    root = tmp_path / "docs"
    root.mkdir()
    for i in range(60):
        (root / f"note{i}.txt").write_text(f"note number {i} about the heron", encoding="utf-8")
    if isinstance(database, str):  # PostgreSQL: the CLI finds it in the environment
        monkeypatch.setenv("FATHOM_DATABASE_URL", database)
    store = open_store(database if isinstance(database, str) else isolated_env / "fathom.db")  # the CLI's
    Store = type(store)
    store.set_embedding_space(EmbeddingSpace(fake_embedder.name, fake_embedder.dimension))
    half_way, removed = threading.Event(), threading.Event()
    calls = {"n": 0}

    def pause_half_way(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 5:
                half_way.set()
                assert removed.wait(60)
            return real(*args, **kwargs)

        return call

    if phase == "words":
        monkeypatch.setattr(Store, "write_file", pause_half_way(Store.write_file))
    else:
        fake_embedder.embed_documents = pause_half_way(fake_embedder.embed_documents)  # type: ignore[method-assign]
    indexer = Indexer(store, fake_embedder, chunk_tokens=64, overlap_tokens=8, batch_chunks=4)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(indexer.index_folders([root]))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert half_way.wait(60)
    if phase == "words":
        assert 0 < store.stats().indexed < 60
    else:
        assert store.stats().indexed == 60 and 0 < store.pending_work().files < 60
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "app.py", "folders", "remove", str(root)], cwd=repo, capture_output=True, text=True
    )
    removed.set()
    thread.join(60)
    assert done.returncode == 0, done.stderr
    (report,) = outcome
    assert isinstance(report, IndexReport), report
    if phase == "words":
        assert report.folders_removed == [str(root)]
    stats = store.stats()
    assert (stats.folders, stats.files, stats.chunks, stats.ignored) == ([], 0, 0, [])
    assert store.files_under(str(root)) == []
    assert execute(store, "SELECT COUNT(*) FROM chunk_codes" if hasattr(store, "_conn") else
                   "SELECT COUNT(*) FROM chunk_vectors") == [(0,)]
    assert all(v is True or v == 0 for v in store.integrity().values())
    store.close()
