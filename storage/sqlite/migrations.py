"""Numbered schema migrations, applied in order and recorded in `PRAGMA user_version`.

A change to the schema is a new function at the end of MIGRATIONS, never an edit of an old one.
Each is frozen: its SQL is written out here, never a call into the store's modules, whose
tables and statements follow the newest schema (a migration that called them would change
with them, and fail on a database it has not brought that far). What a migration does call
are pure encoders of values (keyword text, int8 codes, a file's name words), the ones the
running Fathom reads and queries with. The vector table is not here: its width depends on the
embedding model, so the store creates it when an embedding space is chosen (see
SQLiteStore.set_embedding_space). Tests build an older database with `migrate(conn, stop_at=N)`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from storage.errors import StorageError
from storage.file_text import joined_text, name_fields, title_from_context
from storage.fts import searchable_text
from storage.sqlite.coarse import code, int8_copy


def _files_table(name: str, statuses: str) -> str:
    """The files table as migrations 1 and 2 made it (later ones ALTER it)."""
    return f"""CREATE TABLE {name} (
            id INTEGER PRIMARY KEY,
            folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT,
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            error TEXT,
            indexed_at REAL NOT NULL
        )"""


# A file's chunks in order, with their int8 codes (NULL where a chunk has no vector), as
# migration 6 reads them (frozen: file_evidence.py has its own query, for the schema of now).
CHUNKS_WITH_CODES = (
    "SELECT c.start, c.end, c.text, c.context, k.q8 FROM chunks c "
    "LEFT JOIN chunk_codes k ON k.id = c.id WHERE c.file_id = ? ORDER BY c.ordinal"
)


def m001_create_tables(conn: Any) -> None:
    for statement in (
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE folders (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            added_at REAL NOT NULL
        )""",
        _files_table("files", "'indexed', 'failed'"),
        "CREATE INDEX files_folder ON files(folder_id)",
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            page INTEGER,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX chunks_file ON chunks(file_id)",
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, content='chunks', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        END""",
        """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
    ):
        conn.execute(statement)


def m002_files_can_be_skipped(conn: Any) -> None:
    """A file can be skipped on purpose (too large, binary) as well as fail; SQLite cannot
    change a CHECK constraint, so the table is rebuilt (foreign keys are off meanwhile)."""
    conn.execute(_files_table("files_new", "'indexed', 'failed', 'skipped'"))
    conn.execute("INSERT INTO files_new SELECT * FROM files")
    conn.execute("DROP TABLE files")
    conn.execute("ALTER TABLE files_new RENAME TO files")
    conn.execute("CREATE INDEX files_folder ON files(folder_id)")


def m003_chunk_context_and_keyword_text(conn: Any) -> None:
    """Chunks carry their document's context (title, section), and the keyword index holds
    its own rewritten text (CJK bigrams, camelCase parts: see storage/fts.py) instead of
    mirroring `chunks.text` through triggers."""
    conn.execute("ALTER TABLE chunks ADD COLUMN context TEXT NOT NULL DEFAULT ''")
    conn.execute("DROP TRIGGER chunks_fts_insert")
    conn.execute("DROP TRIGGER chunks_fts_delete")
    conn.execute("DROP TABLE chunks_fts")
    conn.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5(body, tokenize='unicode61 remove_diacritics 2')"
    )
    rows = conn.execute("SELECT id, context, text FROM chunks").fetchall()
    conn.executemany(
        "INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
        [(cid, searchable_text(f"{context}\n{text}")) for cid, context, text in rows],
    )


