"""Answer a query: rank files by the evidence of their chunks and of the file as a whole.

Chunk evidence: vector KNN and FTS5 BM25 over chunks, each file by its best chunk. File
evidence (hybrid mode): BM25 over the whole file (its name, folders and title weighing more
than its text), BM25 over the names alone, and the query's cosine with the file's opening and
with the mean of its chunks, for the files the other lists found. Every list ranks files; they
are fused by weighted reciprocal rank, which needs no calibration between scales. The best
files may then be reranked by a cross-encoder, and snippets are cut around the query's words.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, Sequence

import numpy as np

from search import defaults
from search.errors import FathomError
from search.ingest.context import embedding_text
from search.presets import instruction_for
from search.query_syntax import Query, corrected, parse_query, plain_query
from search.snippets import make_snippet, words_covered
from search.wording import mark
from storage import ChunkFilter, ChunkHit, IndexStore, KeywordMatch, WordQuery

MODES = ("hybrid", "vector", "keyword")
# Tuned with bench/quality.py on three known-item sets (seed 0), checked on held-out queries
# (seed 1). RRF k and the weight of the two families (the CLI's --vector-weight and
# --keyword-weight) scale everything; inside a family each ranked list counts as below.
RRF_K = 5
VECTOR_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
VECTOR_LISTS = {"chunks": 1.0, "opening": 0.5, "summary": 1.0}
KEYWORD_LISTS = {"chunks": 1.0, "file": 2.0, "names": 1.0}
FILE_WEIGHT = 1.0  # the file-level lists; 0 ranks files by their chunks only (bench/search.py)
# How far a cosine must stand above the query's background (its mean cosine with any chunk):
# below WEAK_MARGIN a vector match is noise and ranks nothing; from STRONG_MARGIN it is a match
# (all-MiniLM-L6-v2 on our sets: nonsense queries' best 0.19-0.29, answers' median 0.40).
# A margin above 0 cost the readmes set 0.007 MRR@10 (0.05 and 0.1 alike) and gained nothing.
WEAK_MARGIN = 0.0
STRONG_MARGIN = 0.3
STRONG_WORDS = 0.67  # or this share of the query's words in the passage
NO_STRONG_MATCH_K = 5  # results shown when none is a strong match
DEFAULT_RERANK_TOP = defaults.RERANK_TOP


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
    rerank: bool | None = True  # None: the engine decides (not on a CPU: search_with_notes)
    rerank_top: int = DEFAULT_RERANK_TOP
    vector_weight: float = VECTOR_WEIGHT
    keyword_weight: float = KEYWORD_WEIGHT
    rrf_k: int = RRF_K
    file_weight: float = FILE_WEIGHT
    filters: ChunkFilter | None = None
    exclude_path: str | None = None  # "more like this" leaves out the file it started from
    spelling: bool = True  # misspelled words matched to indexed ones; False: as typed

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
    embedded: bool = True  # False: its vectors are still to come; found by its words meanwhile
    strong: bool = True  # a strong match: most of the query's words, or a close meaning
    word_score: float | None = None  # BM25 of the file's best passage by words, shown or not

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["modified"] = self.mtime_ns / 1e9 if self.mtime_ns > 0 else None
        data["highlights"] = [list(span) for span in self.highlights]
        data.pop("mtime_ns")
        return data


def search(
    store: IndexStore,
    query: str | Query,
    options: SearchOptions = SearchOptions(),
    embedder: QueryEmbedder | None = None,
    reranker: CrossEncoder | None = None,
) -> list[Result]:
    """The best files for a query: text as a person types it (search/query_syntax.py: its
    misspelled words are corrected), or a Query already read (and corrected, or not)."""
    if options.mode not in MODES:
        raise FathomError(f"Unknown search mode {options.mode!r}: choose one of {', '.join(MODES)}.")
    if options.k < 1:
        raise FathomError(f"{mark('k')} must be at least 1, found {options.k}.")
    parsed = understood(store, query, options)  # a file's text ("more like this") has no syntax
    if not parsed.words and not parsed.phrases:
        return []
    instruction = instruction_for(options.task, options.instruction)
    found = _evidence(store, parsed, options, embedder, instruction)
    scores = _file_scores(store, options, found)
    shown = _shown_chunks(options, found)
    chunks = found.chunks

    do_rerank = reranker is not None and options.rerank and options.rerank_top > 0
    keep = max(options.k, options.rerank_top if do_rerank else 0)
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:keep]
    missing = [f for f in ranked if f not in shown]  # found by file-level evidence alone
    if missing:
        shown.update(store.passages(missing, found.vector, found.match))
        chunks.update(store.chunks([shown[f] for f in missing if f in shown]))
    ranked = [f for f in ranked if f in shown]
    vector_scores, keyword_scores = found.vector_scores, found.keyword_scores
    if found.vector is not None:
        # Exact cosine for what is shown: keyword-only hits have none yet, and a large index's
        # coarse pass ranks by compact copies (storage/sqlite/coarse.py).
        vector_scores.update(
            {cid: 1.0 - dist for cid, dist in store.cosine_distances([shown[f] for f in ranked], found.vector).items()}
        )
    results = {
        f: _result(chunks[shown[f]], parsed, scores[f], vector_scores.get(shown[f]), keyword_scores.get(shown[f]),
                   found.background)
        for f in ranked
    }
    for f in ranked:
        results[f].word_score = keyword_scores.get(found.by_keyword[f]) if f in found.by_keyword else None
    order = ranked
    if do_rerank:
        top = ranked[: options.rerank_top]
        # The reranker reads what the person sees: the passage under its title and section.
        passages = [embedding_text(chunks[shown[f]].context, chunks[shown[f]].text) for f in top]
        for f, score in zip(top, reranker.rerank(parsed.meaning, passages, instruction)):
            results[f].rerank_score = score
            results[f].score = score
        top.sort(key=lambda f: results[f].score, reverse=True)
        order = top + ranked[options.rerank_top :]
    found_files = [results[f] for f in order[: options.k]]
    if options.mode == "hybrid" and not any(r.strong for r in found_files):
        return found_files[:NO_STRONG_MATCH_K]  # fewer, and each says it is weak
    return found_files


@dataclass
class _Evidence:
    """What the chunk lists found for a query: their hits (best first), each file's best chunk
    in each, and the query's vector and word match for the file-level lists."""

    vector: bytes | None
    match: KeywordMatch | None
    words: WordQuery
    vector_hits: list[tuple[int, float]]  # noise-level matches left out in hybrid mode
    keyword_hits: list[tuple[int, float]]
    chunks: dict[int, ChunkHit]
    vector_scores: dict[int, float]  # chunk id -> cosine
    keyword_scores: dict[int, float]
    background: float | None  # the query's mean cosine with any chunk
    skip: set[int]  # files left out: "more like this"'s own, and those with a -word
    by_vector: dict[int, int]  # file id -> its best chunk by vector
    by_keyword: dict[int, int]


