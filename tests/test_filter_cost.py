"""A filter must not make a search slower than no filter (issue: a date filter took a search
from 42 ms to 2.1 s). Time on a shared machine is noisy, so the cost is counted in SQLite's own
steps (its progress handler), which are the same on every run."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from storage import ChunkFilter, ChunkRow, EmbeddingSpace, open_store

DAY_NS = 86_400 * 10**9
WORDS = "lamp harbor bread crust river stone window garden music paper light water".split()


def test_a_date_or_folder_filter_costs_no_more_than_twice_no_filter(tmp_path: Path) -> None:
    random.seed(0)
    rng = np.random.default_rng(0)
    now = 1_750_000_000 * 10**9
    with open_store(tmp_path / "index.db") as store:
        store.set_embedding_space(EmbeddingSpace("m", 8, "r"))
        folder = store.add_folder("/docs")
        for i in range(60):
            rows = [ChunkRow(j, j * 1000, j * 1000 + 400, None, " ".join(random.choice(WORDS) for _ in range(60)),
                             rng.standard_normal(8).astype(np.float32).tobytes()) for j in range(20)]
            store.write_file(folder.id, f"/docs/d{i % 3}/f{i}.txt", 10, now - i * DAY_NS, str(i), rows)
        chunks_match = store.keyword_match("bread crust lamp")
        files_match = store.keyword_match("bread crust lamp", "files")

        def steps(only: ChunkFilter | None) -> tuple[int, list[list[tuple[int, float]]]]:
            counted = [0]
            with store._snapshot():  # one connection for the reads, to count on
                conn = store._local.conn

                def step() -> int:
                    counted[0] += 1
                    return 0

                conn.set_progress_handler(step, 100)
                try:
                    found = [store.keyword_chunks(chunks_match, 100, only), store.keyword_files(files_match, 100, only)]
                finally:
                    conn.set_progress_handler(None, 0)
            return counted[0], found

        plain, everything = steps(None)
        for only in (ChunkFilter(modified_after_ns=now - 30 * DAY_NS), ChunkFilter(folder="/docs/d1")):
            cost, found = steps(only)
            assert cost <= 2 * plain, (only, cost, plain)
            assert found[0] and found[1]  # and it still filters: only files that pass
            passing = {
                r.id for r in store.files_under("/docs")
                if (only.folder is None or r.path.startswith(only.folder + "/"))
                and (only.modified_after_ns is None or r.mtime_ns >= only.modified_after_ns)
            }
            assert {f for f, _ in found[1]} <= passing
        assert len(everything[1]) == 60
