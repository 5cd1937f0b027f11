"""Answer a query: vector KNN and/or FTS5 BM25, fused by reciprocal rank, grouped by file,
the best files reranked by a cross-encoder, snippets cut around the query's words."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from search.errors import FathomError
from search.presets import instruction_for
from storage import ChunkHit, Store, fts_query

MODES = ("hybrid", "vector", "keyword")
RRF_K = 60
DEFAULT_RERANK_TOP = 10


class QueryEmbedder(Protocol):
    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray: ...


class CrossEncoder(Protocol):
    def rerank(self, query: str, documents: Sequence[str], instruction: str | None = None) -> list[float]: ...


@dataclass(frozen=True)
class SearchOptions:
    k: int = 10
    mode: str = "hybrid"
    task: str | None = None
    instruction: str | None = None
    rerank: bool = True
    rerank_top: int = DEFAULT_RERANK_TOP
    vector_weight: float = 1.0
    keyword_weight: float = 1.0

    @property
    def candidates(self) -> int:
        """Chunks fetched from each side: enough to still fill k files after grouping."""
        return max(100, 10 * self.k)


@dataclass
class Result:
    """One file in the results, represented by its best chunk. Scores not computed are None."""

    path: str
    score: float
    vector_score: float | None
    keyword_score: float | None
    rerank_score: float | None
    page: int | None
    start: int
    end: int
    text: str
    mtime_ns: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("mtime_ns")
        return data


def search(
    store: Store,
    query: str,
    options: SearchOptions = SearchOptions(),
    embedder: QueryEmbedder | None = None,
    reranker: CrossEncoder | None = None,
) -> list[Result]:
    if options.mode not in MODES:
        raise FathomError(f"Unknown search mode {options.mode!r}: choose one of {', '.join(MODES)}.")
    if options.k < 1:
        raise FathomError(f"-k must be at least 1, found {options.k}.")
    query = query.strip()
    if not query:
        return []
    instruction = instruction_for(options.task, options.instruction)

    vector: bytes | None = None
    vector_hits: list[tuple[int, float]] = []
    if options.mode in ("hybrid", "vector"):
        if embedder is None:
            raise FathomError("Vector search needs an embedding model.")
        qv = embedder.embed_queries([query], instruction)[0]
        vector = np.ascontiguousarray(qv, dtype=np.float32).tobytes()
        vector_hits = store.nearest_chunks(vector, options.candidates)
    keyword_hits: list[tuple[int, float]] = []
    if options.mode in ("hybrid", "keyword"):
        match = fts_query(query)
        if match:
            keyword_hits = store.keyword_chunks(match, options.candidates)

    fused = _fuse(vector_hits, keyword_hits, options)
    vector_scores = {cid: 1.0 - dist for cid, dist in vector_hits}
    keyword_scores = dict(keyword_hits)

    chunks = store.chunks(list(fused))
    best: dict[int, int] = {}  # file id -> its best chunk id
    for cid in sorted(fused, key=fused.get, reverse=True):
        hit = chunks.get(cid)
        if hit is not None and hit.file_id not in best:
            best[hit.file_id] = cid
    ranked = list(best.values())

    do_rerank = reranker is not None and options.rerank and options.rerank_top > 0
    keep = max(options.k, options.rerank_top if do_rerank else 0)
    ranked = ranked[:keep]
    if vector is not None:
        missing = [cid for cid in ranked if cid not in vector_scores]
        vector_scores.update(
            {cid: 1.0 - dist for cid, dist in store.cosine_distances(missing, vector).items()}
        )
    results = {
        cid: _result(chunks[cid], fused[cid], vector_scores.get(cid), keyword_scores.get(cid))
        for cid in ranked
    }
    order = ranked
    if do_rerank:
        top = ranked[: options.rerank_top]
        scores = reranker.rerank(query, [chunks[cid].text for cid in top], instruction)
        for cid, score in zip(top, scores):
            results[cid].rerank_score = score
            results[cid].score = score
        top.sort(key=lambda cid: results[cid].score, reverse=True)
        order = top + ranked[options.rerank_top :]
    return [results[cid] for cid in order[: options.k]]


def _fuse(
    vector_hits: list[tuple[int, float]],
    keyword_hits: list[tuple[int, float]],
    options: SearchOptions,
) -> dict[int, float]:
    """One score per chunk. A single mode keeps its own score (cosine or BM25); hybrid uses
    reciprocal rank fusion, which needs no calibration between the two scales."""
    if options.mode == "vector":
        return {cid: 1.0 - dist for cid, dist in vector_hits}
    if options.mode == "keyword":
        return dict(keyword_hits)
    fused: dict[int, float] = {}
    for weight, hits in ((options.vector_weight, vector_hits), (options.keyword_weight, keyword_hits)):
        for rank, (cid, _score) in enumerate(hits):
            fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
    return fused


def _result(hit: ChunkHit, score: float, vector_score: float | None, keyword_score: float | None) -> Result:
    return Result(
        path=hit.path,
        score=score,
        vector_score=vector_score,
        keyword_score=keyword_score,
        rerank_score=None,
        page=hit.page,
        start=hit.start,
        end=hit.end,
        text=hit.text,
        mtime_ns=hit.mtime_ns,
    )


def snippet(text: str, query: str, width: int = 240) -> str:
    """A one-line excerpt of `text` around the first word of `query` it contains."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lowered = flat.lower()
    positions = [lowered.find(w.lower()) for w in re.findall(r"\w{3,}", query)]
    positions = [p for p in positions if p >= 0]
    centre = min(positions) if positions else 0
    start = max(0, min(centre - width // 3, len(flat) - width))
    piece = flat[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")
