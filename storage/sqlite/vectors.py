"""Vector search in SQLite: exact KNN over the float vectors (sqlite-vec), and for large
indexes the coarse path over binary codes kept in memory and brought up to date by their
change log (coarse.py says why), then rescored with int8 copies."""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from storage.interface import SAMPLE_CHUNKS, SAMPLE_SECONDS
from storage.records import ChunkFilter
from storage.sqlite.base import VECTOR_TABLE, SQLiteBase
from storage.sqlite.coarse import CodeMatrix, int8_distances
from storage.sqlite.dialect import DIALECT

# Above this many chunks, vector search ranks binary codes first, then rescores the best
# (storage/sqlite/coarse.py): bench/knn.py measured exact float KNN past 100 ms beyond ~50k chunks.
COARSE_FROM_CHUNKS = 50_000
RESCORE_AT_LEAST = 400


class VectorSearch(SQLiteBase):
    coarse_from_chunks = COARSE_FROM_CHUNKS  # per store: tests and benches set it on one

    def vector_search(self) -> str:
        """How vector search runs on this index, in words (status shows it)."""
        return (
            f"sqlite-vec, exact below {self.coarse_from_chunks:,} chunks, then binary codes in memory "
            "rescored with int8 copies"
        )

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
            subquery, extra = DIALECT.chunk_ids_sql(only)
            sql += f" AND rowid IN ({subquery})"
            params += extra
        return [(row[0], row[1]) for row in self._query(sql + " ORDER BY distance", params)]

    def nearest_chunks_coarse(
        self, vector: bytes, k: int, only: ChunkFilter | None = None, rescore: int | None = None
    ) -> list[tuple[int, float]]:
        """Hamming distance on binary codes picks `rescore` candidates; cosine on their int8
        copies ranks them (storage/sqlite/coarse.py says why). Filters apply to the first pass."""
        codes = self._code_matrix()
        allowed = None
        if only is not None and not only.empty:
            subquery, params = DIALECT.chunk_ids_sql(only)
            allowed = np.fromiter((row[0] for row in self._query(subquery, params)), dtype=np.int64)
        candidates = [int(i) for i in codes.nearest(vector, max(rescore or RESCORE_AT_LEAST, 4 * k), allowed)]
        rows: list[tuple[int, bytes]] = []
        for batch in DIALECT.batches(candidates):
            rows += self._query(f"SELECT id, q8 FROM chunk_codes WHERE id IN ({DIALECT.marks(batch)})", batch)
        return sorted(int8_distances(rows, vector), key=lambda item: item[1])[:k]

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
                    for batch in DIALECT.batches(changed):
                        rows += self._query(f"SELECT id, code FROM chunk_codes WHERE id IN ({DIALECT.marks(batch)})", batch)
                    self._codes = cached.updated(np.array(changed, dtype=np.int64), rows, generation, seq)
                    return self._codes
            rows = self._query("SELECT id, code FROM chunk_codes")
            self._codes = CodeMatrix.from_rows(rows, generation, seq)
            return self._codes

    def background_similarity(self, vector: bytes) -> float | None:
        """The query's mean cosine with a sample of the index's chunks: what any chunk scores
        against it (a model's scale differs; a match is judged above this). None: no vectors."""
        sample = self._sample
        if sample is None or (time.monotonic() - sample[0] > SAMPLE_SECONDS and sample[1] != self._generation()):
            (count,), = self._query("SELECT COUNT(*) FROM chunk_codes")
            step = max(1, count // SAMPLE_CHUNKS)
            rows = self._query("SELECT id, q8 FROM chunk_codes WHERE id % ? = 0 LIMIT ?", (step, SAMPLE_CHUNKS))
            sample = self._sample = (time.monotonic(), self._generation(), rows)
        if not sample[2]:
            return None
        return float(np.mean([1.0 - d for _, d in int8_distances(sample[2], vector)]))

    def cosine_distances(self, chunk_ids: Sequence[int], vector: bytes) -> dict[int, float]:
        if not chunk_ids or self.embedding_space() is None:
            return {}
        out: dict[int, float] = {}
        sql = f"SELECT rowid, vec_distance_cosine(embedding, ?) FROM {VECTOR_TABLE} WHERE rowid = ?"
        for chunk_id in chunk_ids:  # one lookup each: vec0 answers `rowid IN (...)` by a scan
            out.update(self._query(sql, (vector, chunk_id)))
        return out

    def file_similarities(self, file_ids: Sequence[int], vector: bytes) -> dict[int, tuple[float, float]]:
        """(cosine with its opening, cosine with its summary) of each file that has vectors."""
        rows: list[Any] = []
        for batch in DIALECT.batches(list(file_ids)):
            rows += self._query(
                f"SELECT file_id, opening, summary FROM file_vectors WHERE file_id IN ({DIALECT.marks(batch)})", batch
            )
        opening = dict(int8_distances([(r[0], r[1]) for r in rows], vector))
        summary = dict(int8_distances([(r[0], r[2]) for r in rows], vector))
        return {fid: (1.0 - opening[fid], 1.0 - summary[fid]) for fid in opening}
