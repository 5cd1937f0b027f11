"""Reads of the PostgreSQL store by name or id: folders, file records, a file's text, chunks, and
the passage that stands for each file a search found."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from storage.postgres.base import PostgresBase
from storage.records import ChunkHit, FileRecord, Folder

_FILE_COLUMNS = "id, folder_id, path, size, mtime_ns, sha256, status, error, tried"


class Reads(PostgresBase):
    def folders(self) -> list[Folder]:
        return [Folder(*row) for row in self._query("SELECT id, path FROM folders ORDER BY path")]

    def files_in_folder(self, folder_id: int) -> dict[str, FileRecord]:
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE folder_id = %s", (folder_id,))
        return {row[2]: FileRecord(*row) for row in rows}

    def files_under(self, path: str) -> list[FileRecord]:
        """The file at `path`, or every file below it when it is (or was) a folder."""
        prefix = path.rstrip("/") + "/"
        rows = self._query(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = %s OR (path >= %s AND path < %s)",
            (path, prefix, prefix[:-1] + "0"),  # '0' sorts right after '/'
        )
        return [FileRecord(*row) for row in rows]

    def file_record(self, path: str) -> FileRecord | None:
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = %s", (path,))
        return FileRecord(*rows[0]) if rows else None

    def file_text(self, path: str, max_chars: int) -> str | None:
        """The start of an indexed file's text, from its chunks (None if not indexed)."""
        record = self.file_record(path)
        if record is None or record.status != "indexed":
            return None
        parts, total = [], 0
        for (text,) in self._query("SELECT text FROM chunks WHERE file_id = %s ORDER BY ordinal", (record.id,)):
            parts.append(text)
            total += len(text)
            if total >= max_chars:
                break
        return "\n".join(parts)[:max_chars]

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]:
        if not chunk_ids:
            return {}
        rows = self._query(
            'SELECT c.id, c.file_id, f.path, c.ordinal, c.start, c."end", c.page, c.text, '
            "f.mtime_ns, c.context, f.embedded FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id = ANY(%s)",
            (list(chunk_ids),),
        )
        return {row[0]: ChunkHit(*row[:-1], embedded=bool(row[-1])) for row in rows}

    def passages(self, file_ids: Sequence[int], vector: bytes | None, match: str | None) -> dict[int, int]:
        """The chunk that best stands for each file (found by its file-level evidence): the
        nearest to the query vector, else the best by BM25, else its first chunk."""
        ids = list(file_ids)
        best: dict[int, int] = {}
        if ids and vector is not None and self.embedding_space() is not None:
            best.update(self._query(
                "SELECT DISTINCT ON (c.file_id) c.file_id, c.id FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id "
                "WHERE c.file_id = ANY(%s) ORDER BY c.file_id, v.embedding <=> %s, c.ordinal",
                (ids, np.frombuffer(vector, dtype=np.float32)),
            ))
        rest = [f for f in ids if f not in best]
        if rest and match:
            best.update(self._best_chunks_by_words(match, rest))  # type: ignore[attr-defined]
        rest = [f for f in ids if f not in best]
        if rest:
            best.update(self._query(
                "SELECT DISTINCT ON (file_id) file_id, id FROM chunks WHERE file_id = ANY(%s) ORDER BY file_id, ordinal",
                (rest,),
            ))
        return {f: best[f] for f in ids if f in best}
