"""The store at the SQL level: migrations, keyword text, filters, integrity. Tests that take the
`database` fixture run against both backends (SQLite and PostgreSQL); the others pin what only
SQLite has (its migrations, FTS5, the coarse path, VACUUM, backups)."""
from __future__ import annotations

import os
import stat
import struct
from pathlib import Path
from typing import Any

import pytest

from conftest import execute
from storage import ChunkFilter, ChunkRow, EmbeddingSpace, KeywordMatch, PendingWork, StorageError, Store, open_store
from storage.fts import query_terms, searchable_text
from storage.sqlite import connect
from storage.sqlite.connection import operational_errors
from storage.sqlite.dialect import DIALECT
from storage.sqlite.migrations import SCHEMA_VERSION, migrate


def vec(*values: float) -> bytes:
    return struct.pack(f"{len(values)}f", *values)


def older_database(path: Path, version: int, dimension: int = 2) -> Any:
    """A connection to the database Fathom left at schema `version`, with the vector table and
    embedding space a store of that time made for `dimension`-wide vectors."""
    conn = connect(path)
    migrate(conn, stop_at=version)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    conn.execute(f"CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[{dimension}] distance_metric=cosine)")
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [("embedding_model", "m"), ("embedding_dimension", str(dimension))])
    return conn


def coarse_codes(*values: float) -> tuple[bytes, bytes]:
    """A vector's two copies as storage/sqlite/coarse.py describes them: its sign bits packed in
    whole 64-bit words (up to 8 values here), and int8 scaled so its largest component is ±127."""
    bits = sum(0x80 >> i for i, v in enumerate(values) if v > 0)
    peak = max(abs(v) for v in values)
    return bytes([bits]) + bytes(7), struct.pack(f"{len(values)}b", *(round(v * 127 / peak) for v in values))


