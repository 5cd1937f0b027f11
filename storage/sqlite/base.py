"""The plumbing every part of the SQLite store stands on: the writer connection and its
transactions, the readers and their snapshots, driver errors made StorageError, the meta table
(the embedding space, the change counter) and the row counts searches ask for.

Every write that concerns one file happens in one transaction, so an interruption never leaves
half a file: either its old chunks, vectors and FTS rows are all there, or all the new ones.
"""
from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from storage.common.base import StoreBase
from storage.errors import StorageError
from storage.sqlite import file_evidence
from storage.sqlite.coarse import CodeMatrix
from storage.sqlite.connection import ReaderPool, connect, operational_errors
from storage.sqlite.dialect import DIALECT
from storage.sqlite.migrations import SCHEMA_VERSION, migrate
from storage.text_keys import LOOSE_KEEP

VECTOR_TABLE = "chunk_vectors"
# Entries of the change log of codes kept for readers (other threads, other processes) to
# catch up with; a reader further behind reads every code again.
CODE_LOG_KEEP = 100_000


class SQLiteBase(StoreBase):
    """One SQLite database in WAL mode: one writer connection, serialised by a lock, and read
    connections lent from a small pool, so a search never waits for an indexing transaction."""

    dialect = DIALECT
    schema_version = SCHEMA_VERSION

    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            # A folder made for the index is its user's only: it holds the text of their files.
            Path(self.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        self._local = threading.local()  # the reader of a thread's open snapshot
        self._readers = ReaderPool(self.path)
        self._codes: CodeMatrix | None = None
        self._codes_lock = threading.Lock()
        self._counts: tuple[int, int, int] | None = None  # generation, chunks, indexed files
        self._sample: tuple[float, int, list[Any]] | None = None  # when, generation, chunk rows
        with self._errors():
            migrate(self._conn)

    def close(self) -> None:
        with self._lock:
            self._readers.close()
            self._conn.close()

    # -- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn driver errors people can hit (full disk, locked, read-only) into StorageError."""
        try:
            yield
        except operational_errors() as exc:
            message = str(exc)
            if "full" in message:
                raise StorageError(
                    f"The disk holding {self.path} is full: free some space and run again "
                    "(nothing was lost; the last file was not written)."
                ) from exc
            if "readonly" in message or "read-only" in message:
                raise StorageError(f"The database {self.path} is read-only: {message}") from exc
            raise StorageError(f"Database error in {self.path}: {message}") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction; it also counts as a change of the index (`generation`)."""
        with self._lock, self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                )
                _trim_code_changes(self._conn, CODE_LOG_KEEP, when_over=2 * CODE_LOG_KEEP)
            except BaseException:
                # SQLite may have rolled back already (a full disk does): don't mask the cause.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Any]:
        """The connection of this thread's open snapshot, else one lent for this read."""
        held = self._conn if self.path == ":memory:" else getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        reader = self._readers.borrow()
        try:
            yield reader
        finally:
            self._readers.give_back(reader)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors():
            if self.path == ":memory:":  # a second connection would see another, empty database
                with self._lock:
                    return self._conn.execute(sql, params).fetchall()
            with self._reader() as reader:
                return reader.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Reads that see one state of the database (a read transaction, in WAL mode)."""
        if self.path == ":memory:" or getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._reader() as reader:
            with self._errors():
                reader.execute("BEGIN")
            self._local.conn = reader
            try:
                yield
            finally:
                self._local.conn = None
                reader.execute("COMMIT")

    # -- the row counts ---------------------------------------------------------------------

    def chunk_count(self) -> int:
        """Chunks in the index, counted again only after a change (every search asks)."""
        return self._row_counts()[0]

    def _row_counts(self) -> tuple[int, int]:
        """(chunks, indexed files), counted again only after a change."""
        generation = self._generation()
        if self._counts is None or self._counts[0] != generation:
            (chunks,), = self._query("SELECT COUNT(*) FROM chunks")  # via the small file_id index
            (files,), = self._query("SELECT COUNT(*) FROM files WHERE status = 'indexed'")
            self._counts = (generation, chunks, files)
        return self._counts[1], self._counts[2]

    # -- what every delete of chunks does (writes and repair) ---------------------------------

    def _delete_chunks(self, conn: Any, file_ids: list[int]) -> None:
        """These files' chunks and every row of theirs; their vectors are kept as loose vectors
        (storage/text_keys.py) for the same text coming back."""
        embedded = self.embedding_space() is not None
        tables = ["chunks_fts", "chunk_codes"] + ([VECTOR_TABLE] if embedded else [])
        kept = 0
        for batch in DIALECT.batches(file_ids):
            marks = DIALECT.marks(batch)
            ids = conn.execute(f"SELECT id FROM chunks WHERE file_id IN ({marks})", batch).fetchall()
            if embedded and kept < LOOSE_KEEP:
                kept += _keep_loose(conn, marks, batch, LOOSE_KEEP - kept)
            for table in tables:
                # One rowid at a time: vec0 answers `rowid IN (...)` by reading every row (11 ms
                # at 50k chunks, and growing); `rowid = ?` is a lookup everywhere.
                conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", ids)
            conn.execute(f"DELETE FROM chunks WHERE file_id IN ({marks})", batch)
            file_evidence.delete_rows(conn, batch)


def _keep_loose(conn: Any, marks: str, file_ids: list[int], most: int) -> int:
    """Keep the vectors of these files' chunks (at most `most`) under their text keys, then
    forget the oldest loose vectors beyond LOOSE_KEEP. Returns how many were kept."""
    rows = conn.execute(
        f"SELECT c.id, c.text_key FROM chunks c WHERE c.file_id IN ({marks}) AND c.text_key IS NOT NULL "
        "AND c.id IN (SELECT id FROM chunk_codes) LIMIT ?",
        [*file_ids, most],
    ).fetchall()
    now = time.time()
    for chunk_id, key in rows:
        found = conn.execute(f"SELECT embedding FROM {VECTOR_TABLE} WHERE rowid = ?", (chunk_id,)).fetchone()
        if found is not None:
            conn.execute(
                "INSERT OR REPLACE INTO loose_vectors(text_key, embedding, loosed_at) VALUES (?, ?, ?)",
                (key, found[0], now),
            )
    if rows:
        (count,), = conn.execute("SELECT COUNT(*) FROM loose_vectors").fetchall()
        if count > LOOSE_KEEP:
            conn.execute(
                "DELETE FROM loose_vectors WHERE text_key IN "
                "(SELECT text_key FROM loose_vectors ORDER BY loosed_at LIMIT ?)",
                (count - LOOSE_KEEP,),
            )
    return len(rows)


def stored_vector(conn: Any, key: bytes) -> bytes | None:
    """The vector already made for a chunk text of this key: a loose one, or a live chunk's."""
    found = conn.execute("SELECT embedding FROM loose_vectors WHERE text_key = ?", (key,)).fetchone()
    if found is not None:
        return found[0]
    for (chunk_id,) in conn.execute(
        "SELECT id FROM chunks WHERE text_key = ? AND id IN (SELECT id FROM chunk_codes) LIMIT 1", (key,)
    ).fetchall():
        found = conn.execute(f"SELECT embedding FROM {VECTOR_TABLE} WHERE rowid = ?", (chunk_id,)).fetchone()
        if found is not None:
            return found[0]
    return None


def _trim_code_changes(conn: Any, keep: int, when_over: int = 0) -> None:
    """Forget all but the last `keep` entries of the change log of codes, once it holds more
    than `when_over`; readers that had not seen the forgotten ones read every code again."""
    # Two subqueries: SQLite answers a lone MIN or MAX from the index, both at once by a scan.
    (low, high), = conn.execute(
        "SELECT (SELECT MIN(seq) FROM code_changes), (SELECT MAX(seq) FROM code_changes)"
    ).fetchall()
    if high is None or high - low + 1 <= when_over:
        return
    cut = high - keep
    conn.execute("DELETE FROM code_changes WHERE seq <= ?", (cut,))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'code_changes_from'", (str(cut),))
