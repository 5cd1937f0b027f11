"""`search`: asks a running Fathom when one has the same models loaded, else loads them."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator

from search.channel import PROTOCOL, SAME, ask, options_to_json, socket_path
from search.cli.output import print_results
from search.config import Settings
from search.errors import FathomError
from search.filters import make_filter
from search.limits import check_query
from search.query import DEFAULT_RERANK_TOP, SearchOptions
from search.wording import worded
from storage import ChunkFilter


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    queries = list(_read_queries(args.queries)) if args.queries else []
    if args.query:
        queries.insert(0, args.query)
    if not queries and not args.like:
        example = args.edge.command('search "tax forms"')
        raise FathomError(f"Nothing to search: give a query, e.g. `{example}`.")
    for query in queries:
        check_query(query)
    options = SearchOptions(
        k=args.k,
        mode=args.mode,
        task=args.task,
        instruction=args.instruction,
        rerank=True if args.rerank else False if args.no_rerank else None,  # None: not on a CPU
        rerank_top=args.rerank_top or settings.rerank_top or DEFAULT_RERANK_TOP,
        vector_weight=args.vector_weight,
        keyword_weight=args.keyword_weight,
        filters=_filters(args),
        spelling=not args.as_typed,
    )
    like = str(Path(args.like).expanduser().resolve()) if args.like else None
    answers = _ask_running_fathom(settings, queries, options, like)
    if answers is None:  # nothing running (or it runs other models): load them here
        answers = _search_here(settings, queries, options, like)
    notes: list[str] = []
    for answer in answers:
        if "error" in answer:
            raise FathomError(answer["error"])
        if "notes" in answer:
            notes = answer["notes"]
            continue
        if args.json:
            print(json.dumps(answer, ensure_ascii=False), flush=True)
        else:
            print_results(answer["query"], answer["results"], show_query=len(queries) > 1,
                           corrected=answer.get("corrected"))
    for note in notes:
        print(f"fathom: {worded(note, args.edge)}", file=sys.stderr)
    return 0


def _ask_running_fathom(
    settings: Settings, queries: list[str], options: SearchOptions, like: str | None
) -> list[dict[str, Any]] | None:
    """The answers of a running Fathom (the page, `index --watch`) with the same models, which
    has them loaded already; None when there is none."""
    request = {
        "version": PROTOCOL,
        "settings": {key: getattr(settings, key) for key in SAME},
        "queries": queries,
        "like": like,
        "options": options_to_json(options),
    }
    answers = ask(socket_path(settings.data_dir), request)
    if not answers or "declined" in answers[0]:
        return None
    return answers


def _search_here(
    settings: Settings, queries: list[str], options: SearchOptions, like: str | None
) -> Iterator[dict[str, Any]]:
    from search.engine import Engine  # loads the models: only when no running Fathom answers

    with Engine(settings) as engine:
        yield from engine.answers(queries, options, like)


def _read_queries(source: str) -> Iterator[str]:
    """One query per line, or JSON lines with a "query" field; `-` reads standard input."""
    try:
        handle = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as exc:
        raise FathomError(f"Cannot read the queries file {source}: {exc.strerror or exc}.") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").lstrip("\ufeff").strip()
            except UnicodeDecodeError:
                raise FathomError(f"{source}, line {number} is not UTF-8 text: save the queries file as UTF-8.") from None
            if not line:
                continue
            if line.startswith("{"):
                try:
                    query = json.loads(line)["query"]
                except (ValueError, KeyError, TypeError) as exc:
                    raise FathomError(
                        f"{source}, line {number}: a JSON line needs a \"query\" field, "
                        'like {"query": "tax forms"}.'
                    ) from exc
                yield str(query)
            else:
                yield line


def _filters(args: argparse.Namespace) -> ChunkFilter | None:
    return make_filter(args.folder, args.type or [], args.path, args.after, args.before)
