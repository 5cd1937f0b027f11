"""The command line's options. Those of the settings are read from search/settings_table.py;
the rest belong to one command each."""
from __future__ import annotations

import argparse
import difflib
from typing import Any

from search.presets import presets
from search.query import KEYWORD_WEIGHT, MODES, VECTOR_WEIGHT
from search.settings_table import EVERY, SEARCH, SERVE, SETTINGS, Setting


def _positive(kind: type) -> Any:
    """An argparse type: a number of this kind (int or float) above 0."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, found {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, found {value}")
        return value

    return parse


positive_int = _positive(int)
positive_float = _positive(float)


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, found {value}")
    return value


def add_setting(parser: argparse.ArgumentParser, row: Setting, default: Any = argparse.SUPPRESS) -> None:
    """One setting's option, as the table describes it. SUPPRESS: an option given before the
    command's name is not clobbered by the command's own parser."""
    extra: dict[str, Any] = {"dest": row.name, "default": default, "help": row.help}
    if row.kind is bool:
        extra["action"] = "store_true"
    else:
        extra["metavar"] = row.metavar
        if row.choices:
            extra.update(choices=row.choices, metavar=None)
        elif row.name == "port":
            extra["type"] = _port
        elif row.kind in (int, float):
            extra["type"] = _positive(row.kind)
        if row.repeat:
            extra["action"] = "append"
    parser.add_argument(str(row.flag), **extra)


def _settings(parser: argparse.ArgumentParser, scope: str) -> None:
    for row in SETTINGS:
        if row.flag and row.scope == scope:
            add_setting(parser, row)


def setting_options(args: argparse.Namespace) -> dict[str, Any]:
    """The settings every command takes, as given on this command line (None: not given)."""
    return {row.name: getattr(args, row.name, None) for row in SETTINGS if row.flag and row.scope == EVERY}


class _Parser(argparse.ArgumentParser):
    """argparse's parser, which also says which choice a mistyped one was likely meant to be
    (`serch` -> `search`, `--mode hybird` -> `hybrid`)."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)  # type: ignore[misc]
        except argparse.ArgumentError as exc:
            close = difflib.get_close_matches(str(value), [str(c) for c in action.choices or ()], n=1, cutoff=0.6)
            if not close:
                raise
            raise argparse.ArgumentError(action, f"{exc.message}; did you mean {close[0]!r}?") from None


def build_parser(prog: str = "python app.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Fathom: search your own files by meaning, on your own machine.",
        # It reads every option of the whole line first: `search --rerank` must not be taken
        # for an abbreviation of its --reranker-* options (the commands still allow them).
        allow_abbrev=False,
    )
    _settings(parser, EVERY)
    _settings(parser, SERVE)  # `python app.py --port 8000` is `python app.py serve --port 8000`
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        one = sub.add_parser(name, help=help)
        _settings(one, EVERY)
        return one

    _settings(command("serve", "start Fathom's page (the default command)"), SERVE)
    _index_options(command("index", "index folders; again, it updates only what changed"))
    _search_options(command("search", "search the indexed folders"))

    status = command("status", "folders, files, failures, model and database")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--check", action="store_true",
                        help="verify that every chunk has its vector and keyword row, and repair what it can")

    folders = command("folders", "list, add or remove the indexed folders")
    folders.add_argument("action", nargs="?", choices=("list", "add", "remove"), default="list",
                         help="list (default), add (and index), or remove (and drop their files)")
    folders.add_argument("paths", nargs="*", metavar="PATH", help="folders to add or remove")
    folders.add_argument("--json", action="store_true", help="print JSON")

    command("mcp", "let an AI agent search your files: a read-only MCP server on stdin and stdout")

    backup = command("backup", "copy the index database while Fathom runs")
    backup.add_argument("path", metavar="PATH", help="the backup file (or a folder to put it in)")
    return parser


def _index_options(index: argparse.ArgumentParser) -> None:
    index.add_argument("paths", nargs="*", metavar="PATH",
                       help="folders to index (default: every folder indexed before)")
    index.add_argument("--json", action="store_true", help="print the report as one JSON object")
    index.add_argument("--watch", action="store_true",
                       help="then keep watching the folders and update the index as files change")
    index.add_argument("--retry", action="store_true",
                       help="try every failed and skipped file again, even if it did not change")


def _search_options(search: argparse.ArgumentParser) -> None:
    search.add_argument("query", nargs="?", help="what to look for")
    search.add_argument("-k", type=positive_int, default=10, metavar="N", help="number of files (default 10)")
    search.add_argument("--mode", choices=MODES, default="hybrid",
                        help="hybrid (default: vectors and keywords fused), vector or keyword")
    task = search.add_mutually_exclusive_group()
    task.add_argument("--task", choices=sorted(presets()), metavar="PRESET",
                      help="task preset: " + ", ".join(f"{p.name} ({p.label.lower()})" for p in presets().values()))
    task.add_argument("--instruction", metavar="TEXT", help="your own instruction for the query")
    rerank = search.add_mutually_exclusive_group()
    rerank.add_argument("--rerank", action="store_true",
                        help="rerank the best files, also on a CPU (seconds a search there)")
    rerank.add_argument("--no-rerank", action="store_true",
                        help="skip reranking (the default on a CPU; a GPU reranks unless told not to)")
    for row in SETTINGS:
        if row.flag and row.scope == SEARCH:
            add_setting(search, row, default=None)
    search.add_argument("--json", action="store_true", help="one JSON object per query on its own line")
    search.add_argument("--queries", metavar="FILE",
                        help='batch search: one query per line, or JSON lines with a "query" field (- for stdin)')
    search.add_argument("--like", metavar="FILE",
                        help="more like this: find files similar to an indexed file (no query needed)")
    search.add_argument("--folder", metavar="DIR", help="only files under this folder")
    search.add_argument("--type", action="append", metavar="EXT",
                        help="only these file types, e.g. --type md,pdf (repeatable)")
    search.add_argument("--path", metavar="GLOB",
                        help="only paths matching this glob; without a /, the file name (e.g. 'notes*')")
    search.add_argument("--after", metavar="DATE", help="only files modified after: 2024-05-31, or 7d, 2w, 6m, 1y ago")
    search.add_argument("--before", metavar="DATE", help="only files modified before this date")
    search.add_argument("--as-typed", action="store_true",
                        help="search the words as typed, without correcting misspelled ones")
    search.add_argument("--vector-weight", type=float, default=VECTOR_WEIGHT, metavar="W",
                        help=f"weight of vector ranks in hybrid fusion (default {VECTOR_WEIGHT:g})")
    search.add_argument("--keyword-weight", type=float, default=KEYWORD_WEIGHT, metavar="W",
                        help=f"weight of keyword ranks in hybrid fusion (default {KEYWORD_WEIGHT:g})")