def m004_binary_codes(conn: Any) -> None:
    """Compact copies of every vector (sign bits and int8) for the coarse first pass of large
    indexes (storage/sqlite/coarse.py), and a counter of changes so readers know when to reload."""
    conn.execute("CREATE TABLE chunk_codes (id INTEGER PRIMARY KEY, code BLOB NOT NULL, q8 BLOB NOT NULL)")
    conn.execute("INSERT INTO meta(key, value) VALUES ('generation', '0') ON CONFLICT(key) DO NOTHING")
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunk_vectors'").fetchone()
    if exists:
        rows = conn.execute("SELECT rowid, embedding FROM chunk_vectors").fetchall()
        conn.executemany(
            "INSERT INTO chunk_codes(id, code, q8) VALUES (?, ?, ?)",
            [(rid, code(v), int8_copy(v)) for rid, v in rows],
        )


def m005_code_change_log(conn: Any) -> None:
    """A log of the chunk ids whose codes changed, so that a reader brings its codes in memory
    up to date by the change instead of reading every code again (storage/sqlite/coarse.py)."""
    conn.execute("CREATE TABLE code_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL)")
    for event, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
        conn.execute(
            f"CREATE TRIGGER code_changes_{event.lower()} AFTER {event} ON chunk_codes BEGIN "
            f"INSERT INTO code_changes(id) VALUES ({row}.id); END"
        )
    conn.execute("INSERT INTO meta(key, value) VALUES ('code_changes_from', '0') ON CONFLICT(key) DO NOTHING")


def m006_file_level_evidence(conn: Any) -> None:
    """Keyword rows and vectors of each file as a whole (storage/sqlite/file_evidence.py), built from
    the stored chunks and their codes: no model runs.

    Also: chunks of code and configuration files were headed by `# comments` taken for section
    headings; those files are read again by the next index run (a size of -1 reads as changed),
    and keep their old chunks until then."""
    conn.execute(
        "CREATE VIRTUAL TABLE files_fts USING fts5(name, folders, title, body, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE TABLE file_vectors (file_id INTEGER PRIMARY KEY, opening BLOB NOT NULL, summary BLOB NOT NULL)")
    files = conn.execute(
        "SELECT f.id, f.path, d.path FROM files f JOIN folders d ON d.id = f.folder_id WHERE f.status = 'indexed'"
    ).fetchall()
    for file_id, path, folder in files:
        chunks = conn.execute(CHUNKS_WITH_CODES, (file_id,)).fetchall()
        if not chunks:
            continue
        # The file's words: its name and folders, the title its first chunk is headed by, and
        # its text joined back from the chunks without their overlaps.
        name, folders = name_fields(path, folder)
        title = title_from_context(chunks[0][3], path)
        body = joined_text([(start, end, text) for start, end, text, _, _ in chunks])
        conn.execute(
            "INSERT INTO files_fts(rowid, name, folders, title, body) VALUES (?, ?, ?, ?, ?)",
            (file_id, name, folders, searchable_text(title), searchable_text(body)),
        )
        # Its vectors, from the chunks' int8 codes: the opening (the first chunk's) and the
        # summary (the mean of the chunks' unit vectors), as int8 copies in turn.
        q8 = [row[4] for row in chunks]
        if all(q8):
            vectors = np.frombuffer(b"".join(q8), dtype=np.int8).reshape(len(q8), -1).astype(np.float32)
            unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            conn.execute(
                "INSERT INTO file_vectors(file_id, opening, summary) VALUES (?, ?, ?)",
                (file_id, int8_copy(vectors[0].tobytes()), int8_copy(unit.mean(axis=0).astype(np.float32).tobytes())),
            )
    headed = {".md", ".markdown", ".mdown", ".mkd", ".rst", ".rest", ".txt", ".text", ".ipynb"}
    misheaded = [
        (file_id,)
        for file_id, path in conn.execute(
            "SELECT id, path FROM files WHERE id IN (SELECT file_id FROM chunks WHERE context LIKE '% › %')"
        ).fetchall()
        if Path(path).suffix.lower() not in headed
    ]
    conn.executemany("UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL WHERE id = ?", misheaded)


