"""The plumbing every part of the PostgreSQL store stands on: the connection pool and its
transactions, driver errors made StorageError (never with the URL's password), writes retried
when PostgreSQL picks them as a deadlock's victim, the meta table (the embedding space, the
change counter) and the counts searches ask for.

Every write that concerns one file happens in one transaction, so an interruption never leaves
half a file. Several processes may write at once (two machines indexing into one database):
each write locks what it changes in one order, the folder, then its files by id, then their
chunks; the change counter is taken last, just before the commit. What is left (a rename
against the meaning phase of the same files) PostgreSQL resolves as a deadlock, and the losing
write runs again.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator, Sequence

from storage.common.base import StoreBase
from storage.errors import StorageError
from storage.postgres.connection import connect, driver, pool, safe_url, scrub
from storage.postgres.dialect import DIALECT
from storage.postgres.migrations import SCHEMA_VERSION, migrate
from storage.records import EmbeddingSpace
from storage.text_keys import LOOSE_KEEP

RETRIES = 5
# pgvector's HNSW index takes at most this many dimensions for the `vector` type.
HNSW_MAX_DIMENSIONS = 2000


class PostgresBase(StoreBase):
    """One PostgreSQL database: pooled connections in autocommit mode; a write borrows one for
    its transaction, a read for its statement."""

    dialect = DIALECT
    schema_version = SCHEMA_VERSION

    def __init__(self, url: str, pool_size: int | None = None):
        self.url = url
        self.path = safe_url(url)  # what status shows: the database, without its password
        first = connect(url)
        try:
            with self._errors():
                self.pgvector = migrate(first, self.path)
        finally:
            first.close()
        try:
            self._pool = pool(url, pool_size) if pool_size else pool(url)
        except Exception as exc:
            raise StorageError(
                f"Cannot open connections to the PostgreSQL database {self.path}: {scrub(str(exc), url)}"
            ) from None
        self._local = threading.local()  # the connection of this thread's open transaction
        self._counts: tuple[int, dict[str, tuple[int, int]]] | None = None

    def close(self) -> None:
        self._pool.close()

    def _retry(self, write: Callable[[], Any]) -> Any:
        """Run a write again when PostgreSQL aborted it as a deadlock's victim or for a
        serialization failure: nothing of it was kept, and the other write went through."""
        errors = driver().psycopg.errors
        for attempt in range(RETRIES):
            try:
                return write()
            except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
                if attempt == RETRIES - 1:
                    raise StorageError(f"Database error in {self.path}: {scrub(str(exc), self.url)}") from None
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn driver errors into StorageError, without the password; deadlocks pass through
        for `retried` to run the write again."""
        db = driver()
        try:
            yield
        except (db.psycopg.errors.DeadlockDetected, db.psycopg.errors.SerializationFailure):
            raise
        except db.pool.PoolTimeout as exc:
            raise StorageError(
                f"No connection to the PostgreSQL database {self.path} came free in time ({exc}): "
                "check that the server runs and accepts connections."
            ) from None
        except db.psycopg.errors.DiskFull as exc:
            raise StorageError(
                f"The disk of the PostgreSQL server of {self.path} is full: free some space there and run "
                f"again (nothing was lost; the last file was not written). {scrub(str(exc), self.url)}"
            ) from None
        except db.psycopg.errors.InsufficientPrivilege as exc:
            raise StorageError(
                f"The user of {self.path} may not do this: {scrub(str(exc), self.url)}. Grant it the rights "
                "on the database (or connect as its owner)."
            ) from None
        except db.psycopg.OperationalError as exc:
            raise StorageError(
                f"Lost the PostgreSQL database {self.path}: {scrub(str(exc).strip(), self.url)} "
                "Check that the server runs, then run again."
            ) from None
        except db.psycopg.Error as exc:
            raise StorageError(f"Database error in {self.path}: {scrub(str(exc).strip(), self.url)}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction; it also counts as a change of the index (`generation`),
        taken last, so that concurrent writers wait for each other only at their commit."""
        with self._errors(), self._pool.connection() as conn:
            with conn.transaction():
                self._local.conn = conn
                try:
                    yield conn
                    conn.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation'")
                finally:
                    self._local.conn = None

    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._errors():
            held = getattr(self._local, "conn", None)
            if held is not None:  # inside this thread's transaction: see its own writes
                return held.execute(sql, params).fetchall()
            with self._pool.connection() as conn:
                return conn.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Any]:
        """A connection for several statements of one read, in a read-only transaction (for
        SET LOCAL); inside this thread's write transaction, that one."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        with self._errors(), self._pool.connection() as conn:
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                yield conn

    # -- the embedding space and the counts ------------------------------------------------------

    def indexed_with_hnsw(self, space: EmbeddingSpace | None = None) -> bool:
        space = space or self.embedding_space()
        return space is not None and space.dimension <= HNSW_MAX_DIMENSIONS

    def chunk_count(self) -> int:
        return self._totals()["chunks"][0]

    def _totals(self) -> dict[str, tuple[int, int]]:
        """Rows and words of the keyword tables ("chunks", "files"), and indexed files
        ("indexed", 0), counted again only after a change."""
        generation = self._generation()
        if self._counts is None or self._counts[0] != generation:
            (chunks, chunk_words), = self._query("SELECT COUNT(*), COALESCE(SUM(words), 0) FROM chunks")
            (files, file_words), = self._query("SELECT COUNT(*), COALESCE(SUM(words), 0) FROM file_words")
            (indexed,), = self._query("SELECT COUNT(*) FROM files WHERE status = 'indexed'")
            self._counts = (generation, {
                "chunks": (chunks, int(chunk_words)), "files": (files, int(file_words)), "indexed": (indexed, 0),
            })
        return self._counts[1]

    # -- what every delete of chunks does (writes and repair) ----------------------------------

    def _delete_chunks(self, conn: Any, file_ids: list[int]) -> None:
        """A file's chunks (their vectors go with them) and its file-level rows."""
        if not file_ids:
            return
        conn.execute("DELETE FROM chunks WHERE file_id = ANY(%s)", (file_ids,))  # vectors kept loose
        trim_loose_vectors(conn)
        conn.execute("DELETE FROM file_words WHERE file_id = ANY(%s)", (file_ids,))
        if self._space_in(conn) is not None:
            conn.execute("DELETE FROM file_vectors WHERE file_id = ANY(%s)", (file_ids,))

    def _lock_files(self, conn: Any, file_ids: Sequence[int]) -> None:
        """Lock these files' rows, in id order (every writer takes them in that order)."""
        conn.execute("SELECT id FROM files WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (list(file_ids),))


def trim_loose_vectors(conn: Any) -> None:
    """Forget the oldest loose vectors beyond LOOSE_KEEP (storage/text_keys.py)."""
    conn.execute(
        "DELETE FROM loose_vectors WHERE text_key IN "
        "(SELECT text_key FROM loose_vectors ORDER BY loosed_at DESC OFFSET %s)",
        (LOOSE_KEEP,),
    )
