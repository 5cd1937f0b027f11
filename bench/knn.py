"""Vector search at scale: exact float KNN against the coarse (binary codes) + rescore path.

Builds a store of N synthetic chunks through Fathom's own write path (one transaction per
file of 100 chunks: text row, float vector, binary code, keyword row), with vectors that have
realistic structure (unit vectors around a few thousand cluster centres, not uniform noise),
then times queries (perturbed members of the clusters) both ways and prints one JSON line:
p50/p95 latency of each path, recall@10 of the coarse path against exact search, insert
throughput, database bytes per chunk, and the latency of the first search after a file
changed (the codes in memory follow the change).

    python bench/knn.py --n 100000 --dim 1024
    python bench/knn.py --n 1000000 --dim 1024 --queries 20     # ~5 GB on disk, a while

With `--database URL` (a PostgreSQL server whose user may create databases), the same chunks
also go into a PostgreSQL store, in a database of its own made for the run and dropped after
(`fathom_knn_bench`), and the JSON line gets pgvector's numbers beside SQLite's coarse path:
HNSW p50/p95 and recall@10 against SQLite's exact search, exact (every vector) p50, inserts/s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.postgres import hnsw_built_after, scratch_database  # noqa: E402
from bench.report import machine, print_result  # noqa: E402
from storage import ChunkRow, EmbeddingSpace, IndexStore, SQLiteStore, open_store  # noqa: E402
from storage.sqlite.vectors import COARSE_FROM_CHUNKS, RESCORE_AT_LEAST  # noqa: E402

CHUNKS_PER_FILE = 100
SPREAD = 0.8  # noise around a centre, relative to its length: members sit at cosine ~0.78


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def file_rows(first: int, count: int, centres: np.ndarray, rng: np.random.Generator) -> list[ChunkRow]:
    dim = centres.shape[1]
    members = centres[rng.integers(0, len(centres), count)]
    vectors = unit(members + rng.normal(scale=SPREAD / np.sqrt(dim), size=(count, dim)))
    return [ChunkRow(i, 0, 1, None, f"chunk {first + i}", v.tobytes()) for i, v in enumerate(vectors)]


def build(store: IndexStore, n: int, centres: np.ndarray, rng: np.random.Generator) -> float:
    folder = store.add_folder("/bench")
    start = time.perf_counter()
    for f in range(0, n, CHUNKS_PER_FILE):
        rows = file_rows(f, min(CHUNKS_PER_FILE, n - f), centres, rng)
        store.write_file(folder.id, f"/bench/{f // CHUNKS_PER_FILE}.txt", 1, 1, "h", rows)
        if f and f % 100_000 == 0:
            print(f"  {f:,} chunks, {f / (time.perf_counter() - start):,.0f}/s", file=sys.stderr)
    return n / (time.perf_counter() - start)


def postgres_numbers(url: str, args: argparse.Namespace, centres: np.ndarray, queries: np.ndarray,
                     exact_found: list[list[tuple[str, int]]]) -> dict[str, object]:
    """The same chunks in PostgreSQL: inserts, HNSW against SQLite's exact results, exact."""
    with scratch_database(url, "fathom_knn_bench") as database, open_store(database) as store:
        store.set_embedding_space(EmbeddingSpace("bench", args.dim))
        # What one insert costs with the index is measured below, by rewriting files.
        with hnsw_built_after(store) as build_took:
            inserts = build(store, args.n, centres, np.random.default_rng(1))
        (size,), = store._query("SELECT pg_database_size(current_database())")
        store._query("SELECT COUNT(*) FROM chunk_vectors")  # warm the cache once
        hnsw_ms, exact_ms, recall, recall_of_100 = [], [], [], []
        for q, truth in zip(queries, exact_found):
            vector = q.tobytes()
            t_hnsw, hnsw = timed(lambda: store.nearest_chunks_hnsw(vector, 10))
            hnsw_ms.append(t_hnsw)
            recall.append(_recall(store, hnsw, truth))
            # as a search asks: 100 candidates (hnsw.ef_search 200), of which the best 10
            recall_of_100.append(_recall(store, store.nearest_chunks_hnsw(vector, 100)[:10], truth))
        for q in queries[:5]:
            exact_ms.append(timed(lambda: store.nearest_chunks_exact(q.tobytes(), 10))[0])
        rewrite_ms, changed_ms = [], []
        folder_id = store.folders()[0].id
        rng = np.random.default_rng(2)
        for i, q in enumerate(queries[:10]):
            rows = file_rows(0, 100, centres, rng)
            rewrite_ms.append(timed(lambda: store.write_file(folder_id, "/bench/0.txt", 1, 1, f"edit {i}", rows))[0])
            changed_ms.append(timed(lambda: store.nearest_chunks_hnsw(q.tobytes(), 10))[0])
        return {
            "pg_vector_search": store.vector_search(),
            "pg_load_chunks_per_s": round(inserts),
            "pg_hnsw_build_s": round(build_took["hnsw_build_s"], 1),
            "pg_insert_chunks_per_s_with_index": round(100 / (statistics.median(rewrite_ms) / 1000)),
            "pg_bytes_per_chunk": round(size / args.n),
            "pg_hnsw_p50_ms": round(statistics.median(hnsw_ms), 1),
            "pg_hnsw_p95_ms": round(float(np.percentile(hnsw_ms, 95)), 1),
            "pg_hnsw_recall_at_10": round(float(np.mean(recall)), 3),
            "pg_hnsw_recall_at_10_of_100": round(float(np.mean(recall_of_100)), 3),
            "pg_exact_p50_ms": round(statistics.median(exact_ms), 1),
            "pg_rewrite_a_100_chunk_file_p50_ms": round(statistics.median(rewrite_ms), 1),
            "pg_hnsw_after_a_file_changed_p50_ms": round(statistics.median(changed_ms), 1),
        }