def m007_retry_conditions_and_ignored_paths(conn: Any) -> None:
    """A failed or skipped file remembers what it was tried with (`tried`: the readers'
    version and the size limit), so that a change of either tries it again; and what a folder
    leaves out by rule is listed, one row per file or per folder never entered."""
    conn.execute("ALTER TABLE files ADD COLUMN tried TEXT")
    conn.execute(
        """CREATE TABLE ignored (
            folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            reason TEXT NOT NULL,
            is_folder INTEGER NOT NULL,
            PRIMARY KEY (folder_id, path)
        )"""
    )


def m008_two_phase_indexing(conn: Any) -> None:
    """Files are searchable by their words before their chunks have vectors. `embedded` says
    whether every chunk of a file has its vector (the meaning phase embeds the others, most
    recently modified files first), `chunker` which tokenizer and sizes cut a file's chunks (a
    file cut otherwise is read again before it is embedded; NULL: before this column, cut by
    the index's own model), and chunks count their `tokens` (time left is told from them)."""
    conn.execute("ALTER TABLE files ADD COLUMN embedded INTEGER NOT NULL DEFAULT 1")
    conn.execute("ALTER TABLE files ADD COLUMN chunker TEXT")
    conn.execute("ALTER TABLE chunks ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX files_to_embed ON files(mtime_ns) WHERE status = 'indexed' AND embedded = 0")
    conn.execute(
        "UPDATE files SET embedded = 0 WHERE id IN "
        "(SELECT file_id FROM chunks WHERE id NOT IN (SELECT id FROM chunk_codes))"
    )


def m009_vectors_found_by_text(conn: Any) -> None:
    """A chunk's vector is found by its text: each chunk keeps a key of its context and text
    (sha-256, 16 bytes, of `context NUL text`), and vectors of chunks that went are kept a
    while under that key (`loose_vectors`) for a copy, a re-index or a file coming back."""
    import hashlib

    conn.execute("ALTER TABLE chunks ADD COLUMN text_key BLOB")
    rows = conn.execute("SELECT id, context, text FROM chunks").fetchall()
    conn.executemany(
        "UPDATE chunks SET text_key = ? WHERE id = ?",
        [(hashlib.sha256(f"{context}\0{text}".encode("utf-8", "surrogatepass")).digest()[:16], cid)
         for cid, context, text in rows],
    )
    conn.execute("CREATE INDEX chunks_text_key ON chunks(text_key)")
    conn.execute(
        "CREATE TABLE loose_vectors (text_key BLOB PRIMARY KEY, embedding BLOB NOT NULL, loosed_at REAL NOT NULL)"
    )
    conn.execute("CREATE INDEX loose_vectors_age ON loose_vectors(loosed_at)")


MIGRATIONS: list[Callable[[Any], None]] = [
    m001_create_tables,
    m002_files_can_be_skipped,
    m003_chunk_context_and_keyword_text,
    m004_binary_codes,
    m005_code_change_log,
    m006_file_level_evidence,
    m007_retry_conditions_and_ignored_paths,
    m008_two_phase_indexing,
    m009_vectors_found_by_text,
]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any, stop_at: int | None = None) -> None:
    """Bring the database up to SCHEMA_VERSION; refuse one written by a newer Fathom. Tests
    stop at migration `stop_at` to build the database an older Fathom left."""
    target = SCHEMA_VERSION if stop_at is None else stop_at
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"The database has schema version {version}, newer than this Fathom knows "
            f"({SCHEMA_VERSION}): upgrade Fathom or use another [[data_dir]]."
        )
    if version >= target:
        return
    # Table rebuilds must not cascade deletes; foreign keys can only be toggled outside a
    # transaction, and each migration checks them itself before it commits.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number in range(version, target):
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] > number:
                    conn.execute("COMMIT")  # another process ran it while this one waited
                    continue
                MIGRATIONS[number](conn)
                if conn.execute("PRAGMA foreign_key_check").fetchall():
                    raise StorageError(f"Migration {number + 1} broke foreign keys; nothing was changed.")
                conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
