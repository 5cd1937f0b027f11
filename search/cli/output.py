"""What the CLI prints: reports, results and the index's status, as text or JSON. Reasons
written below the CLI carry marks (search/wording.py): they are worded here, as flags."""
from __future__ import annotations

import json
import sys
from typing import Any

from search.snippets import Snippet
from search.wording import Terminal, worded, worded_data


def print_report(report: Any, as_json: bool, edge: Terminal, prefix: str = "Indexed: ") -> None:
    if as_json:
        data = {key: value for key, value in report.__dict__.items() if key != "written"}
        print(json.dumps(worded_data(data, edge), ensure_ascii=False), flush=True)
        return
    moved = f", {report.moved} moved" if report.moved else ""
    print(
        f"{prefix}{report.added} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed{moved} file(s); {report.chunks} chunk(s) embedded"
        + (f"; {report.ignored} ignored by rule" if report.ignored else "")
        + ".",
        flush=True,
    )
    kinds = (("failed", report.failed), ("skipped", report.skipped), ("cut", report.cut),
             ("unreadable", report.unreadable))
    for kind, items in kinds:
        for path, reason in items:
            print(f"  {kind}: {path}: {worded(reason, edge)}")
    for path in report.folders_removed:
        print(f"  {path} was removed from the index while it was being indexed; nothing more of it was kept.")


def print_status(status: dict[str, Any], edge: Terminal) -> None:
    model = status["embedding_model"] or "(nothing indexed yet)"
    dim = f" (dimension {status['dimension']})" if status["dimension"] else ""
    print(f"Database:  {status['database']}")
    print(f"Embedding: {model}{dim}")
    if status["vector_search"]:
        print(f"Vectors:   {status['vector_search']}")
    print(f"Reranker:  {status['reranker_model'] or 'none'}")
    print(f"Device:    {status['device']}")
    server = status["server"]
    print("Searches:  " + (
        f"answered by the running Fathom ({server['role']}, process {server['pid']}), its models loaded"
        if server else "load the models in each `search` (start the page or `index --watch` to keep them loaded)"
    ))
    if status["query_format"]:
        print(f"Queries:   {status['query_format']}")
    if status["reranker_format"]:
        print(f"Rerank:    {status['reranker_format']}")
    print("Folders:" + ("" if status["folders"] else f"   none yet: {edge.command('index FOLDER')}"))
    for folder in status["folders"]:
        print(f"  {folder['path']}  ({folder_counts(folder)})")
    ignored_files = sum(1 for item in status["ignored"] if not item["folder"])
    print(
        f"Files:     {status['indexed_files']} indexed, {len(status['failed'])} failed, "
        f"{len(status['skipped'])} skipped, {ignored_files} ignored"
        + (f" ({len(status['cut'])} indexed files cut at the passage limit)" if status["cut"] else "")
    )
    print(f"Chunks:    {status['chunks']}")
    waiting = status["waiting"]
    if waiting["files"]:
        print(f"Waiting:   {waiting['files']} files ({waiting['chunks']} chunks, {waiting['tokens']:,} tokens) "
              "to embed; searchable by their words meanwhile")
    for key in ("failed", "skipped"):
        if status[key]:
            print(f"{key.capitalize()} files:")
            for item in status[key]:
                print(f"  {item['path']}: {item['error']}")
    if status["cut"]:
        print("Cut files (indexed up to the passage limit):")
        for item in status["cut"]:
            print(f"  {item['path']}: {item['reason']}")
    if status["ignored"]:
        print("Ignored (left out by rule, never read):")
        for item in status["ignored"]:
            print(f"  {item['path']}{'/' if item['folder'] else ''}: {item['reason']}")


def folder_counts(folder: dict[str, Any]) -> str:
    """`312 files: 300 indexed, 2 failed, 4 skipped, 6 ignored; 3 folder(s) never entered`."""
    kinds = ("indexed", "failed", "skipped", "ignored")
    total = sum(folder.get(kind, 0) for kind in kinds)
    words = f"{total} files: " + ", ".join(f"{folder.get(kind, 0)} {kind}" for kind in kinds)
    if folder.get("ignored_folders"):
        words += f"; {folder['ignored_folders']} folder(s) never entered"
    return words


def print_check(check: dict[str, Any], edge: Terminal) -> None:
    problems = {k: v for k, v in check["problems"].items() if v is not True and v != 0}
    if not problems:
        print("Check:     every chunk has its vector and keyword row; nothing to repair.")
        return
    print("Check:     found " + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in problems.items()))
    repaired = {k: v for k, v in check.get("repaired", {}).items() if v}
    print("Repaired:  " + (", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in repaired.items()) or "nothing"))
    if repaired.get("files_to_reembed"):
        print(f"           {edge.action('index')} to embed those files again.")


def print_results(query: str, results: list[dict[str, Any]], show_query: bool, corrected: str | None = None) -> None:
    if show_query:
        print(f"\n# {query[:200]}")
    if corrected:
        print(f"Showing results for: {corrected}  (search instead for your words as typed: --as-typed)")
    if not results:
        print("No results. Try other words, --mode vector, fewer filters, or index more folders.")
        return
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    for rank, result in enumerate(results, 1):
        page = f"  (page {result['page']})" if result["page"] else ""
        marks = ("" if result.get("embedded", True) else "  [words only: not embedded yet]") + (
            "" if result.get("strong", True) else "  [weak match]")
        print(f"{rank:2}. {score(result)}  {result['path']}{page}{marks}")
        excerpt = Snippet(result["snippet"], [tuple(h) for h in result["highlights"]])
        print(f"    {excerpt.marked(bold, plain) if bold else excerpt.text}")


def score(result: dict[str, Any]) -> str:
    """The fused score; for a file found by its words alone, its word score (BM25)."""
    if result["vector_score"] is None and result["rerank_score"] is None and result["keyword_score"] is not None:
        return f"words {result['keyword_score']:.1f}"
    return f"{result['score']:.4f}"
