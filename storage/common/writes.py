"""A file's own row, written alike by both stores: the file indexed (its chunks, their vectors
and its file-level rows are the backend's `_write_contents`), a failure, a new stat. Each is one
transaction, run again where the backend does (storage/common/base.py)."""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from storage.common.base import StoreBase, retried
from storage.errors import FolderRemoved
from storage.file_text import joined_text
from storage.records import ChunkRow


class FileWrites(StoreBase):
    _folder_lock = ""  # what keeps the folder of a write there until its commit
    _write_contents: Callable[..., None]  # the backend's: a file's chunks, vectors and file-level rows

    @retried
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
        chunker: str | None = None,
        cut: str | None = None,
        tried: str | None = None,
    ) -> None:
        """Replace everything stored for `path` with these chunks, atomically, with the rows
        of the file as a whole: its `title` and whole `text` (default: joined from the chunks).
        Chunks without a vector are searchable by their words at once and wait for the
        meaning phase; `chunker` names what cut them (see `pending_chunks`). `cut` says why
        only these of its passages are stored (kept as its error, listed by `stats`)."""
        with self.transaction() as conn:
            folder = self._check_folder(conn, folder_id)
            has_space = self._space_in(conn) is not None
            embedded = has_space and all(c.vector is not None for c in chunks)
            file_id = self._upsert_file(
                conn, folder_id, path, size, mtime_ns, sha256, "indexed", cut, tried, chunker=chunker, embedded=embedded
            )
            self._delete_chunks(conn, [file_id])
            if text is None:
                text = joined_text([(c.start, c.end, c.text) for c in chunks])
            # without their vectors, the chunks take those already made for their texts
            self._write_contents(conn, file_id, path, folder, title, text, chunks, embedded, has_space and not embedded)

    @retried
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
            self._check_folder(conn, folder_id)
            file_id = self._upsert_file(conn, folder_id, path, size, mtime_ns, sha256, status, error, tried)
            self._delete_chunks(conn, [file_id])

    @retried
    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """The content is unchanged (same hash) but stat moved: remember the new stat."""
        m = self.dialect.mark
        with self.transaction() as conn:
            conn.execute(f"UPDATE files SET size = {m}, mtime_ns = {m} WHERE id = {m}", (size, mtime_ns, file_id))

    def _upsert_file(
        self, conn: Any, folder_id: int, path: str, size: int, mtime_ns: int, sha256: str | None, status: str,
        error: str | None, tried: str | None = None, chunker: str | None = None, embedded: bool = True,
    ) -> int:
        """The file's row, inserted or replaced; concurrent writers of one path wait for each
        other here (the row stays locked until the commit), so a path never has two rows."""
        text, marks = self.dialect.stored_text, self.dialect.marks(range(11))
        returning = " RETURNING id" if self.dialect.returning else ""
        written = conn.execute(
            f"INSERT INTO files(folder_id, path, size, mtime_ns, sha256, status, error, indexed_at, tried, chunker, "
            f"embedded) VALUES ({marks}) ON CONFLICT (path) DO UPDATE SET "
            "folder_id = excluded.folder_id, size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "sha256 = excluded.sha256, status = excluded.status, error = excluded.error, "
            "indexed_at = excluded.indexed_at, tried = excluded.tried, chunker = excluded.chunker, "
            f"embedded = excluded.embedded{returning}",
            (folder_id, text(path), size, mtime_ns, sha256, status, text(error) if error else error, time.time(),
             tried, chunker, embedded),
        )
        if returning:
            return int(written.fetchone()[0])
        return int(conn.execute(f"SELECT id FROM files WHERE path = {self.dialect.mark}", (text(path),)).fetchone()[0])

    def _check_folder(self, conn: Any, folder_id: int) -> str:
        """Inside a write transaction: the folder is still there, and stays until the commit (a
        remove, from this process or another, is a transaction too: it waits for this write,
        or this write sees it gone). Returns its path."""
        row = conn.execute(
            f"SELECT path FROM folders WHERE id = {self.dialect.mark}{self._folder_lock}", (folder_id,)
        ).fetchone()
        if row is None:
            raise FolderRemoved(f"folder {folder_id} was removed")
        return str(row[0])
