"""Text embedded once is not embedded again: a copy, a re-index, a file deleted and put back,
an edit in one place take the vectors already made for their texts (both backends)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from conftest import CORPUS, FakeEmbedder, execute, write_corpus
from search.ingest.indexer import Indexer
from search.ingest.meaning import MeaningPhase
from storage import ChunkRow, EmbeddingSpace, Store, open_store

LONG = "\n\n".join(
    f"Paragraph {i} about the {word} and what it does in the lighthouse keeper's logbook today."
    for i, word in enumerate(["lamp", "lens", "gallery", "stairs", "fog horn", "radio", "boat", "tides"])
)


def make_indexer(tmp_path: Path, embedder: FakeEmbedder, database: Path | str) -> Indexer:
    store = open_store(database)
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    return Indexer(store, embedder, chunk_tokens=24, overlap_tokens=4)


def vectors_by_text(store: Store) -> dict[tuple[str, str], bytes]:
    """Each chunk's (path, text) -> its vector, as stored."""
    if hasattr(store, "_pool"):
        rows = execute(store, "SELECT f.path, c.text, v.embedding::real[] FROM chunks c JOIN files f ON f.id = c.file_id "
                              "JOIN chunk_vectors v ON v.chunk_id = c.id")
        return {(p, t): np.asarray(v, dtype=np.float32).tobytes() for p, t, v in rows}
    rows = store._conn.execute("SELECT f.path, c.text, v.embedding FROM chunks c JOIN files f ON f.id = c.file_id "
                               "JOIN chunk_vectors v ON v.rowid = c.id").fetchall()
    return {(p, t): bytes(v) for p, t, v in rows}


def test_a_copied_folder_is_embedded_without_the_model(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    root = write_corpus(tmp_path / "docs", {**CORPUS, "logbook.md": LONG})
    indexer = make_indexer(tmp_path, fake_embedder, database)
    indexer.index_folders([root])
    assert sum(fake_embedder.calls) > len(CORPUS)  # the long file has several chunks
    fake_embedder.calls.clear()

    copy = shutil.copytree(root, tmp_path / "copy")
    report = indexer.index_folders([copy])
    assert report.added == len(CORPUS) + 1
    assert fake_embedder.calls == []
    store = indexer.store
    assert store.pending_work().chunks == 0 and store.pending_work().files == 0
    stored = vectors_by_text(store)
    copied = {(p, t): v for (p, t), v in stored.items() if p.startswith(str(copy))}
    assert len(copied) == len(stored) / 2
    for (path, text), vector in copied.items():
        assert vector == stored[(str(root) + path[len(str(copy)):], text)]
    # every copied file counts as embedded: it has its file-level vectors too
    assert all(r.embedded for r in store.chunks([c for c, _ in store.keyword_chunks(store.keyword_match("lighthouse"), 50)]).values())


def test_reindex_and_a_file_put_back_cost_no_model_time(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    root = write_corpus(tmp_path / "docs", {**CORPUS, "logbook.md": LONG})
    indexer = make_indexer(tmp_path, fake_embedder, database)
    indexer.index_folders([root])
    before = vectors_by_text(indexer.store)
    fake_embedder.calls.clear()

    indexer.index_folders([root], fresh=[root])  # Re-index: every file read again
    assert fake_embedder.calls == []
    assert vectors_by_text(indexer.store) == before

    saved = (root / "logbook.md").read_text(encoding="utf-8")
    (root / "logbook.md").unlink()
    assert indexer.index_folders([root]).removed == 1
    (root / "logbook.md").write_text(saved, encoding="utf-8")
    assert indexer.index_folders([root]).added == 1
    assert fake_embedder.calls == []
    assert vectors_by_text(indexer.store) == before


def test_an_edit_in_one_place_embeds_only_what_changed(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    root = write_corpus(tmp_path / "docs", {"logbook.md": LONG})
    indexer = make_indexer(tmp_path, fake_embedder, database)
    first = indexer.index_folders([root])
    fake_embedder.calls.clear()
    (root / "logbook.md").write_text(LONG.replace("fog horn", "foghorn signal"), encoding="utf-8")
    edited = indexer.index_folders([root])
    assert edited.updated == 1
    assert 0 < sum(fake_embedder.calls) < first.chunks / 2
    assert indexer.store.pending_work().chunks == 0


def test_copies_waiting_together_are_embedded_once(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    store = open_store(database)
    store.set_embedding_space(EmbeddingSpace(fake_embedder.name, fake_embedder.dimension))
    folder = store.add_folder("/n")
    rows = [ChunkRow(0, 0, 10, None, "the lamp is lit at dusk", context="Log"),
            ChunkRow(1, 10, 20, None, "the lens is polished", context="Log")]
    for name in ("a.md", "b.md", "c.md"):
        store.write_file(folder.id, f"/n/{name}", 1, 1, name, rows)
    assert store.pending_work().chunks == 6
    MeaningPhase(store, fake_embedder, "any", batch_chunks=2).run()
    assert sum(fake_embedder.calls) == 2  # two texts, whatever the batches
    assert store.pending_work().chunks == 0 and store.pending_work().files == 0


def test_a_new_model_never_takes_the_old_vectors(tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str) -> None:
    store = open_store(database)
    store.set_embedding_space(EmbeddingSpace("old-model", fake_embedder.dimension))
    folder = store.add_folder("/n")
    vector = np.ones(fake_embedder.dimension, dtype=np.float32) / 8
    store.write_file(folder.id, "/n/a.md", 1, 1, "a", [ChunkRow(0, 0, 4, None, "lamp", vector.tobytes())])
    store.write_file(folder.id, "/n/a.md", 2, 2, "a2", [ChunkRow(0, 0, 4, None, "lens")])  # "lamp" goes loose
    store.set_embedding_space(EmbeddingSpace("new-model", fake_embedder.dimension))
    store.write_file(folder.id, "/n/b.md", 1, 1, "b", [ChunkRow(0, 0, 4, None, "lamp")])
    assert store.pending_work().chunks == 2  # neither the live nor the loose vector of the old model


def test_sqlite_migration_9_keys_old_chunks_by_their_text(tmp_path: Path) -> None:
    """A database of schema 8 gets the text keys of its chunks, equal to those new chunks get."""
    from storage.sqlite import connect
    from storage.sqlite.migrations import SCHEMA_VERSION, migrate
    from storage.text_keys import text_key

    db = tmp_path / "v8.db"
    conn = connect(db)
    migrate(conn, stop_at=8)
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES (1, '/n', 0)")
    conn.execute("INSERT INTO files(id, folder_id, path, size, mtime_ns, sha256, status, indexed_at, embedded) "
                 "VALUES (1, 1, '/n/a.md', 1, 1, 'h', 'indexed', 0, 0)")
    conn.execute("INSERT INTO chunks(id, file_id, ordinal, start, end, text, context) VALUES (1, 1, 0, 0, 4, 'wörd', 'T')")
    conn.close()
    with Store(db) as store:
        assert store.stats().schema_version == SCHEMA_VERSION
        assert store._conn.execute("SELECT text_key FROM chunks").fetchone()[0] == text_key("T", "wörd")
        store.set_embedding_space(EmbeddingSpace("m", 2))
        store.write_vectors([(store.pending_chunks(1)[0], np.array([1, 0], dtype=np.float32).tobytes())])
        store.write_file(store.folders()[0].id, "/n/copy.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, "wörd", context="T")])
        assert store.pending_work().chunks == 0
