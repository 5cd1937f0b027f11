"""Reads of the SQLite store by name or id: folders, file records, a file's text, chunks, and
the passage that stands for each file a search found."""
from __future__ import annotations

from typing import Sequence

from storage.common.reads import FileReads
from storage.fts import fts_match
from storage.records import ChunkHit, KeywordMatch
from storage.sqlite.base import SQLiteBase
from storage.sqlite.coarse import int8_distances
from storage.sqlite.dialect import DIALECT


class Reads(FileReads, SQLiteBase):
    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]:
        out: dict[int, ChunkHit] = {}
        for batch in DIALECT.batches(list(chunk_ids)):
            rows = self._query(
                "SELECT c.id, c.file_id, f.path, c.ordinal, c.start, c.end, c.page, c.text, "
                "f.mtime_ns, c.context, f.embedded = 1 FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.id IN ({DIALECT.marks(batch)})",
                batch,
            )
            out.update({row[0]: ChunkHit(*row[:-1], embedded=bool(row[-1])) for row in rows})
        return out

    def passages(self, file_ids: Sequence[int], vector: bytes | None, match: KeywordMatch | None) -> dict[int, int]:
        """The chunk that best stands for each file (found by its file-level evidence): the
        nearest to the query vector, else the best by BM25, else its first chunk."""
        best: dict[int, int] = {}
        fts = fts_match(match) if match else None
        for file_id in file_ids:
            chunk = None
            if vector is not None:
                rows = self._query(
                    "SELECT k.id, k.q8 FROM chunk_codes k JOIN chunks c ON c.id = k.id WHERE c.file_id = ?",
                    (file_id,),
                )
                if rows:
                    chunk = min(int8_distances(rows, vector), key=lambda item: item[1])[0]
            if chunk is None and fts:
                rows = self._query(
                    "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN "
                    "(SELECT id FROM chunks WHERE file_id = ?) ORDER BY bm25(chunks_fts) LIMIT 1",
                    (fts, file_id),
                )
                chunk = rows[0][0] if rows else None
            if chunk is None:
                rows = self._query("SELECT id FROM chunks WHERE file_id = ? ORDER BY ordinal LIMIT 1", (file_id,))
                chunk = rows[0][0] if rows else None
            if chunk is not None:
                best[file_id] = chunk
        return best
