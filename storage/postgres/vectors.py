"""Vector search in PostgreSQL with pgvector: cosine distance, exact over every vector in a
small index, else through the HNSW index.

HNSW answers `ORDER BY embedding <=> q LIMIT k` from a graph, approximately: it reads
`hnsw.ef_search` candidates, so that is set to at least twice k. A filter applied after the
graph walk can leave fewer than k (pgvector 0.6 has no iterative scan): then the search runs
again exactly over the chunks that pass, so a filter never loses results.

pgvector indexes `vector` columns of at most 2,000 dimensions. A wider embedding space (e.g.
Qwen3-Embedding-4B's 2,560) is stored and searched exactly, every vector read, and `status`
says so (`vector_search`); a Qwen3 model can be cut to 2,000 dimensions or less (the `dim`
setting) to get the index (its Matryoshka training keeps most of its quality).
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from storage.interface import SAMPLE_CHUNKS, SAMPLE_SECONDS
from storage.postgres.base import HNSW_MAX_DIMENSIONS, PostgresBase
from storage.postgres.dialect import DIALECT
from storage.postgres.file_evidence import as_numpy
from storage.records import ChunkFilter

# Below this many chunks every vector is compared (exact, and quick); above, HNSW.
EXACT_BELOW_CHUNKS = 10_000
EF_SEARCH_MIN, EF_SEARCH_MAX = 100, 1000  # pgvector takes 1 to 1,000


class VectorSearch(PostgresBase):
    exact_below_chunks = EXACT_BELOW_CHUNKS  # per store: tests and benches set it on one

    def vector_search(self) -> str:
        """How vector search runs on this index, in words (status shows it)."""
        space = self.embedding_space()
        if space is None:
            return "none yet (no embedding space)"
        if space.dimension > HNSW_MAX_DIMENSIONS:
            return (
                f"exact, every vector read: pgvector {self.pgvector} indexes at most {HNSW_MAX_DIMENSIONS:,} "
                f"dimensions, these have {space.dimension:,} ([[dim {HNSW_MAX_DIMENSIONS}]] or less gets an HNSW index)"
            )
        return f"pgvector {self.pgvector} HNSW index (cosine); exact below {self.exact_below_chunks:,} chunks"

    def nearest_chunks(self, vector: bytes, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the k nearest chunks that pass the filter."""
        space = self.embedding_space()
        if space is None or k <= 0:
            return []
        if not self.indexed_with_hnsw(space) or self.chunk_count() < self.exact_below_chunks:
            return self.nearest_chunks_exact(vector, k, only)
        return self.nearest_chunks_hnsw(vector, k, only)

    def nearest_chunks_exact(self, vector: bytes, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """Every vector that passes the filter compared (the index is not used)."""
        sql, params = _filtered(only)
        with self._read() as conn:
            conn.execute("SELECT set_config('enable_indexscan', 'off', true)")
            rows = conn.execute(
                f"SELECT v.chunk_id, v.embedding <=> %s AS d FROM chunk_vectors v {sql} ORDER BY d, v.chunk_id LIMIT %s",
                [_array(vector), *params, k],
            ).fetchall()
        return [(row[0], float(row[1])) for row in rows]

    def nearest_chunks_hnsw(self, vector: bytes, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """The HNSW index's k nearest (filtered after the graph walk; exact when that leaves
        fewer than k)."""
        ef = min(EF_SEARCH_MAX, max(EF_SEARCH_MIN, 2 * k))
        query = _array(vector)
        with self._read() as conn:
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef),))
            if only is None or only.empty:
                rows = conn.execute(
                    "SELECT chunk_id, embedding <=> %s FROM chunk_vectors ORDER BY embedding <=> %s LIMIT %s",
                    (query, query, k),
                ).fetchall()
            else:
                subquery, params = DIALECT.chunk_ids_sql(only)
                rows = conn.execute(
                    "SELECT n.chunk_id, n.d FROM (SELECT chunk_id, embedding <=> %s AS d FROM chunk_vectors "
                    f"ORDER BY embedding <=> %s LIMIT %s) n WHERE n.chunk_id IN ({subquery}) ORDER BY n.d LIMIT %s",
                    [query, query, ef, *params, k],
                ).fetchall()
        if only is not None and not only.empty and len(rows) < k:
            return self.nearest_chunks_exact(vector, k, only)
        return [(row[0], float(row[1])) for row in rows]

    def background_similarity(self, vector: bytes) -> float | None:
        """The query's mean cosine with a sample of the index's chunks: what any chunk scores
        against it (a model's scale differs; a match is judged above this). None: no vectors."""
        if self.embedding_space() is None:
            return None
        sample = getattr(self, "_sample", None)
        if sample is None or (time.monotonic() - sample[0] > SAMPLE_SECONDS and sample[1] != self._generation()):
            rows = self._query(
                "SELECT embedding FROM chunk_vectors WHERE chunk_id %% GREATEST(1, "
                "(SELECT (COUNT(*) / %s)::bigint FROM chunk_vectors)) = 0 LIMIT %s",
                (SAMPLE_CHUNKS, SAMPLE_CHUNKS),
            )
            matrix = np.stack([as_numpy(row[0]) for row in rows]) if rows else None
            sample = self._sample = (time.monotonic(), self._generation(), matrix)
        if sample[2] is None:
            return None
        query = np.frombuffer(vector, dtype=np.float32)
        matrix = sample[2]
        cosine = matrix @ query / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0) + 1e-12)
        return float(cosine.mean())

    def cosine_distances(self, chunk_ids: Sequence[int], vector: bytes) -> dict[int, float]:
        if not chunk_ids or self.embedding_space() is None:
            return {}
        rows = self._query(
            "SELECT chunk_id, embedding <=> %s FROM chunk_vectors WHERE chunk_id = ANY(%s)",
            (_array(vector), list(chunk_ids)),
        )
        return {row[0]: float(row[1]) for row in rows}

    def file_similarities(self, file_ids: Sequence[int], vector: bytes) -> dict[int, tuple[float, float]]:
        """(cosine with its opening, cosine with its summary) of each file that has vectors."""
        if not file_ids or self.embedding_space() is None:
            return {}
        query = _array(vector)
        rows = self._query(
            "SELECT file_id, 1 - (opening <=> %s), 1 - (summary <=> %s) FROM file_vectors WHERE file_id = ANY(%s)",
            (query, query, list(file_ids)),
        )
        return {row[0]: (float(row[1]), float(row[2])) for row in rows}


def _array(vector: bytes) -> np.ndarray:
    return np.frombuffer(vector, dtype=np.float32)


def _filtered(only: ChunkFilter | None) -> tuple[str, list[Any]]:
    if only is None or only.empty:
        return "", []
    subquery, params = DIALECT.chunk_ids_sql(only)
    return f"WHERE v.chunk_id IN ({subquery})", params
