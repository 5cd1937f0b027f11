"""How long does one search take on a large index? Hybrid search as the CLI and the page run
it (chunk KNN + chunk BM25 + the file-level evidence, fused per file, snippets), on a store of
N synthetic chunks in files of varied length, in one run against:
- "before": chunk evidence only, every query term looked up (Fathom before it ranked files);
- "chunks only": chunk evidence only, without the terms found in over half the rows.

Chunks have text drawn from a Zipf-like vocabulary (so BM25 has real postings to walk) and
1024-dimension vectors clustered around a few thousand centres; the query vector is a
perturbed centre and the query text a few words. The model's time is left out: the same query
vector is handed in for both paths.

    python bench/search.py --n 100000
    python bench/search.py --n 100000 --database URL    # the same searches on PostgreSQL too

With `--database URL` the same chunks also go into a PostgreSQL store in a database of its own
(`fathom_search_bench`, dropped after), its HNSW index built after the rows.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.postgres import hnsw_built_after, scratch_database  # noqa: E402
from bench.report import machine, print_result  # noqa: E402
from search.query import SearchOptions, search  # noqa: E402
from storage import ChunkRow, EmbeddingSpace, IndexStore, SQLiteStore, open_store  # noqa: E402

COMMON = "the of and to a in is that for it as was with be by on not he this are or".split()
SPREAD = 0.8
VOCABULARY = 20_000
WORDS_PER_CHUNK = 150


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


class FixedQuery:
    """A query embedder that hands back a vector chosen beforehand."""

    takes_instructions = False

    def __init__(self) -> None:
        self.vector = np.zeros(1, np.float32)

    def embed_queries(self, queries, task=None):  # noqa: ANN001
        return self.vector[None, :]


def words(rng: np.random.Generator, count: int) -> list[str]:
    """Words of a Zipf-like vocabulary whose most frequent ones are, as in real text, the
    little words (the, of, and...)."""
    ranks = np.minimum(rng.zipf(1.2, count), VOCABULARY)
    return [COMMON[r - 1] if r <= len(COMMON) else f"w{r}" for r in ranks]


def build(store: IndexStore, n: int, dim: int, centres: np.ndarray, rng: np.random.Generator) -> float:
    folder = store.add_folder("/bench")
    start = time.perf_counter()
    written, f = 0, 0
    while written < n:
        count = int(min(n - written, max(1, rng.geometric(0.1))))  # 10 chunks a file on average
        members = centres[rng.integers(0, len(centres), count)]
        vectors = unit(members + rng.normal(scale=SPREAD / np.sqrt(dim), size=(count, dim)))
        rows = []
        for i, v in enumerate(vectors):
            text = " ".join(words(rng, WORDS_PER_CHUNK))
            rows.append(ChunkRow(i, i * 1000, i * 1000 + len(text), None, text, v.tobytes()))
        store.write_file(folder.id, f"/bench/{f % 100}/note {f}.txt", 1, 1, "h", rows, title=f"note {f}")
        written += count
        f += 1
    return n / (time.perf_counter() - start)


def timings(store: IndexStore, queries: list[tuple[np.ndarray, str]], pruning: bool = True) -> dict[str, list[float]]:
    """Milliseconds of each search: hybrid with file evidence ("files"), chunk evidence only
    ("chunks"), and chunks without term pruning ("before"); the first 3 queries warm up."""
    embedder = FixedQuery()
    whole = SearchOptions(k=10, mode="hybrid", rerank=False)
    chunks_only = replace(whole, file_weight=0.0)
    keyword = replace(whole, mode="keyword")
    out: dict[str, list[float]] = {"files": [], "chunks": [], "before": [], "keyword": []}
    prune_from = store.prune_from_rows
    for i, (vector, text) in enumerate(queries):
        embedder.vector = vector
        for name, options in (("files", whole), ("chunks", chunks_only), ("before", chunks_only), ("keyword", keyword)):
            store.prune_from_rows = prune_from if name != "before" else float("inf")
            start = time.perf_counter()
            search(store, text, options, embedder)
            if i >= 3:  # the first searches load the codes and warm the caches
                out[name].append((time.perf_counter() - start) * 1000)
    store.prune_from_rows = prune_from
    return out


def p50(ms: list[float]) -> float:
    return round(statistics.median(ms), 1)


def p95(ms: list[float]) -> float:
    return round(float(np.percentile(ms, 95)), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--dir", type=Path, help="where to build the database (default: a temp folder)")
    parser.add_argument("--database", metavar="URL",
                        help="also time the same searches on a PostgreSQL store on this server")
    args = parser.parse_args()
    centres = unit(np.random.default_rng(0).normal(size=(max(10, args.n // 500), args.dim)))
    rng = np.random.default_rng(2)
    queries = [
        (unit(centres[rng.integers(0, len(centres))][None, :]
              + rng.normal(scale=SPREAD / np.sqrt(args.dim), size=(1, args.dim)))[0],
         " ".join(words(rng, 4)))
        for _ in range(args.queries + 3)
    ]
    with tempfile.TemporaryDirectory(prefix="fathom-search-", dir=args.dir) as tmp:
        with open_store(Path(tmp) / "search.db") as store:
            assert isinstance(store, SQLiteStore)
            store.set_embedding_space(EmbeddingSpace("bench", args.dim))
            inserts = build(store, args.n, args.dim, centres, np.random.default_rng(1))
            stats = store.stats()
            ms = timings(store, queries)
    result = {
        "machine": machine(),
        "n": args.n,
        "files": stats.files,
        "dim": args.dim,
        "queries": args.queries,
        "insert_chunks_per_s": round(inserts),
        "hybrid_p50_ms": p50(ms["files"]),
        "hybrid_p95_ms": p95(ms["files"]),
        "chunks_only_p50_ms": p50(ms["chunks"]),
        "chunks_only_p95_ms": p95(ms["chunks"]),
        "before_p50_ms": p50(ms["before"]),
        "before_p95_ms": p95(ms["before"]),
        "keyword_p50_ms": p50(ms["keyword"]),
    }
    result["hybrid_vs_before_p50"] = round(result["hybrid_p50_ms"] / result["before_p50_ms"], 2)
    if args.database:
        with scratch_database(args.database, "fathom_search_bench") as url, open_store(url) as store:
            store.set_embedding_space(EmbeddingSpace("bench", args.dim))
            with hnsw_built_after(store):
                build(store, args.n, args.dim, centres, np.random.default_rng(1))
            ms = timings(store, queries)
            result.update({
                "pg_vector_search": store.vector_search(),
                "pg_hybrid_p50_ms": p50(ms["files"]),
                "pg_hybrid_p95_ms": p95(ms["files"]),
                "pg_chunks_only_p50_ms": p50(ms["chunks"]),
                "pg_keyword_p50_ms": p50(ms["keyword"]),
                "pg_keyword_p95_ms": p95(ms["keyword"]),
            })
    print_result(result)


if __name__ == "__main__":
    main()
