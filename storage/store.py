"""The index store: folders, files, chunks, their vectors and their words, in one SQLite file.

Every write that concerns one file happens in one transaction, so an interruption never leaves
half a file: either its old chunks, vectors and FTS rows are all there, or all the new ones.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from storage import file_evidence
from storage.coarse import CodeMatrix, code, int8_copy, int8_distances
from storage.connection import ReaderPool, StorageError, connect, operational_errors
from storage.fts import MAX_TERMS, index_token, match_terms, query_terms, searchable_text
from storage.migrations import SCHEMA_VERSION, migrate

VECTOR_TABLE = "chunk_vectors"
# Above this many chunks, vector search ranks binary codes first, then rescores the best
# (storage/coarse.py): bench/knn.py measured exact float KNN past 100 ms beyond ~50k chunks.
COARSE_FROM_CHUNKS = 50_000
RESCORE_AT_LEAST = 400
# From this many rows, keyword search leaves out query terms found in more than half of them:
# FTS5 clamps their IDF to zero, so they add nothing to BM25, but they make it score nearly
# every row (bench/search.py: 119 ms of a 204 ms search at 100k chunks was "the"-like terms).
PRUNE_FROM_ROWS = 20_000
# Entries of the change log of codes kept for readers (other threads, other processes) to
# catch up with; a reader further behind reads every code again.
CODE_LOG_KEEP = 100_000
# The part of f.path after its last "/": rtrim() strips the name's characters off the end.
_FILE_NAME = "substr(f.path, length(rtrim(f.path, replace(f.path, '/', ''))) + 1)"
_FILE_COLUMNS = "id, folder_id, path, size, mtime_ns, sha256, status, error, tried"


@dataclass(frozen=True)
class Folder:
    id: int
    path: str


@dataclass(frozen=True)
class FileRecord:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    status: str
    error: str | None
    tried: str | None = None  # failed/skipped: what it was tried with (see record_failure)


class FolderRemoved(Exception):
    """The folder was removed (by this process or another) while its files were written;
    nothing was written under it."""


@dataclass(frozen=True)
class IgnoredPath:
    """A file, or a whole folder, that a folder's walk leaves out by rule, and why."""

    path: str
    reason: str
    is_folder: bool


@dataclass(frozen=True)
class ChunkRow:
    """A chunk to store, with its embedding as little-endian float32 bytes. `context` is
    the title and section it sits under, searched along with its text."""

    ordinal: int
    start: int
    end: int
    page: int | None
    text: str
    vector: bytes
    context: str = ""


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    file_id: int
    path: str
    ordinal: int
    start: int
    end: int
    page: int | None
    text: str
    mtime_ns: int
    context: str = ""


@dataclass(frozen=True)
class ChunkFilter:
    """Which files a search may return. Every field is optional; all given must hold."""

    folder: str | None = None  # only files under this folder
    extensions: tuple[str, ...] = ()  # e.g. (".md", ".pdf"); any of them
    path_glob: str | None = None  # GLOB on the path; without "/", on the file name
    modified_after_ns: int | None = None
    modified_before_ns: int | None = None

    def sql(self) -> tuple[str, list[Any]]:
        """A subquery of the chunk ids that pass, and its parameters."""
        clause, params = self._where()
        return f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE {clause}", params

    def file_sql(self) -> tuple[str, list[Any]]:
        """A subquery of the file ids that pass, and its parameters."""
        clause, params = self._where()
        return f"SELECT f.id FROM files f WHERE {clause}", params

    def _where(self) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.folder:
            prefix = self.folder.rstrip("/") + "/"
            where.append("f.path >= ? AND f.path < ?")
            params += [prefix, prefix[:-1] + "0"]
        if self.extensions:
            where.append("(" + " OR ".join("f.path LIKE ?" for _ in self.extensions) + ")")
            params += ["%" + ext.replace("%", "").replace("_", "") for ext in self.extensions]
        if self.path_glob:
            glob = self.path_glob
            if "/" in glob:
                where.append("f.path GLOB ?")
                params.append(glob if glob.startswith(("/", "*")) else "*/" + glob)
            else:  # the file name only: GLOB's * would cross "/" into folder names
                where.append(f"{_FILE_NAME} GLOB ?")
                params.append(glob)
        if self.modified_after_ns is not None:
            where.append("f.mtime_ns >= ?")
            params.append(self.modified_after_ns)
        if self.modified_before_ns is not None:
            where.append("f.mtime_ns < ?")
            params.append(self.modified_before_ns)
        return " AND ".join(where) or "1", params

    @property
    def empty(self) -> bool:
        return self == ChunkFilter()