def _evidence(
    store: IndexStore, parsed: Query, options: SearchOptions, embedder: QueryEmbedder | None, instruction: str | None
) -> _Evidence:
    only, n = options.filters, options.candidates
    vector: bytes | None = None
    vector_hits: list[tuple[int, float]] = []
    if options.mode in ("hybrid", "vector"):
        if embedder is None:
            raise FathomError("Vector search needs an embedding model.")
        qv = embedder.embed_queries([parsed.meaning], instruction)[0]  # what the models read
        vector = np.ascontiguousarray(qv, dtype=np.float32).tobytes()
        vector_hits = store.nearest_chunks(vector, n, only)
    words = parsed.words_query
    match = store.keyword_match(words) if options.mode in ("hybrid", "keyword") else None
    keyword_hits = store.keyword_chunks(match, n, only) if match else []
    if not keyword_hits and words.phrases and options.mode == "hybrid":
        # No file has the phrase: its words still count, as words.
        words = WordQuery(words.words + words.phrases)
        match = store.keyword_match(words)
        keyword_hits = store.keyword_chunks(match, n, only) if match else []

    chunks = store.chunks(list(dict.fromkeys(cid for cid, _ in vector_hits + keyword_hits)))
    excluded = store.file_record(options.exclude_path) if options.exclude_path else None
    skip = {excluded.id} if excluded else set()
    skip |= store.files_with(parsed.excluded) if parsed.excluded else set()  # -word, -"phrase"
    vector_scores = {cid: 1.0 - dist for cid, dist in vector_hits}
    background = store.background_similarity(vector) if vector is not None else None
    if background is not None and options.mode == "hybrid":  # noise-level matches rank nothing
        vector_hits = [(c, d) for c, d in vector_hits if 1.0 - d - background >= WEAK_MARGIN]
    return _Evidence(
        vector, match, words, vector_hits, keyword_hits, chunks, vector_scores, dict(keyword_hits), background,
        skip, _best_per_file(vector_hits, chunks, skip), _best_per_file(keyword_hits, chunks, skip),
    )


