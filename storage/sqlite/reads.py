"""Reads of the SQLite store by name or id: folders, file records, a file's text, chunks, and
the passage that stands for each file a search found."""
from __future__ import annotations

from typing import Sequence

from storage.records import ChunkHit, FileRecord, Folder
from storage.sqlite.base import SQLiteBase, _batches, _marks
from storage.sqlite.coarse import int8_distances

_FILE_COLUMNS = "id, folder_id, path, size, mtime_ns, sha256, status, error, tried"


class Reads(SQLiteBase):
    def folders(self) -> list[Folder]:
        return [Folder(*row) for row in self._query("SELECT id, path FROM folders ORDER BY path")]

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

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]:
        out: dict[int, ChunkHit] = {}
        for batch in _batches(list(chunk_ids)):
            rows = self._query(
                "SELECT c.id, c.file_id, f.path, c.ordinal, c.start, c.end, c.page, c.text, "
                "f.mtime_ns, c.context, f.embedded = 1 FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.id IN ({_marks(batch)})",
                batch,
            )
            out.update({row[0]: ChunkHit(*row[:-1], embedded=bool(row[-1])) for row in rows})
        return out

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