@dataclass(frozen=True)
class EmbeddingSpace:
    """Which model made the vectors, how wide they are, and from what input (`recipe`, a
    version of how chunks are built): vectors of two spaces never mix."""

    model: str
    dimension: int
    recipe: str = ""


@dataclass(frozen=True)
class IndexStats:
    folders: list[tuple[str, int]]
    files: int
    indexed: int
    failed: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    chunks: int
    space: EmbeddingSpace | None
    schema_version: int
    path: str
    ignored: list[IgnoredPath] = field(default_factory=list)
    # per folder path: files "indexed", "failed", "skipped", "ignored" and "ignored_folders"
    folder_counts: dict[str, dict[str, int]] = field(default_factory=dict)


class Store:
    """One SQLite database in WAL mode: one writer connection, serialised by a lock, and read
    connections lent from a small pool, so a search never waits for an indexing transaction."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        self._local = threading.local()  # the reader of a thread's open snapshot
        self._readers = ReaderPool(self.path)
        self._codes: CodeMatrix | None = None
        self._codes_lock = threading.Lock()
        self._counts: tuple[int, int, int] | None = None  # generation, chunks, indexed files
        self.coarse_from_chunks = COARSE_FROM_CHUNKS
        self.prune_from_rows = PRUNE_FROM_ROWS
        with self._errors():
            migrate(self._conn)

    def close(self) -> None:
        with self._lock:
            self._readers.close()
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

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

    # -- meta and the embedding space ------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def embedding_space(self) -> EmbeddingSpace | None:
        model, dim = self.get_meta("embedding_model"), self.get_meta("embedding_dimension")
        if model is None or dim is None:
            return None
        return EmbeddingSpace(model, int(dim), self.get_meta("embedding_recipe") or "")

    def set_embedding_space(self, space: EmbeddingSpace) -> None:
        """Choose the model and width of the vectors; a different space drops every chunk.

        Files keep their rows but lose their size/mtime, so the next index run re-embeds them.
        """
        current = self.embedding_space()
        if current == space:
            return
        with self.transaction() as conn:
            if current is not None:
                conn.execute(f"DROP TABLE IF EXISTS {VECTOR_TABLE}")
                conn.execute("DELETE FROM chunk_codes")
                _trim_code_changes(conn, keep=0)  # readers start over
                conn.execute("DELETE FROM chunks_fts")
                for table in file_evidence.TABLES:
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM chunks")
                conn.execute("UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL")
            conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {VECTOR_TABLE} USING "
                f"vec0(embedding float[{int(space.dimension)}] distance_metric=cosine)"
            )
            for key, value in (
                ("embedding_model", space.model),
                ("embedding_dimension", str(space.dimension)),
                ("embedding_recipe", space.recipe),
            ):
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- folders ----------------------------------------------------------------------------

    def add_folder(self, path: str) -> Folder:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO folders(path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING",
                (path, time.time()),
            )
            (folder_id,) = conn.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()
        return Folder(folder_id, path)

    def folders(self) -> list[Folder]:
        return [Folder(*row) for row in self._query("SELECT id, path FROM folders ORDER BY path")]

    def remove_folder(self, folder_id: int) -> int:
        """Forget a folder and every file indexed through it; returns how many files went."""
        with self.transaction() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM files WHERE folder_id = ?", (folder_id,))]
            self._delete_chunks(conn, ids)
            conn.execute("DELETE FROM files WHERE folder_id = ?", (folder_id,))
            conn.execute("DELETE FROM ignored WHERE folder_id = ?", (folder_id,))
            conn.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
        return len(ids)

    # -- files ------------------------------------------------------------------------------

    def files_in_folder(self, folder_id: int) -> dict[str, FileRecord]:
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE folder_id = ?", (folder_id,))
        return {row[2]: FileRecord(*row) for row in rows}

    def files_under(self, path: str) -> list[FileRecord]:
        """The file at `path`, or every file below it when it is (or was) a folder."""
        prefix = path.rstrip("/") + "/"
        rows = self._query(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ? OR (path >= ? AND path < ?)",
            (path, prefix, prefix[:-1] + "0"),  # '0' sorts right after '/'
        )
        return [FileRecord(*row) for row in rows]

    def file_record(self, path: str) -> FileRecord | None:
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (path,))
        return FileRecord(*rows[0]) if rows else None

    def file_text(self, path: str, max_chars: int) -> str | None:
        """The start of an indexed file's text, from its chunks (None if not indexed)."""
        record = self.file_record(path)
        if record is None or record.status != "indexed":
            return None
        parts, total = [], 0
        for (text,) in self._query("SELECT text FROM chunks WHERE file_id = ? ORDER BY ordinal", (record.id,)):
            parts.append(text)
            total += len(text)
            if total >= max_chars:
                break
        return "\n".join(parts)[:max_chars]

    def write_file(
        self,
        folder_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        sha256: str,
        chunks: Sequence[ChunkRow],
        title: str = "",
        text: str | None = None,
    ) -> None:
        """Replace everything stored for `path` with these chunks, atomically, with the rows
        of the file as a whole: its `title` and whole `text` (default: joined from the chunks)."""
        with self.transaction() as conn:
            _check_folder(conn, folder_id)
            file_id = self._upsert_file(conn, folder_id, path, size, mtime_ns, sha256, "indexed", None)
            self._delete_chunks(conn, [file_id])
            (folder,) = conn.execute("SELECT path FROM folders WHERE id = ?", (folder_id,)).fetchone()
            if text is None:
                text = file_evidence.joined_text([(c.start, c.end, c.text) for c in chunks])
            vectors = [c.vector for c in chunks] if chunks and self.embedding_space() is not None else []
            file_evidence.write_rows(conn, file_id, path, folder, title, text, vectors)
            for chunk in chunks:
                cursor = conn.execute(
                    "INSERT INTO chunks(file_id, ordinal, start, end, page, text, context) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (file_id, chunk.ordinal, chunk.start, chunk.end, chunk.page, chunk.text, chunk.context),
                )
                conn.execute(
                    f"INSERT INTO {VECTOR_TABLE}(rowid, embedding) VALUES (?, ?)",
                    (cursor.lastrowid, chunk.vector),
                )
                conn.execute(
                    "INSERT INTO chunk_codes(id, code, q8) VALUES (?, ?, ?)",
                    (cursor.lastrowid, code(chunk.vector), int8_copy(chunk.vector)),
                )
                conn.execute(
                    "INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
                    (cursor.lastrowid, searchable_text(f"{chunk.context}\n{chunk.text}")),
                )

    def record_failure(
        self,
        folder_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        sha256: str | None,
        error: str,
        status: str = "failed",
        tried: str | None = None,
    ) -> None:
        """Remember why a file was not indexed (status `failed` or `skipped`) and what it was
        tried with (`tried`, compared on the next run); its old chunks, now stale, go."""
        with self.transaction() as conn:
            _check_folder(conn, folder_id)
            file_id = self._upsert_file(conn, folder_id, path, size, mtime_ns, sha256, status, error, tried)
            self._delete_chunks(conn, [file_id])

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """The content is unchanged (same hash) but stat moved: remember the new stat."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
            )

    def move_files(self, old: str, new: str, folder_id: int) -> int:
        """A file or folder was renamed: its records follow it, embeddings and all.
        Returns how many files moved."""
        old_prefix, new_prefix = old.rstrip("/") + "/", new.rstrip("/") + "/"
        with self.transaction() as conn:
            _check_folder(conn, folder_id)
            # Whatever was indexed at the destination is replaced by what moved there.
            stale = [row[0] for row in conn.execute(
                "SELECT id FROM files WHERE path = ? OR (path >= ? AND path < ?)",
                (new, new_prefix, new_prefix[:-1] + "0"),
            )]
            self._delete_chunks(conn, stale)
            for batch in _batches(stale):
                conn.execute(f"DELETE FROM files WHERE id IN ({_marks(batch)})", batch)
            moved = conn.execute(
                "UPDATE files SET path = ?, folder_id = ? WHERE path = ?", (new, folder_id, old)
            ).rowcount
            moved += conn.execute(
                "UPDATE files SET path = ? || substr(path, ?), folder_id = ? "
                "WHERE path >= ? AND path < ?",
                (new_prefix, len(old_prefix) + 1, folder_id, old_prefix, old_prefix[:-1] + "0"),
            ).rowcount
            file_evidence.rename(conn, [row[0] for row in conn.execute(
                "SELECT id FROM files WHERE path = ? OR (path >= ? AND path < ?)",
                (new, new_prefix, new_prefix[:-1] + "0"),
            )])
        return moved

    def delete_files(self, file_ids: Iterable[int]) -> None:
        ids = list(file_ids)
        if not ids:
            return
        with self.transaction() as conn:
            self._delete_chunks(conn, ids)
            for batch in _batches(ids):
                conn.execute(f"DELETE FROM files WHERE id IN ({_marks(batch)})", batch)

    # -- what folders leave out by rule -----------------------------------------------------

    def replace_ignored(self, folder_id: int, top: str, entries: Sequence[IgnoredPath]) -> None:
        """What `folder_id` leaves out at or below `top` is now `entries` (and nothing else).
        Writes only when that changed: a rescan of an unchanged folder writes nothing."""
        prefix = top.rstrip("/") + "/"
        where = "folder_id = ? AND (path = ? OR (path >= ? AND path < ?))"
        params = (folder_id, top, prefix, prefix[:-1] + "0")
        known = {
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query(
                f"SELECT path, reason, is_folder FROM ignored WHERE {where}", params
            )
        }
        if known == set(entries):
            return
        with self.transaction() as conn:
            _check_folder(conn, folder_id)
            conn.execute(f"DELETE FROM ignored WHERE {where}", params)
            conn.executemany(
                "INSERT OR REPLACE INTO ignored(folder_id, path, reason, is_folder) VALUES (?, ?, ?, ?)",
                [(folder_id, e.path, e.reason, int(e.is_folder)) for e in entries],
            )

    def _upsert_file(
        self,
        conn: Any,
        folder_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        sha256: str | None,
        status: str,
        error: str | None,
        tried: str | None = None,
    ) -> int:
        conn.execute(
            "INSERT INTO files(folder_id, path, size, mtime_ns, sha256, status, error, indexed_at, tried) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "folder_id = excluded.folder_id, size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "sha256 = excluded.sha256, status = excluded.status, error = excluded.error, "
            "indexed_at = excluded.indexed_at, tried = excluded.tried",
            (folder_id, path, size, mtime_ns, sha256, status, error, time.time(), tried),
        )
        return conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0]

    def _delete_chunks(self, conn: Any, file_ids: list[int]) -> None:
        tables = ["chunks_fts", "chunk_codes"] + ([VECTOR_TABLE] if self.embedding_space() is not None else [])
        for batch in _batches(file_ids):
            marks = _marks(batch)
            ids = conn.execute(f"SELECT id FROM chunks WHERE file_id IN ({marks})", batch).fetchall()
            for table in tables:
                # One rowid at a time: vec0 answers `rowid IN (...)` by reading every row (11 ms
                # at 50k chunks, and growing); `rowid = ?` is a lookup everywhere.
                conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", ids)
            conn.execute(f"DELETE FROM chunks WHERE file_id IN ({marks})", batch)
            file_evidence.delete_rows(conn, batch)

    # -- search -----------------------------------------------------------------------------

    def nearest_chunks(
        self, vector: bytes, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the k nearest chunks that pass the filter."""
        if self.embedding_space() is None or k <= 0:
            return []
        if self.chunk_count() >= self.coarse_from_chunks:
            return self.nearest_chunks_coarse(vector, k, only)
        return self.nearest_chunks_exact(vector, k, only)

    def nearest_chunks_exact(
        self, vector: bytes, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """Exact KNN over every float vector (sqlite-vec)."""
        sql = f"SELECT rowid, distance FROM {VECTOR_TABLE} WHERE embedding MATCH ? AND k = ?"
        params: list[Any] = [vector, k]
        if only is not None and not only.empty:
            subquery, extra = only.sql()
            sql += f" AND rowid IN ({subquery})"
            params += extra
        return [(row[0], row[1]) for row in self._query(sql + " ORDER BY distance", params)]

    def nearest_chunks_coarse(
        self, vector: bytes, k: int, only: ChunkFilter | None = None, rescore: int | None = None
    ) -> list[tuple[int, float]]:
        """Hamming distance on binary codes picks `rescore` candidates; cosine on their int8
        copies ranks them (storage/coarse.py says why). Filters apply to the first pass."""
        codes = self._code_matrix()
        allowed = None
        if only is not None and not only.empty:
            subquery, params = only.sql()
            allowed = np.fromiter((row[0] for row in self._query(subquery, params)), dtype=np.int64)
        candidates = [int(i) for i in codes.nearest(vector, max(rescore or RESCORE_AT_LEAST, 4 * k), allowed)]
        rows: list[tuple[int, bytes]] = []
        for batch in _batches(candidates):
            rows += self._query(f"SELECT id, q8 FROM chunk_codes WHERE id IN ({_marks(batch)})", batch)
        return sorted(int8_distances(rows, vector), key=lambda item: item[1])[:k]

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

    def keyword_match(self, text: str, table: str = "chunks") -> str | None:
        """The FTS5 expression for a person's text, against the `chunks` or the `files` rows:
        its terms, less those in more than half of a large index's rows (PRUNE_FROM_ROWS); the
        rarest term stays when all are that common. None when the text has no word."""
        terms = query_terms(text)[:MAX_TERMS]
        rows = self._row_counts()[0 if table == "chunks" else 1]
        if rows >= self.prune_from_rows and len(terms) > 1:
            found = self._document_frequencies(terms, "chunks_fts" if table == "chunks" else "files_fts")
            kept = [t for t in terms if found.get(t, 0) <= rows / 2]
            terms = kept or [min(terms, key=lambda t: found.get(t, 0))]
        return match_terms(terms)

    def _document_frequencies(self, terms: list[str], fts_table: str) -> dict[str, int]:
        """How many rows of an FTS5 table hold each term, from its vocabulary (fts5vocab)."""
        vocabulary = f"temp.{fts_table}_vocabulary"
        found: dict[str, int] = {}
        with self._errors(), self._reader() as reader:
            reader.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} USING fts5vocab(main, {fts_table}, row)")
            for term in terms:
                row = reader.execute(f"SELECT doc FROM {vocabulary} WHERE term = ?", (index_token(term),)).fetchone()
                found[term] = row[0] if row else 0
        return found

    def _generation(self) -> int:
        (generation,), = self._query("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'")
        return generation

    def _code_matrix(self) -> CodeMatrix:
        """Every chunk's code, read once, then brought up to date by the log of changed ids."""
        with self._codes_lock, self._snapshot():
            generation = self._generation()
            cached = self._codes
            if cached is not None and cached.generation == generation:
                return cached
            (seq,), = self._query("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'code_changes'")
            logged_from = int(self.get_meta("code_changes_from") or 0)
            if cached is not None and cached.seq >= logged_from:
                changed = [row[0] for row in self._query(
                    "SELECT DISTINCT id FROM code_changes WHERE seq > ?", (cached.seq,)
                )]
                if len(changed) <= max(1000, len(cached) // 4):  # else reading them all is as quick
                    rows: list[tuple[int, bytes]] = []
                    for batch in _batches(changed):
                        rows += self._query(f"SELECT id, code FROM chunk_codes WHERE id IN ({_marks(batch)})", batch)
                    self._codes = cached.updated(np.array(changed, dtype=np.int64), rows, generation, seq)
                    return self._codes
            rows = self._query("SELECT id, code FROM chunk_codes")
            self._codes = CodeMatrix.from_rows(rows, generation, seq)
            return self._codes

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

    def keyword_chunks(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score where higher is better) for an FTS5 expression, best first."""
        sql = "SELECT rowid, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list[Any] = [match]
        if only is not None and not only.empty:
            subquery, extra = only.sql()
            sql += f" AND rowid IN ({subquery})"
            params += extra
        rows = self._query(sql + " ORDER BY score DESC LIMIT ?", [*params, k])
        return [(row[0], row[1]) for row in rows]

    def keyword_files(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(file id, BM25 over the whole file: name, folders, title and text, higher is
        better), best first."""
        return self._ranked_files(file_evidence.FILE_WEIGHTS, match, k, only)

    def name_files(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(file id, BM25 over its name, folders and title only, higher is better), best first."""
        return self._ranked_files(file_evidence.NAME_WEIGHTS, f"{file_evidence.NAME_COLUMNS} : ({match})", k, only)

    def _ranked_files(
        self, weights: Sequence[float], match: str, k: int, only: ChunkFilter | None
    ) -> list[tuple[int, float]]:
        rank = "bm25(files_fts, " + ", ".join(str(w) for w in weights) + ")"
        sql = f"SELECT rowid, -{rank} AS score FROM files_fts WHERE files_fts MATCH ?"
        params: list[Any] = [match]
        if only is not None and not only.empty:
            subquery, extra = only.file_sql()
            sql += f" AND rowid IN ({subquery})"
            params += extra
        rows = self._query(sql + " ORDER BY score DESC LIMIT ?", [*params, k])
        return [(row[0], row[1]) for row in rows]

    def file_similarities(self, file_ids: Sequence[int], vector: bytes) -> dict[int, tuple[float, float]]:
        """(cosine with its opening, cosine with its summary) of each file that has vectors."""
        rows: list[Any] = []
        for batch in _batches(list(file_ids)):
            rows += self._query(
                f"SELECT file_id, opening, summary FROM file_vectors WHERE file_id IN ({_marks(batch)})", batch
            )
        opening = dict(int8_distances([(r[0], r[1]) for r in rows], vector))
        summary = dict(int8_distances([(r[0], r[2]) for r in rows], vector))
        return {fid: (1.0 - opening[fid], 1.0 - summary[fid]) for fid in opening}

    def passages(self, file_ids: Sequence[int], vector: bytes | None, match: str | None) -> dict[int, int]:
        """The chunk that best stands for each file (found by its file-level evidence): the
        nearest to the query vector, else the best by BM25, else its first chunk."""
        best: dict[int, int] = {}
        for file_id in file_ids:
            chunk = None
            if vector is not None:
                rows = self._query(
                    "SELECT k.id, k.q8 FROM chunk_codes k JOIN chunks c ON c.id = k.id WHERE c.file_id = ?",
                    (file_id,),
                )
                if rows:
                    chunk = min(int8_distances(rows, vector), key=lambda item: item[1])[0]
            if chunk is None and match:
                rows = self._query(
                    "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN "
                    "(SELECT id FROM chunks WHERE file_id = ?) ORDER BY bm25(chunks_fts) LIMIT 1",
                    (match, file_id),
                )
                chunk = rows[0][0] if rows else None
            if chunk is None:
                rows = self._query("SELECT id FROM chunks WHERE file_id = ? ORDER BY ordinal LIMIT 1", (file_id,))
                chunk = rows[0][0] if rows else None
            if chunk is not None:
                best[file_id] = chunk
        return best

    def cosine_distances(self, chunk_ids: Sequence[int], vector: bytes) -> dict[int, float]:
        if not chunk_ids or self.embedding_space() is None:
            return {}
        out: dict[int, float] = {}
        sql = f"SELECT rowid, vec_distance_cosine(embedding, ?) FROM {VECTOR_TABLE} WHERE rowid = ?"
        for chunk_id in chunk_ids:  # one lookup each: vec0 answers `rowid IN (...)` by a scan
            out.update(self._query(sql, (vector, chunk_id)))
        return out

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]:
        out: dict[int, ChunkHit] = {}
        for batch in _batches(list(chunk_ids)):
            rows = self._query(
                "SELECT c.id, c.file_id, f.path, c.ordinal, c.start, c.end, c.page, c.text, "
                "f.mtime_ns, c.context FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.id IN ({_marks(batch)})",
                batch,
            )
            out.update({row[0]: ChunkHit(*row) for row in rows})
        return out

    # -- upkeep -----------------------------------------------------------------------------

    def backup(self, destination: Path | str) -> None:
        """A consistent copy of the database while Fathom keeps running (SQLite backup API)."""
        target_path = Path(destination)
        if target_path.exists():
            raise StorageError(f"{destination} already exists: choose a new file name for the backup.")
        target = connect(target_path)
        try:
            with self._errors(), self._reader() as reader:
                reader.backup(target)
        finally:
            target.close()

    def repair(self) -> dict[str, int]:
        """Fix what `integrity` finds: stray vectors and keyword rows go; a file with a chunk
        missing its vector or keyword row loses its chunks and is marked for re-embedding."""
        fixed = {"stray_vectors": 0, "stray_codes": 0, "stray_keyword_rows": 0, "files_to_reembed": 0}
        has_vectors = self.embedding_space() is not None
        with self.transaction() as conn:
            if has_vectors:
                fixed["stray_vectors"] = conn.execute(
                    f"DELETE FROM {VECTOR_TABLE} WHERE rowid NOT IN (SELECT id FROM chunks)"
                ).rowcount
            fixed["stray_codes"] = conn.execute(
                "DELETE FROM chunk_codes WHERE id NOT IN (SELECT id FROM chunks)"
            ).rowcount
            fixed["stray_keyword_rows"] = conn.execute(
                "DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
            ).rowcount
            missing = "id NOT IN (SELECT rowid FROM chunks_fts) OR id NOT IN (SELECT id FROM chunk_codes)"
            if has_vectors:
                missing += f" OR id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            broken = [row[0] for row in conn.execute(f"SELECT DISTINCT file_id FROM chunks WHERE {missing}")]
            self._delete_chunks(conn, broken)
            for batch in _batches(broken):
                conn.execute(
                    f"UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL WHERE id IN ({_marks(batch)})",
                    batch,
                )
            fixed["files_to_reembed"] = len(broken)
        return fixed

    def vacuum_if_worth_it(self, min_free_fraction: float = 0.25, min_free_pages: int = 2048) -> bool:
        """Give space freed by deletes back to the disk once enough of the file is free."""
        (pages,), = self._query("PRAGMA page_count")
        (free,), = self._query("PRAGMA freelist_count")
        if free < min_free_pages or free < pages * min_free_fraction:
            return False
        with self._lock, self._errors():
            self._conn.execute("VACUUM")
        return True

    # -- status -----------------------------------------------------------------------------

    def integrity(self) -> dict[str, int | bool]:
        """What a crash could have broken, counted: chunks without a vector, vectors without a
        chunk, files indexed twice, and whether the FTS index matches the chunks."""
        problems: dict[str, int | bool] = {}
        if self.embedding_space() is not None:
            (problems["chunks_without_vector"],), = self._query(
                f"SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            )
            (problems["vectors_without_chunk"],), = self._query(
                f"SELECT COUNT(*) FROM {VECTOR_TABLE} WHERE rowid NOT IN (SELECT id FROM chunks)"
            )
        (problems["chunks_without_code"],), = self._query(
            "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT id FROM chunk_codes)"
        )
        (problems["codes_without_chunk"],), = self._query(
            "SELECT COUNT(*) FROM chunk_codes WHERE id NOT IN (SELECT id FROM chunks)"
        )
        (problems["chunks_without_fts"],), = self._query(
            "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)"
        )
        (problems["fts_without_chunk"],), = self._query(
            "SELECT COUNT(*) FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
        )
        (problems["duplicate_chunks"],), = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, ordinal HAVING COUNT(*) > 1)"
        )
        try:  # FTS5's own check; it writes nothing, but it is a write statement
            with self._lock, self._errors():
                self._conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            problems["fts_ok"] = True
        except StorageError:
            problems["fts_ok"] = False
        return problems

    def stats(self) -> IndexStats:
        folders = [
            (row[0], row[1])
            for row in self._query(
                "SELECT d.path, COUNT(f.id) FROM folders d LEFT JOIN files f ON f.folder_id = d.id "
                "GROUP BY d.id ORDER BY d.path"
            )
        ]
        (files, indexed), = self._query(
            "SELECT COUNT(*), COALESCE(SUM(status = 'indexed'), 0) FROM files"
        )
        problems: dict[str, list[tuple[str, str]]] = {"failed": [], "skipped": []}
        for status, path, error in self._query(
            "SELECT status, path, error FROM files WHERE status != 'indexed' ORDER BY path"
        ):
            problems[status].append((path, error))
        (chunks,), = self._query("SELECT COUNT(*) FROM chunks")
        counts: dict[str, dict[str, int]] = {
            path: {"indexed": 0, "failed": 0, "skipped": 0, "ignored": 0, "ignored_folders": 0}
            for path, _ in folders
        }
        for path, status, count in self._query(
            "SELECT d.path, f.status, COUNT(*) FROM folders d JOIN files f ON f.folder_id = d.id "
            "GROUP BY d.id, f.status"
        ):
            counts[path][status] = count
        for path, is_folder, count in self._query(
            "SELECT d.path, i.is_folder, COUNT(*) FROM folders d JOIN ignored i ON i.folder_id = d.id "
            "GROUP BY d.id, i.is_folder"
        ):
            counts[path]["ignored_folders" if is_folder else "ignored"] = count
        ignored = [
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query(
                "SELECT path, reason, is_folder FROM ignored ORDER BY path"
            )
        ]
        return IndexStats(
            folders=folders,
            files=files,
            indexed=indexed,
            failed=problems["failed"],
            skipped=problems["skipped"],
            chunks=chunks,
            space=self.embedding_space(),
            schema_version=SCHEMA_VERSION,
            path=self.path,
            ignored=ignored,
            folder_counts=counts,
        )


_BATCH = 500


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _BATCH):
        yield ids[i : i + _BATCH]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _check_folder(conn: Any, folder_id: int) -> None:
    """Inside a write transaction: the folder is still there (a remove, from this process or
    another, is a transaction too, so it either saw this write or this write sees it gone)."""
    if conn.execute("SELECT 1 FROM folders WHERE id = ?", (folder_id,)).fetchone() is None:
        raise FolderRemoved(f"folder {folder_id} was removed")


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