def _file_scores(store: IndexStore, options: SearchOptions, found: _Evidence) -> dict[int, float]:
    """Each file's score: its best chunk's in one mode, else the fusion of every list."""
    by_vector, by_keyword, chunks = found.by_vector, found.by_keyword, found.chunks
    if options.mode == "vector":
        return {f: found.vector_scores[c] for f, c in by_vector.items()}
    if options.mode == "keyword":
        return {f: found.keyword_scores[c] for f, c in by_keyword.items()}
    lists = [Ranked(options.vector_weight * VECTOR_LISTS["chunks"], list(by_vector), by_vector=True),
             Ranked(options.keyword_weight * KEYWORD_LISTS["chunks"], list(by_keyword))]
    waiting = {chunks[c].file_id for c in by_keyword.values() if not chunks[c].embedded}
    if options.file_weight > 0:
        file_match = store.keyword_match(found.words, "files") if found.match else None
        file_lists, embedded = _file_lists(
            store, file_match, found.vector, options, found.skip, [*by_vector, *by_keyword], found.background
        )
        lists += file_lists
        if embedded is not None:  # the files of every list that have no file vectors yet
            waiting = {f for ranked in lists for f in ranked.files if f not in embedded}
    return _fuse(lists, options.rrf_k, waiting)


def _shown_chunks(options: SearchOptions, found: _Evidence) -> dict[int, int]:
    """Each file is shown by its best chunk: of its best by vector and by keyword, the one the
    two chunk lists together rank higher."""
    chunk_rank = _rrf([(options.vector_weight, [c for c, _ in found.vector_hits]),
                       (options.keyword_weight, [c for c, _ in found.keyword_hits])], options.rrf_k)
    shown = dict(found.by_keyword)
    for f, c in found.by_vector.items():
        shown[f] = c if f not in shown or chunk_rank.get(c, 0.0) >= chunk_rank.get(shown[f], 0.0) else shown[f]
    return shown


def understood(store: IndexStore, query: str | Query, options: SearchOptions) -> Query:
    """The query as it is searched: read (search/query_syntax.py), its misspelled words
    corrected unless `options.spelling` is off; a search given the result searches just that."""
    if isinstance(query, str):
        query = plain_query(query) if options.exclude_path else parse_query(query)
    return corrected(store, query) if options.spelling else replace(query, checked=True)


def has_words(query: str) -> bool:
    """Whether a query holds anything to search for: not only spaces and punctuation."""
    return any(not ch.isspace() and not unicodedata.category(ch).startswith("P") for ch in query)