def test_a_version_1_database_is_migrated_without_losing_chunks(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = connect(db)
    migrate(conn, stop_at=1)
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES (1, '/notes', 0)")
    conn.execute(
        "INSERT INTO files(id, folder_id, path, size, mtime_ns, sha256, status, error, indexed_at) "
        "VALUES (1, 1, '/notes/a.md', 10, 1, 'x', 'indexed', NULL, 0)"
    )
    conn.execute("INSERT INTO chunks(id, file_id, ordinal, start, end, page, text) VALUES (1, 1, 0, 0, 10, NULL, 'parseDate helper')")
    conn.close()

    with Store(db) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.stats().files == 1 and store.stats().chunks == 1
        assert store.keyword_chunks(store.keyword_match("parse"), 10)[0][0] == 1  # rebuilt FTS, camelCase split
        store.record_failure(1, "/notes/b.bin", 1, 1, None, "binary file", status="skipped")
        assert store.stats().skipped == [("/notes/b.bin", "binary file")]


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    conn = connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer than this Fathom"):
        Store(db)


@pytest.mark.parametrize(
    "text, finds",
    [('"unbalanced', False), ("NEAR(a b", True), ("a AND OR NOT", True), ("*", None), ("col:umn", True),
     ("^x", True), ("(", None), ("-x", True)],
)
def test_raw_text_can_break_fts5_but_the_quoted_query_cannot(database: Path | str, text: str, finds: bool | None) -> None:
    """FTS5 syntax typed by a person raises, or finds nothing (`^x`: x first in a row); quoted
    term by term it finds the chunk by the words it holds. `finds` None: no word to search."""
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/notes")
        store.write_file(folder.id, "/notes/a.txt", 1, 1, "h", [ChunkRow(0, 0, 5, None, "hello x umn a b", vec(1, 0))])
        (chunk,) = [row[0] for row in execute(store, "SELECT id FROM chunks")]
        match = store.keyword_match(text)
        assert (match is None) == (finds is None)
        if match is not None:
            assert [cid for cid, _ in store.keyword_chunks(match, 10)] == ([chunk] if finds else [])
        if isinstance(store, Store):  # FTS5 itself, asked the raw text
            try:
                assert execute(store, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (text,)) == []
            except operational_errors():
                pass


def test_searchable_text_splits_cjk_and_camel_case() -> None:
    assert "東京 京都" in searchable_text("東京都")
    assert searchable_text("call parseDate now").endswith("\nparse Date")
    assert query_terms("東京都 parseDate") == ["東京", "京都", "parseDate", "parse", "Date"]
    assert query_terms("snake_case") == ["snake_case"]
    assert query_terms("...") == []


def test_keyword_search_finds_cjk_and_identifier_parts(database: Path | str) -> None:
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/notes")
        texts = ["東京でラーメンを食べた", "def parseDateString(value): pass", "plain english words"]
        for i, text in enumerate(texts):
            store.write_file(folder.id, f"/notes/{i}.txt", 1, 1, "h", [ChunkRow(0, 0, len(text), None, text, vec(1, 0))])
        hits = lambda q: [store.chunks([cid])[cid].path for cid, _ in store.keyword_chunks(store.keyword_match(q), 10)]
        assert hits("ラーメン") == ["/notes/0.txt"]
        assert hits("東京") == ["/notes/0.txt"]
        assert hits("date string") == ["/notes/1.txt"]
        assert hits("parse_date_string") == ["/notes/1.txt"]


def test_filters_build_sql(tmp_path: Path) -> None:
    only = ChunkFilter(folder="/a", extensions=(".md",), path_glob="note*", modified_after_ns=5)
    sql, params = DIALECT.chunk_ids_sql(only)
    assert params == ["/a/", "/a0", "%.md", "note*", 5]


def test_filters_hold_for_both_searches(database: Path | str) -> None:
    only = ChunkFilter(folder="/a", extensions=(".md",), path_glob="note*", modified_after_ns=5)
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/")
        for path, mtime in (("/a/note1.md", 10), ("/a/note2.txt", 10), ("/b/note3.md", 10), ("/a/old.md", 1),
                            ("/a/note4.md", 1), ("/a/b/Note5.MD", 10)):
            store.write_file(folder.id, path, 1, mtime, "h", [ChunkRow(0, 0, 4, None, "word", vec(1, 0))])
        paths = lambda ids: sorted(store.chunks([i for i, _ in ids])[i].path for i, _ in ids)
        assert paths(store.nearest_chunks(vec(1, 0), 10, only)) == ["/a/note1.md"]
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, only)) == ["/a/note1.md"]
        assert len(store.nearest_chunks(vec(1, 0), 10, ChunkFilter(modified_before_ns=5))) == 2
        # an extension in any case (SQLite's LIKE); a glob is case-sensitive
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(extensions=(".md",), folder="/a/b"))) == ["/a/b/Note5.MD"]
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(path_glob="N*"))) == ["/a/b/Note5.MD"]
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(path_glob="note[13].*"))) == ["/a/note1.md", "/b/note3.md"]
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(path_glob="note[^13].md"))) == ["/a/note4.md"]
        assert paths(store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(path_glob="note?.txt"))) == ["/a/note2.txt"]


@pytest.mark.parametrize(
    "glob, expected",
    [
        ("notes*", ["/h/notes.md"]),  # not the files of the folder notes-archive
        ("drafts*", []),  # a folder's name is not a file's
        ("*.md", ["/h/notes.md"]),
        ("*plan*", ["/h/drafts.md/plan.txt"]),
        ("notes-archive/*", ["/h/notes-archive/x.txt"]),  # with a "/": the path
        ("/h/notes*", ["/h/notes-archive/x.txt", "/h/notes.md"]),
    ],
)
def test_a_glob_without_a_slash_matches_the_file_name_only(database: Path | str, glob: str, expected: list[str]) -> None:
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/h")
        for path in ("/h/notes.md", "/h/notes-archive/x.txt", "/h/drafts.md/plan.txt"):
            store.write_file(folder.id, path, 1, 1, "h", [ChunkRow(0, 0, 4, None, "word", vec(1, 0))])
        hits = store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(path_glob=glob))
        assert sorted(store.chunks([i for i, _ in hits])[i].path for i, _ in hits) == expected


