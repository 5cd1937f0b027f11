"""What reading PDF and HTML in a worker process (search/ingest/parsing.py) costs per file,
against reading them in-process, and what starting a worker costs (what a process per file
would pay for every file).

Writes small and larger PDFs (the tests' hand-written PDF writer) and HTML pages to a temporary
folder, reads each one in-process and through a warm worker, and prints the median time per
file of each and one JSON line.

    python bench/parse.py
    python bench/parse.py --files 400
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.report import machine, print_result  # noqa: E402
from pdf_fixtures import write_text_pdf  # noqa: E402
from search.ingest.extract import MAX_FILE_BYTES, extract  # noqa: E402
from search.ingest.parsing import Parser  # noqa: E402

LINE = "The committee reviewed the harbour budget and the ferry timetable for the winter season."


def make_files(folder: Path, count: int) -> dict[str, list[Path]]:
    kinds: dict[str, list[Path]] = {"pdf, 1 page": [], "pdf, 20 pages": [], "html, 6 KB": []}
    for i in range(count):
        kinds["pdf, 1 page"].append(write_text_pdf(folder / f"one{i}.pdf", ["\n".join([f"{i} {LINE}"] * 40)]))
        if i % 4 == 0:
            pages = ["\n".join([f"{i}.{p} {LINE}"] * 40) for p in range(20)]
            kinds["pdf, 20 pages"].append(write_text_pdf(folder / f"long{i}.pdf", pages))
        page = folder / f"page{i}.html"
        body = "".join(f"<p>{i}.{j} {LINE}</p>\n" for j in range(60))
        page.write_text(f"<html><head><title>Page {i}</title></head><body>{body}</body></html>", encoding="utf-8")
        kinds["html, 6 KB"].append(page)
    return kinds


def per_file_ms(read, paths: list[Path]) -> float:
    times = []
    for path in paths:
        start = time.perf_counter()
        read(path, MAX_FILE_BYTES)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="files of each small kind (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kinds = make_files(Path(tmp), args.files)
        starts = []
        for _ in range(5):
            cold = Parser()
            first = kinds["html, 6 KB"][0]
            start = time.perf_counter()
            cold.extract(first, MAX_FILE_BYTES)
            starts.append((time.perf_counter() - start) * 1000)
            cold.close()
        worker = Parser()
        for paths in kinds.values():  # warm: imports (pypdf) done in both processes
            extract(paths[0], MAX_FILE_BYTES)
            worker.extract(paths[0], MAX_FILE_BYTES)
        result: dict[str, object] = {"machine": machine()}
        for kind, paths in kinds.items():
            inside = per_file_ms(extract, paths)
            isolated = per_file_ms(worker.extract, paths)
            result[f"{kind}: in-process ms/file"] = round(inside, 2)
            result[f"{kind}: worker ms/file"] = round(isolated, 2)
            result[f"{kind}: worker overhead ms/file"] = round(isolated - inside, 2)
        worker.close()
        result["worker start, first file read (ms, median of 5)"] = round(statistics.median(starts), 1)
    print_result(result)


if __name__ == "__main__":
    main()