def _best_per_file(hits: list[tuple[int, float]], chunks: dict[int, ChunkHit], skip: set[int]) -> dict[int, int]:
    """file id -> its best chunk in `hits` (which come best first), files in the order found."""
    best: dict[int, int] = {}
    for cid, _score in hits:
        hit = chunks.get(cid)
        if hit is not None and hit.file_id not in skip and hit.file_id not in best:
            best[hit.file_id] = cid
    return best


@dataclass(frozen=True)
class Ranked:
    """One ranked list of files and its weight in the fusion; `by_vector`: it ranks by the
    files' vectors, so a file without them yet cannot be in it."""

    weight: float
    files: list[int]
    by_vector: bool = False


def _file_lists(
    store: IndexStore,
    match: KeywordMatch | None,
    vector: bytes | None,
    options: SearchOptions,
    skip: set[int],
    found: list[int],
    background: float | None = None,
) -> tuple[list[Ranked], set[int] | None]:
    """The file-level ranked lists, and the files among all found that have their file vectors
    (None when no vector was asked for); files near the query's `background` rank by no vector."""
    n, only, weight = options.candidates, options.filters, options.file_weight
    lists: list[Ranked] = []
    pool = list(found)
    if match:
        for name, ranked in (("file", store.keyword_files(match, n, only)), ("names", store.name_files(match, n, only))):
            files = [f for f, _ in ranked if f not in skip]
            lists.append(Ranked(weight * options.keyword_weight * KEYWORD_LISTS[name], files))
            pool += files
    if vector is None:
        return lists, None
    # The files every other list found, ranked by their opening and by their summary.
    similarity = store.file_similarities(list(dict.fromkeys(pool)), vector)
    floor = -1.0 if background is None else background + WEAK_MARGIN
    for i, name in enumerate(("opening", "summary")):
        files = sorted((f for f in similarity if similarity[f][i] >= floor), key=lambda f: similarity[f][i], reverse=True)
        lists.append(Ranked(weight * options.vector_weight * VECTOR_LISTS[name], files, by_vector=True))
    return lists, set(similarity)


def _fuse(lists: list[Ranked], k: int, waiting: set[int]) -> dict[int, float]:
    """Weighted reciprocal rank fusion, fair to files whose vectors are still to come: a file
    is scored over the lists it could be in (a waiting file is in no list by vector, unless
    some of its chunks already have vectors), then scaled to the weight of all lists, so a file
    not embedded yet competes on its words as an embedded file competes on everything."""
    total = sum(r.weight for r in lists)
    scores = _rrf([(r.weight, r.files) for r in lists], k)
    if not waiting or not total:
        return scores
    members = [set(r.files) if r.by_vector else None for r in lists]
    for f in waiting.intersection(scores):
        could = sum(r.weight for r, inside in zip(lists, members) if inside is None or f in inside)
        scores[f] *= total / could
    return scores


def _rrf(lists: list[tuple[float, list[int]]], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion of ranked lists of ids."""
    scores: dict[int, float] = {}
    for weight, files in lists:
        if weight:
            for rank, f in enumerate(files):
                scores[f] = scores.get(f, 0.0) + weight / (k + rank + 1)
    return scores


# What a result takes from the chunk that shows its file.
_SHOWN_FROM_HIT = ("path", "page", "start", "end", "text", "context", "mtime_ns", "embedded")


def _result(
    hit: ChunkHit, query: Query, score: float, vector_score: float | None, keyword_score: float | None,
    background: float | None = None,
) -> Result:
    excerpt = make_snippet(hit.text, " ".join(query.words), phrases=query.phrases)
    close = vector_score is not None and background is not None and vector_score - background >= STRONG_MARGIN
    strong = close or words_covered(f"{hit.context}\n{hit.text}", " ".join([*query.words, *query.phrases])) >= STRONG_WORDS
    return Result(
        score=score, vector_score=vector_score, keyword_score=keyword_score, rerank_score=None,
        snippet=excerpt.text, highlights=excerpt.highlights, strong=strong,
        **{name: getattr(hit, name) for name in _SHOWN_FROM_HIT},
    )
