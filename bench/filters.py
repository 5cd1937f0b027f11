"""What a filter costs a search: the store's four ranked lists (chunk KNN, chunk BM25, file
BM25, name BM25, the storage part of a hybrid search) with no filter, a date filter and a
folder filter, on a store shaped like a real folder (258 files of 20 chunks of 150 words).

    python bench/filters.py                      # SQLite
    python bench/filters.py --database URL       # PostgreSQL too (a scratch database)

A filter must cost no more than 2x no filter. Before the fix in storage/sqlite/keywords.py
(measured here, 2 cores): 24 ms none, 4,616 ms date, 710 ms folder: FTS5 was handed
`rowid IN (...)` and ran its MATCH once per passing rowid. After: 33 / 44 / 27 ms.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.postgres import scratch_database  # noqa: E402
from bench.report import machine, print_result  # noqa: E402
from storage import ChunkFilter, ChunkRow, EmbeddingSpace, IndexStore, open_store  # noqa: E402

WORDS = ("lamp harbor bread crust river stone tempfile directory python function network window garden "
         "music paper light water").split()
DAY_NS = 86_400 * 10**9


def fill(store: IndexStore, files: int, chunks: int, dim: int, now: int) -> None:
    random.seed(0)
    rng = np.random.default_rng(0)
    store.set_embedding_space(EmbeddingSpace("bench", dim, "bench"))
    folder = store.add_folder("/docs")
    for i in range(files):
        rows = []
        for j in range(chunks):
            text = " ".join(random.choice(WORDS) for _ in range(150))
            vector = rng.standard_normal(dim).astype(np.float32)
            rows.append(ChunkRow(j, j * 1000, j * 1000 + len(text), None, text, (vector / np.linalg.norm(vector)).tobytes()))
        store.write_file(folder.id, f"/docs/d{i % 7}/file{i}.txt", 1000, now - i * DAY_NS, str(i), rows)


def timed(call: Callable[[], Any], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(store: IndexStore, dim: int, now: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    query = rng.standard_normal(dim).astype(np.float32)
    vector = (query / np.linalg.norm(query)).tobytes()
    chunks_match = store.keyword_match("bread crust lamp")
    files_match = store.keyword_match("bread crust lamp", "files")
    out: dict[str, float] = {}
    for label, only in (("none", None), ("date", ChunkFilter(modified_after_ns=now - 365 * DAY_NS)),
                        ("folder", ChunkFilter(folder="/docs/d1"))):

        def search(only: ChunkFilter | None = only) -> None:
            store.nearest_chunks(vector, 100, only)
            store.keyword_chunks(chunks_match, 100, only)
            store.keyword_files(files_match, 100, only)
            store.name_files(files_match, 100, only)

        out[label] = round(timed(search, repeat), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=258)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database", help="a PostgreSQL URL whose user may create databases")
    args = parser.parse_args()
    now = time.time_ns()
    result: dict[str, Any] = {"bench": "filters", "machine": machine(), "files": args.files,
                              "chunks": args.files * args.chunks}
    with tempfile.TemporaryDirectory() as folder:
        with open_store(Path(folder) / "bench.db") as store:
            fill(store, args.files, args.chunks, args.dim, now)
            for label, ms in measure(store, args.dim, now, args.repeat).items():
                result[f"sqlite_{label}_ms"] = ms
    if args.database:
        with scratch_database(args.database, "fathom_filters_bench") as url, open_store(url) as store:
            fill(store, args.files, args.chunks, args.dim, now)
            for label, ms in measure(store, args.dim, now, args.repeat).items():
                result[f"postgres_{label}_ms"] = ms
    print_result(result)


if __name__ == "__main__":
    main()