def test_integrity_counts_and_moves(database: Path | str, backend: str) -> None:
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        store.write_file(folder.id, "/n/x/a.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, "word", vec(1, 0))])
        store.write_file(folder.id, "/n/y/a.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, "stale", vec(0, 1))])
        assert store.move_files("/n/x", "/n/y", folder.id) == 1
        assert store.file_record("/n/y/a.md") is not None and store.file_record("/n/x/a.md") is None
        assert store.stats().files == 1 and store.keyword_chunks(KeywordMatch(("stale",)), 10) == []  # replaced by what moved
        assert all(v is True or v == 0 for v in store.integrity().values())
        if backend == "postgres":
            execute(store, "DELETE FROM chunk_vectors")
            assert store.integrity()["chunks_without_vector"] == 1
            return
        assert store.integrity() == {
            "chunks_without_vector": 0, "vectors_without_chunk": 0, "chunks_without_code": 0,
            "codes_without_chunk": 0, "chunks_without_fts": 0, "fts_without_chunk": 0,
            "files_without_file_rows": 0, "duplicate_chunks": 0, "fts_ok": True,
        }
        store._conn.execute("DELETE FROM chunk_vectors")
        assert store.integrity()["chunks_without_vector"] == 1


def test_check_repairs_and_backup_copies_while_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import app

    data = tmp_path / "data"
    data.mkdir()
    with Store(data / "fathom.db") as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        for i in range(3):
            store.write_file(folder.id, f"/n/{i}.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, f"word{i}", vec(1, 0))])
        store._conn.execute("DELETE FROM chunk_vectors WHERE rowid = 1")
        store._conn.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (99, ?)", (vec(0, 1),))
        assert app.main(["status", "--check", "--json", "--data-dir", str(data)]) == 0
        check = json.loads(capsys.readouterr().out)["check"]
        assert check["problems"]["chunks_without_vector"] == 1
        assert check["repaired"] == {"stray_vectors": 1, "stray_codes": 0, "stray_keyword_rows": 0, "files_to_reembed": 1,
                                     "files_to_reindex": 0, "file_rows_rebuilt": 0}
        assert all(v is True or v == 0 for v in check["problems_after"].values())
        # the next index run embeds it again; its words stay searchable meanwhile
        assert store.pending_work().files == 1 and [c.path for c in store.pending_chunks(10)] == ["/n/0.md"]
        assert store.keyword_chunks(KeywordMatch(("word0",)), 10)

        old = os.umask(0o022)  # the common umask: files readable by everyone unless made otherwise
        try:
            assert app.main(["backup", str(tmp_path / "copy.db"), "--data-dir", str(data)]) == 0
        finally:
            os.umask(old)
        assert "Backed up" in capsys.readouterr().out
        assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600  # the text of every file: yours only
        with Store(tmp_path / "copy.db") as copy:
            assert copy.stats().files == 3 and copy.stats().chunks == 3
        assert app.main(["backup", str(tmp_path / "copy.db"), "--data-dir", str(data)]) == 1
        assert "already exists" in capsys.readouterr().err


def test_vacuum_gives_space_back_after_deletes(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        big = "word " * 2000
        for i in range(200):
            store.write_file(folder.id, f"/n/{i}.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, big, vec(1, 0))])
        before = (tmp_path / "s.db").stat().st_size + (tmp_path / "s.db-wal").stat().st_size
        store.delete_files(r.id for r in store.files_under("/n"))
        assert store.vacuum_if_worth_it(min_free_pages=10)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert (tmp_path / "s.db").stat().st_size < before / 4


def test_the_coarse_path_finds_what_exact_search_finds_and_honours_filters(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 64))
    with Store(tmp_path / "s.db") as store:
        store.set_embedding_space(EmbeddingSpace("m", 64))
        folder = store.add_folder("/n")
        for f in range(40):
            rows = []
            for i in range(25):
                v = centres[(f * 25 + i) % 20] + 0.3 * rng.normal(size=64)
                v = (v / np.linalg.norm(v)).astype(np.float32)
                rows.append(ChunkRow(i, 0, 1, None, "x", v.tobytes()))
            store.write_file(folder.id, f"/n/{'a' if f % 2 else 'b'}/{f}.md", 1, 1, "h", rows)
        assert store.chunk_count() == 1000
        recalls = []
        for q in range(10):
            query = (centres[q] + 0.3 * rng.normal(size=64)).astype(np.float32)
            query = (query / np.linalg.norm(query)).tobytes()
            exact = {cid for cid, _ in store.nearest_chunks_exact(query, 10)}
            coarse = store.nearest_chunks_coarse(query, 10, rescore=200)
            recalls.append(len(exact & {cid for cid, _ in coarse}) / 10)
            assert [d for _, d in coarse] == sorted(d for _, d in coarse)
        assert np.mean(recalls) >= 0.9
        only = ChunkFilter(folder="/n/a")
        hits = store.nearest_chunks_coarse(query, 10, only)
        assert hits and all(store.chunks([cid])[cid].path.startswith("/n/a/") for cid, _ in hits)
        # The automatic choice: coarse above the threshold, and it sees new writes.
        store.coarse_from_chunks = 500
        store.write_file(folder.id, "/n/new.md", 1, 1, "h", [ChunkRow(0, 0, 1, None, "x", query)])
        (best, distance), *_ = store.nearest_chunks(query, 5)
        assert store.chunks([best])[best].path == "/n/new.md" and distance < 1e-3  # int8 copy


def test_migration_4_backfills_codes_for_existing_vectors(tmp_path: Path) -> None:
    db = tmp_path / "v3.db"
    conn = older_database(db, 3)
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES (1, '/n', 0)")
    conn.execute(
        "INSERT INTO files(id, folder_id, path, size, mtime_ns, sha256, status, error, indexed_at) "
        "VALUES (1, 1, '/n/a.md', 1, 1, 'h', 'indexed', NULL, 0)"
    )
    conn.execute("INSERT INTO chunks(id, file_id, ordinal, start, end, page, text, context) VALUES (1, 1, 0, 0, 4, NULL, 'word', 'a.md')")
    conn.execute("INSERT INTO chunks_fts(rowid, body) VALUES (1, 'a.md\nword')")  # written with the chunk
    conn.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (1, ?)", (vec(1, 0),))
    conn.close()
    with Store(db) as store:
        assert store.chunk_count() == 1
        assert store._conn.execute("SELECT code, q8 FROM chunk_codes WHERE id = 1").fetchone() == coarse_codes(1, 0)
        assert store._conn.execute("SELECT embedded FROM files").fetchall() == [(1,)]  # it waits for nothing
        assert store.nearest_chunks_coarse(vec(1, 0), 1)[0][1] < 1e-3
        assert all(v is True or v == 0 for v in store.integrity().values())


def test_codes_in_memory_follow_each_change_without_reading_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import storage.sqlite.base
    from storage.sqlite.coarse import CodeMatrix

    rng = np.random.default_rng(1)

    def unit() -> bytes:
        v = rng.normal(size=32)
        return (v / np.linalg.norm(v)).astype(np.float32).tobytes()

    def chunks(n: int, vector: bytes | None = None) -> list[ChunkRow]:
        return [ChunkRow(i, 0, 1, None, "x", vector or unit()) for i in range(n)]

    def in_memory(store: Store) -> list[int]:
        return sorted(int(i) for i in store._code_matrix().ids)

    def on_disk(store: Store) -> list[int]:
        return sorted(row[0] for row in store._query("SELECT id FROM chunks"))

    full_reads: list[int] = []
    read_all = CodeMatrix.from_rows.__func__
    monkeypatch.setattr(
        CodeMatrix, "from_rows", classmethod(lambda cls, *a: full_reads.append(1) or read_all(cls, *a))
    )
    db = tmp_path / "s.db"
    with Store(db) as writer, Store(db) as reader:  # the reader could be another process
        writer.set_embedding_space(EmbeddingSpace("m", 32))
        folder = writer.add_folder("/n")
        for f in range(20):
            writer.write_file(folder.id, f"/n/{f}.md", 1, 1, "h", chunks(5))
        query = unit()
        reader.nearest_chunks_coarse(query, 5)
        assert full_reads == [1]

        last = set(on_disk(writer)[-5:])
        writer.delete_files([writer.file_record("/n/19.md").id])  # the highest ids: SQLite reuses them
        writer.write_file(folder.id, "/n/new.md", 1, 1, "h", chunks(5, query))
        new = writer._query("SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = '/n/new.md'")
        assert last & {row[0] for row in new}
        writer.delete_files([writer.file_record("/n/3.md").id])
        best, distance = reader.nearest_chunks_coarse(query, 1)[0]
        assert reader.chunks([best])[best].path == "/n/new.md" and distance < 1e-3
        assert in_memory(reader) == on_disk(writer)
        assert full_reads == [1], "changes are applied by id, not by reading every code again"

        monkeypatch.setattr(storage.sqlite.base, "CODE_LOG_KEEP", 3)  # the log forgets what the reader missed
        for f in range(4):
            writer.write_file(folder.id, f"/n/more{f}.md", 1, 1, "h", chunks(5))
        assert in_memory(reader) == on_disk(writer)
        assert full_reads == [1, 1]

        chunks_before = on_disk(writer)
        writer.set_embedding_space(EmbeddingSpace("m2", 32))  # every code goes; the words stay
        assert in_memory(reader) == [] and on_disk(writer) == chunks_before


def test_files_have_keyword_rows_and_vectors_of_their_own(database: Path | str) -> None:
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/notes")
        rows = [ChunkRow(0, 0, 11, None, "alpha bravo", vec(1, 0)), ChunkRow(1, 6, 19, None, "bravo charlie", vec(0, 1))]
        store.write_file(folder.id, "/notes/travel/passport_renewal.md", 1, 1, "h", rows, title="Renewing")
        (file_id,) = [r.id for r in store.files_under("/notes")]
        assert store.keyword_files(store.keyword_match("charlie", "files"), 10)[0][0] == file_id
        assert store.name_files(store.keyword_match("passport travel renewing", "files"), 10)[0][0] == file_id
        assert store.keyword_files(store.keyword_match("passport", "files"), 10)[0][0] == file_id  # names count there too
        assert store.name_files(store.keyword_match("charlie", "files"), 10) == []  # the text is not in the name row
        opening, summary = store.file_similarities([file_id], vec(1, 0))[file_id]
        assert opening == pytest.approx(1.0, abs=1e-3)  # the first chunk
        assert summary == pytest.approx(2 ** -0.5, abs=1e-2)  # the mean of both
        store.move_files("/notes/travel", "/notes/trips", folder.id)
        assert store.name_files(store.keyword_match("trips", "files"), 10)[0][0] == file_id
        assert store.name_files(store.keyword_match("travel", "files"), 10) == []
        store.delete_files([file_id])
        assert store.keyword_files(store.keyword_match("charlie", "files"), 10) == []
        assert store.file_similarities([file_id], vec(1, 0)) == {}


def test_migration_6_builds_file_rows_from_stored_chunks_without_a_model(tmp_path: Path) -> None:
    db = tmp_path / "v5.db"
    conn = older_database(db, 5)
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES (1, '/n', 0)")
    chunks = [  # file id, path, size, sha256; its chunks: start, end, text, context, vector
        (1, "/n/guide.md", 1, "h", [(0, 11, "alpha bravo", "Guide › Intro", (1, 0)),
                                    (6, 19, "bravo charlie", "Guide › Intro", (0, 1))]),
        (2, "/n/app.py", 5, "h2", [(0, 4, "code", "app.py › -- commands --", (1, 1))]),
    ]
    chunk_id = 0
    for file_id, path, size, sha256, rows in chunks:
        conn.execute(
            "INSERT INTO files(id, folder_id, path, size, mtime_ns, sha256, status, error, indexed_at) "
            "VALUES (?, 1, ?, ?, ?, ?, 'indexed', NULL, 0)",
            (file_id, path, size, size, sha256),
        )
        for ordinal, (start, end, text, context, vector) in enumerate(rows):
            chunk_id += 1
            conn.execute(
                "INSERT INTO chunks(id, file_id, ordinal, start, end, page, text, context) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                (chunk_id, file_id, ordinal, start, end, text, context),
            )
            conn.execute("INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)", (chunk_id, f"{context}\n{text}"))
            conn.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", (chunk_id, vec(*vector)))
            conn.execute("INSERT INTO chunk_codes(id, code, q8) VALUES (?, ?, ?)", (chunk_id, *coarse_codes(*vector)))
    conn.close()
    with Store(db) as store:
        guide = store.file_record("/n/guide.md")
        assert [fid for fid, _ in store.keyword_files(store.keyword_match("charlie", "files"), 10)] == [guide.id]
        assert [fid for fid, _ in store.keyword_files(store.keyword_match("alpha", "files"), 10)] == [guide.id]
        assert store.name_files(store.keyword_match("guide", "files"), 10)[0][0] == guide.id  # its name
        assert store.name_files(store.keyword_match("intro", "files"), 10) == []  # a section is not the title
        opening, summary = store.file_similarities([guide.id], vec(1, 0))[guide.id]
        assert opening == pytest.approx(1.0, abs=1e-3)  # the first chunk
        assert summary == pytest.approx(2 ** -0.5, abs=1e-2)  # the mean of both
        # a Python file headed by a comment taken for a heading is read again by the next run
        app = store.file_record("/n/app.py")
        assert (app.size, app.sha256) == (-1, None) and (guide.size, guide.sha256) == (1, "h")
        assert all(v is True or v == 0 for v in store.integrity().values())


def test_the_meaning_phase_state_holds_on_every_backend(database: Path | str) -> None:
    """Chunks written without vectors are searchable by their words and wait, newest file first;
    a vector for a chunk that changed meanwhile is left out; a file is embedded once all its
    chunks are; other chunkers' files are read again; a file the model cannot embed fails."""
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        rows = lambda word: [ChunkRow(i, 0, 4, None, f"{word} {i}", None, "ctx", 3) for i in range(3)]
        store.write_file(folder.id, "/n/old.md", 1, 10, "h", rows("old"), chunker="tok")
        store.write_file(folder.id, "/n/new.md", 1, 20, "h", rows("new"), chunker="tok")
        store.write_file(folder.id, "/n/other.md", 1, 30, "h", rows("other"), chunker="words")
        assert store.keyword_chunks(KeywordMatch(("old",)), 10)  # searchable before any vector
        assert store.pending_work("tok") == PendingWork(2, 6, 18)
        pending = store.pending_chunks(4, "tok")
        assert [(c.path, c.text) for c in pending] == [("/n/new.md", "new 0"), ("/n/new.md", "new 1"),
                                                       ("/n/new.md", "new 2"), ("/n/old.md", "old 0")]
        assert store.chunks([pending[0].chunk_id])[pending[0].chunk_id].embedded is False
        store.write_file(folder.id, "/n/old.md", 1, 11, "h2", rows("older"), chunker="tok")  # old changed
        assert store.write_vectors([(c, vec(1, 0)) for c in pending]) == 3
        assert store.write_vectors([(c, vec(1, 0)) for c in pending[:1]]) == 0  # stored once
        new = store.file_record("/n/new.md")
        assert store.chunks([pending[0].chunk_id])[pending[0].chunk_id].embedded is True
        assert store.file_similarities([new.id], vec(1, 0))[new.id][0] == pytest.approx(1.0, abs=1e-2)
        assert [c.path for c in store.pending_chunks(10, "tok")] == ["/n/old.md"] * 3
        assert all(v is True or v == 0 for v in store.integrity().values())
        assert store.rechunk_others("tok") == 1
        assert (store.file_record("/n/other.md").size, store.file_record("/n/other.md").sha256) == (-1, None)
        store.embedding_failed(store.file_record("/n/old.md").id, "the model said no")
        assert store.stats().failed == [("/n/old.md", "the model said no")]
        assert store.keyword_chunks(KeywordMatch(("older",)), 10) == [] and store.pending_work("tok").files == 0
        store.write_file(folder.id, "/n/before.md", 1, 40, "h", rows("before"), chunker=None)
        assert store.rechunk_others("tok") == 0  # cut before chunkers were recorded: kept
        assert store.rechunk_others("tok", unknown_too=True) == 1  # unless the model changed
        assert store.file_record("/n/before.md").sha256 is None


def test_a_data_folder_made_for_the_index_is_private(tmp_path: Path) -> None:
    with Store(tmp_path / "new" / "fathom.db"):
        assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


def test_a_folder_is_its_paths_not_its_siblings_that_start_alike(database: Path | str) -> None:
    """`/a/b` holds `/a/b/...`, never `/a/b-c/...`, `/a/b.md` or `/a/b0/...` (`-` and `.` sort
    before `/`, `0` right after it): in files_under, a folder filter, a move and what is ignored."""
    with open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/a")
        paths = ["/a/b/x.md", "/a/b-c/x.md", "/a/b.md", "/a/b0/x.md", "/a/b/deep/x.md"]
        for path in paths:
            store.write_file(folder.id, path, 1, 1, "h", [ChunkRow(0, 0, 4, None, "word", vec(1, 0))])
        inside = ["/a/b/deep/x.md", "/a/b/x.md"]
        assert sorted(r.path for r in store.files_under("/a/b")) == inside
        found = store.keyword_chunks(KeywordMatch(("word",)), 10, ChunkFilter(folder="/a/b"))
        assert sorted(store.chunks([cid for cid, _ in found])[cid].path for cid, _ in found) == inside
        assert store.move_files("/a/b", "/a/c", folder.id) == 2
        assert sorted(r.path for r in store.files_under("/a")) == sorted(
            ["/a/c/x.md", "/a/c/deep/x.md", "/a/b-c/x.md", "/a/b.md", "/a/b0/x.md"]
        )
        from storage import IgnoredPath

        store.replace_ignored(folder.id, "/a", [IgnoredPath("/a/c/.git", "version control", True),
                                                IgnoredPath("/a/c0/y.lock", "a lock file", False)])
        store.replace_ignored(folder.id, "/a/c", [])  # what /a/c leaves out is nothing now
        assert [i.path for i in store.stats().ignored] == ["/a/c0/y.lock"]


def test_common_terms_are_pruned_in_a_large_index_only() -> None:
    from storage.dialect import without_common_terms

    counts = {"the": 80, "heron": 3, "fish": 51, "reeds": 50}
    asked: list[list[str]] = []

    def frequencies(terms: list[str]) -> dict[str, int]:
        asked.append(terms)
        return {t: counts[t] for t in terms if t in counts}

    terms = ["the", "heron", "fish", "reeds", "unseen"]
    assert without_common_terms(terms, 100, frequencies, 100) == ["heron", "reeds", "unseen"]  # in > half the rows: out
    assert without_common_terms(["the", "fish"], 100, frequencies, 100) == ["fish"]  # all common: the rarest stays
    asked.clear()
    assert without_common_terms(terms, 99, frequencies, 100) == terms  # a small index: nothing counted
    assert without_common_terms(["the"], 100, frequencies, 100) == ["the"]  # one term: nothing counted
    assert asked == []


def test_two_processes_opening_a_new_index_at_once_migrate_it_once(tmp_path: Path) -> None:
    """A second Fathom (the page and `index --watch`, started together) read the schema version
    before the first one migrated: it must see, once it holds the write lock, that the work is
    done, instead of creating the tables again."""
    path = tmp_path / "fathom.db"
    first, second = connect(path), connect(path)
    stale = {"reads": 0}

    class StaleAtFirst:
        """The second connection, whose first look at the version comes before the first's work."""

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "PRAGMA user_version" and not stale["reads"]:
                stale["reads"] += 1
                migrate(first)  # the other process migrates meanwhile
                return second.execute("SELECT 0")
            return second.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(second, name)

    migrate(StaleAtFirst())
    assert stale["reads"] == 1
    assert second.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    first.close()
    second.close()


def test_a_new_index_opened_by_two_processes_at_once_waits_for_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite may answer "database is locked" at once, without waiting, to the switch of a new
    database to WAL while another process opens it: the connection tries again, and says so
    in a sentence (never a traceback) if the lock outlasts its timeout."""
    from storage.sqlite import connection

    real = connection._driver()
    refusals = {"left": 3}

    class Busy:
        def __init__(self, conn: Any):
            self.conn = conn

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "PRAGMA journal_mode = WAL" and refusals["left"]:
                refusals["left"] -= 1
                raise real.OperationalError("database is locked")
            return self.conn.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

    class Driver:
        OperationalError = real.OperationalError

        @staticmethod
        def connect(*args: Any, **kwargs: Any) -> Busy:
            return Busy(real.connect(*args, **kwargs))

    monkeypatch.setattr(connection, "_driver", lambda: Driver)
    conn = connect(tmp_path / "new.db")
    assert refusals["left"] == 0 and conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    refusals["left"] = 10**6
    with pytest.raises(StorageError, match="Cannot open the database at .*locked"):
        connect(tmp_path / "other.db", timeout=0.2)
