"""Reads of the PostgreSQL store by name or id: folders, file records, a file's text, chunks, and
the passage that stands for each file a search found."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from storage.common.reads import FileReads
from storage.postgres.base import PostgresBase
from storage.records import ChunkHit, KeywordMatch


class Reads(FileReads, PostgresBase):
    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]:
        if not chunk_ids:
            return {}
        rows = self._query(
            'SELECT c.id, c.file_id, f.path, c.ordinal, c.start, c."end", c.page, c.text, '
            "f.mtime_ns, c.context, f.embedded FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id = ANY(%s)",
            (list(chunk_ids),),
        )
        return {row[0]: ChunkHit(*row[:-1], embedded=bool(row[-1])) for row in rows}

    def passages(self, file_ids: Sequence[int], vector: bytes | None, match: KeywordMatch | None) -> dict[int, int]:
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
