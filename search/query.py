"""Answer a query: vector KNN and/or FTS5 BM25 (both under the same filters), fused by
reciprocal rank, grouped by file, the best files reranked by a cross-encoder, snippets cut
around the query's words."""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from search.errors import FathomError
from search.presets import instruction_for
from search.snippets import make_snippet
from storage import ChunkFilter, ChunkHit, Store, fts_query

MODES = ("hybrid", "vector", "keyword")
# Tuned with bench/quality.py --sweep (stdlib, MiniLM, seed 0), checked on seed 1: a small RRF k
# and half weight for BM25, whose ranks are noisier than the embedder's. Adding a file's next
# chunks to its score (decay > 0) favoured long files and lost MRR at every setting.
RRF_K = 5
VECTOR_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
CHUNK_DECAY = 0.0  # hybrid file score: best chunk + decay * 2nd + decay^2 * 3rd
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
    vector_weight: float = VECTOR_WEIGHT
    keyword_weight: float = KEYWORD_WEIGHT
    rrf_k: int = RRF_K
    chunk_decay: float = CHUNK_DECAY
    filters: ChunkFilter | None = None
    exclude_path: str | None = None  # "more like this" leaves out the file it started from

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
    context: str = ""
    snippet: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    mtime_ns: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["modified"] = self.mtime_ns / 1e9 if self.mtime_ns > 0 else None
        data["highlights"] = [list(span) for span in self.highlights]
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
    if not has_words(query):
        return []
    instruction = instruction_for(options.task, options.instruction)

    only = options.filters
    vector: bytes | None = None
    vector_hits: list[tuple[int, float]] = []
    if options.mode in ("hybrid", "vector"):
        if embedder is None:
            raise FathomError("Vector search needs an embedding model.")
        qv = embedder.embed_queries([query], instruction)[0]
        vector = np.ascontiguousarray(qv, dtype=np.float32).tobytes()
        vector_hits = store.nearest_chunks(vector, options.candidates, only)
    keyword_hits: list[tuple[int, float]] = []
    if options.mode in ("hybrid", "keyword"):
        match = fts_query(query)
        if match:
            keyword_hits = store.keyword_chunks(match, options.candidates, only)

    fused = _fuse(vector_hits, keyword_hits, options)
    vector_scores = {cid: 1.0 - dist for cid, dist in vector_hits}
    keyword_scores = dict(keyword_hits)
    chunks = store.chunks(list(fused))
    best, file_scores = _group_by_file(fused, chunks, options)
    ranked = sorted(best, key=lambda cid: file_scores[cid], reverse=True)

    do_rerank = reranker is not None and options.rerank and options.rerank_top > 0
    keep = max(options.k, options.rerank_top if do_rerank else 0)
    ranked = ranked[:keep]
    if vector is not None:
        # Exact cosine for what is shown: keyword-only hits have none yet, and a large index's
        # coarse pass ranks by compact copies (storage/coarse.py).
        vector_scores.update(
            {cid: 1.0 - dist for cid, dist in store.cosine_distances(ranked, vector).items()}
        )
    results = {
        cid: _result(chunks[cid], query, file_scores[cid], vector_scores.get(cid), keyword_scores.get(cid))
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


def has_words(query: str) -> bool:
    """Whether a query holds anything to search for: not only spaces and punctuation."""
    return any(not ch.isspace() and not unicodedata.category(ch).startswith("P") for ch in query)


def _group_by_file(
    fused: dict[int, float], chunks: dict[int, ChunkHit], options: SearchOptions
) -> tuple[list[int], dict[int, float]]:
    """One entry per file: its best chunk, scored by its chunks' evidence. In hybrid mode a
    file's score adds its next best chunks, decayed, so a file that matches in several places
    outranks one lucky chunk; single modes keep the best chunk's own score."""
    per_file: dict[int, list[int]] = {}
    for cid in sorted(fused, key=fused.__getitem__, reverse=True):
        hit = chunks.get(cid)
        if hit is None or hit.path == options.exclude_path:
            continue
        per_file.setdefault(hit.file_id, []).append(cid)
    decay = options.chunk_decay if options.mode == "hybrid" else 0.0
    scores = {
        cids[0]: sum(fused[cid] * decay**i for i, cid in enumerate(cids[:3])) if decay else fused[cids[0]]
        for cids in per_file.values()
    }
    return [cids[0] for cids in per_file.values()], scores


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
            fused[cid] = fused.get(cid, 0.0) + weight / (options.rrf_k + rank + 1)
    return fused


def _result(
    hit: ChunkHit, query: str, score: float, vector_score: float | None, keyword_score: float | None
) -> Result:
    excerpt = make_snippet(hit.text, query)
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
        context=hit.context,
        snippet=excerpt.text,
        highlights=excerpt.highlights,
        mtime_ns=hit.mtime_ns,
    )