def _recall(store: IndexStore, hits: list[tuple[int, float]], truth: list[tuple[str, int]]) -> float:
    found = store.chunks([c for c, _ in hits])
    return len(set(truth) & {(found[c].path, found[c].ordinal) for c, _ in hits}) / len(truth)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, help="default: one per 500 chunks")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rescore", type=int, default=RESCORE_AT_LEAST, help="candidates rescored exactly")
    parser.add_argument("--dir", type=Path, help="where to build the database (default: a temp folder)")
    parser.add_argument("--database", metavar="URL", help="also measure a PostgreSQL store on this server (pgvector HNSW)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    args.clusters = args.clusters or max(10, args.n // 500)
    centres = unit(rng.normal(size=(args.clusters, args.dim)))

    with tempfile.TemporaryDirectory(prefix="fathom-knn-", dir=args.dir) as tmp:
        db = Path(tmp) / "knn.db"
        with open_store(db) as store:
            assert isinstance(store, SQLiteStore)  # exact vs coarse and the code load are SQLite's
            store.set_embedding_space(EmbeddingSpace("bench", args.dim))
            inserts = build(store, args.n, centres, np.random.default_rng(1))  # the same chunks go to PostgreSQL
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = db.stat().st_size
            queries = unit(centres[rng.integers(0, args.clusters, args.queries)]
                           + rng.normal(scale=SPREAD / np.sqrt(args.dim), size=(args.queries, args.dim)))
            store.nearest_chunks_coarse(queries[0].tobytes(), 10)  # loads the codes once
            load_ms, _ = timed(lambda: (setattr(store, "_codes", None), store._code_matrix()))
            exact_ms, coarse_ms, cosine_ms, recall = [], [], [], []
            exact_found: list[list[tuple[str, int]]] = []
            for q in queries:
                vector = q.tobytes()
                t_exact, exact = timed(lambda: store.nearest_chunks_exact(vector, 10))
                hits = store.chunks([c for c, _ in exact])
                exact_found.append([(hits[c].path, hits[c].ordinal) for c, _ in exact])
                t_coarse, coarse = timed(lambda: store.nearest_chunks_coarse(vector, 10, rescore=args.rescore))
                # what a search adds for the results it shows: their exact float cosine
                t_cosine, _ = timed(lambda: store.cosine_distances([c for c, _ in coarse], vector))
                exact_ms.append(t_exact)
                coarse_ms.append(t_coarse)
                cosine_ms.append(t_cosine)
                recall.append(len({c for c, _ in exact} & {c for c, _ in coarse}) / 10)
            # A file changes (as the watcher does it), then a search: the codes in memory follow
            # by the change log instead of being read again.
            changed_ms, rewrite_ms = [], []
            folder_id = store.folders()[0].id
            for i, q in enumerate(queries[:10]):
                rows = file_rows(0, 100, centres, rng)
                t_rewrite, _ = timed(lambda: store.write_file(folder_id, "/bench/0.txt", 1, 1, f"edit {i}", rows))
                rewrite_ms.append(t_rewrite)
                t_changed, _ = timed(lambda: store.nearest_chunks_coarse(q.tobytes(), 10, rescore=args.rescore))
                changed_ms.append(t_changed)

    result = {
        "machine": machine(),
        "n": args.n,
        "dim": args.dim,
        "clusters": args.clusters,
        "queries": args.queries,
        "rescore": args.rescore,
        "insert_chunks_per_s": round(inserts),
        "bytes_per_chunk": round(size / args.n),
        "exact_p50_ms": round(statistics.median(exact_ms), 1),
        "exact_p95_ms": round(float(np.percentile(exact_ms, 95)), 1),
        "coarse_p50_ms": round(statistics.median(coarse_ms), 1),
        "coarse_p95_ms": round(float(np.percentile(coarse_ms, 95)), 1),
        "coarse_recall_at_10": round(float(np.mean(recall)), 3),
        "exact_cosine_of_10_p50_ms": round(statistics.median(cosine_ms), 2),
        "rewrite_a_100_chunk_file_p50_ms": round(statistics.median(rewrite_ms), 1),
        "code_load_ms": round(load_ms, 1),
        "coarse_after_a_file_changed_p50_ms": round(statistics.median(changed_ms), 1),
        "auto_path": "coarse" if args.n >= COARSE_FROM_CHUNKS else "exact",
    }
    if args.database:
        result.update(postgres_numbers(args.database, args, centres, queries, exact_found))
    print_result(result)


if __name__ == "__main__":
    main()
