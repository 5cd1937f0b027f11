"""Fathom: local semantic search over your own folders.

    python app.py                      start Fathom's page (http://127.0.0.1:7860)
    python app.py index PATH [PATH..]  index folders (again: only what changed)
    python app.py search "QUERY"       search them
    python app.py status               what is indexed, what failed, which model
    python app.py folders              list, add or remove indexed folders
    python app.py backup PATH          copy the index while Fathom runs
    python app.py mcp                  let an AI agent search: an MCP server on stdio
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

from search.config import DEFAULT_MAX_FILE_MB, DEVICES, Settings
from search.errors import FathomError
from search.filters import make_filter
from search.limits import check_query
from search.presets import presets
from search.snippets import Snippet
from search.query import DEFAULT_RERANK_TOP, KEYWORD_WEIGHT, MODES, VECTOR_WEIGHT, SearchOptions
from storage import ChunkFilter, StorageError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
DEFAULT_HOST = "127.0.0.1"  # serve: this computer only, unless told otherwise
DEFAULT_PORT = 7860


def main(argv: Sequence[str] | None = None, prog: str = "python app.py") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    command = args.command or "serve"
    try:
        settings = Settings.resolve(
            data_dir=getattr(args, "data_dir", None),
            embedding_model=getattr(args, "embedding_model", None),
            reranker_model=getattr(args, "reranker_model", None),
            device=getattr(args, "device", None),
            dim=getattr(args, "dim", None),
            max_file_mb=getattr(args, "max_file_size", None),
            max_passages=getattr(args, "max_passages", None),
            embedding_url=getattr(args, "embedding_url", None),
            reranker_url=getattr(args, "reranker_url", None),
            query_format=getattr(args, "query_format", None),
            reranker_format=getattr(args, "reranker_format", None),
            database_url=getattr(args, "database", None),
            tokenizer=getattr(args, "tokenizer", None),
        )
        return COMMANDS[command](args, settings)
    except (FathomError, StorageError) as exc:
        print(f"fathom: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "\nfathom: interrupted. Everything written so far is kept; run the same command "
            "again to continue.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


# -- commands -------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from search.config import setting_sources
    from search.page.access import allowed_host_names, check_exposure, credentials

    host = getattr(args, "host", DEFAULT_HOST)
    share = getattr(args, "share", False)
    auth = credentials(getattr(args, "auth", None), getattr(args, "auth_file", None), os.environ.get("FATHOM_AUTH"))
    check_exposure(host, share, auth)  # before the page (and Gradio) is even imported
    extra_hosts = allowed_host_names(getattr(args, "allowed_host", None), os.environ.get("FATHOM_ALLOWED_HOSTS"))
    sources = setting_sources(
        data_dir=getattr(args, "data_dir", None),
        **{key: getattr(args, key, None) for key in ("embedding_model", "reranker_model", "device", "dim",
                                                     "embedding_url", "reranker_url", "query_format",
                                                     "reranker_format")},
    )
    opening = not getattr(args, "no_browser", False) and sys.stdout.isatty() and not os.environ.get("CI")
    print(f"Starting Fathom (data folder: {settings.data_dir})...", flush=True)
    from search.page import serve

    return serve(
        settings,
        host=host,
        port=getattr(args, "port", DEFAULT_PORT),
        share=share,
        auth=auth,
        open_browser=opening,
        sources=sources,
        allowed_hosts=extra_hosts,
        mcp=getattr(args, "mcp", False),
    )


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from search.engine import Engine
    from search.errors import ModelLoadError

    with Engine(settings) as engine:
        if settings.embedding_url:
            # A server answers in a moment: one that is down, refuses the key or answers another
            # dimension is said before anything is written. A local model may take minutes to
            # load: its files are read (searchable by their words) first.
            engine.index_embedder()
        if args.watch:
            _watch(engine, args)
            return 0
        with _progress_bar(enabled=not args.json) as progress:
            report, notice = engine.read(args.paths, progress, retry=getattr(args, "retry", False))
            try:
                embedded = engine.embed(progress)
            except ModelLoadError as exc:
                if not (report.added or report.updated):
                    raise
                _print_report(report, args.json)
                raise FathomError(
                    f"{str(exc).rstrip('.')}. The files this run read are searchable by their words "
                    "meanwhile; run the same command again to embed them."
                ) from None
        if notice:  # the new model loaded: everything is embedded with it
            print(notice, file=sys.stderr)
        report.chunks += embedded.chunks
        report.failed += embedded.failed
        _print_report(report, args.json)
    return 0


def _watch(engine: Any, args: argparse.Namespace) -> None:
    """Follow changes until Ctrl-C, from the first second: the live index catches up with what
    changed while Fathom was off, follows changes meanwhile (the files the person changes are
    embedded first) and answers terminal searches; each update is printed as it happens."""
    import time

    from search.channel import Channel
    from search.engine import folder_path
    from search.live_index import LiveIndex

    folders = [folder_path(p) for p in args.paths]
    said: list[str | None] = [None, None]

    def on_report(report: Any, catch_up: bool) -> None:
        _print_report(report, args.json, prefix="Indexed: " if catch_up else "Updated: ")

    def on_embedded(embedded: Any) -> None:
        if embedded.chunks or embedded.failed:
            if args.json:
                print(json.dumps({"embedded": embedded.chunks, "failed": embedded.failed}), flush=True)
            else:
                print(f"Embedded: {embedded.chunks} chunk(s).", flush=True)
                for path, reason in embedded.failed:
                    print(f"  failed: {path}: {reason}", flush=True)

    live = LiveIndex(engine, on_report=on_report, on_embedded=on_embedded, retry=getattr(args, "retry", False))
    for folder in folders:
        live.add(folder)
    if not live.folders():
        raise FathomError("No folder to index: give one, e.g. `python app.py index --watch ~/Documents`.")
    live.start()
    channel = Channel(lambda: engine if engine.embedder_loaded else None, engine.settings.data_dir,
                      "index --watch").start()
    print(f"Watching {', '.join(str(f) for f in live.folders())} for changes; press Ctrl-C to stop.",
          file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(1)
            # the notice, and the error, each said once when it changes (no count of the index)
            for slot, words in enumerate((live.notice, live.error or live.embed_error or live.watch_error)):
                if words and words != said[slot]:
                    print(f"fathom: {words}", file=sys.stderr, flush=True)
                said[slot] = words
    except KeyboardInterrupt:
        print("Stopped watching.", file=sys.stderr)
    finally:
        if channel is not None:
            channel.stop()
        live.stop()


def _print_report(report: Any, as_json: bool, prefix: str = "Indexed: ") -> None:
    if as_json:
        data = {key: value for key, value in report.__dict__.items() if key != "written"}
        print(json.dumps(data, ensure_ascii=False), flush=True)
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
            print(f"  {kind}: {path}: {reason}")
    for path in report.folders_removed:
        print(f"  {path} was removed from the index while it was being indexed; nothing more of it was kept.")


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    queries = list(_read_queries(args.queries)) if args.queries else []
    if args.query:
        queries.insert(0, args.query)
    if not queries and not args.like:
        raise FathomError('Nothing to search: give a query, e.g. `python app.py search "tax forms"`.')
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
            _print_results(answer["query"], answer["results"], show_query=len(queries) > 1,
                           corrected=answer.get("corrected"))
    for note in notes:
        print(f"fathom: {note}", file=sys.stderr)
    return 0


def _ask_running_fathom(
    settings: Settings, queries: list[str], options: SearchOptions, like: str | None
) -> list[dict[str, Any]] | None:
    """The answers of a running Fathom (the page, `index --watch`) with the same models, which
    has them loaded already; None when there is none."""
    from search.channel import PROTOCOL, SAME, ask, options_to_json, socket_path

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
    from search.engine import Engine

    with Engine(settings) as engine:
        yield from engine.answers(queries, options, like)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from search.engine import Engine

    with Engine(settings) as engine:
        status = engine.status().to_json()
        if args.check:
            status["check"] = engine.check(repair=True)
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
        return 0
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
    print("Folders:" + ("" if status["folders"] else "   none yet: python app.py index FOLDER"))
    for folder in status["folders"]:
        print(f"  {folder['path']}  ({_folder_counts(folder)})")
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
    if args.check:
        _print_check(status["check"])
    return 0


def _folder_counts(folder: dict[str, Any]) -> str:
    """`312 files: 300 indexed, 2 failed, 4 skipped, 6 ignored; 3 folder(s) never entered`."""
    kinds = ("indexed", "failed", "skipped", "ignored")
    total = sum(folder.get(kind, 0) for kind in kinds)
    words = f"{total} files: " + ", ".join(f"{folder.get(kind, 0)} {kind}" for kind in kinds)
    if folder.get("ignored_folders"):
        words += f"; {folder['ignored_folders']} folder(s) never entered"
    return words


def _print_check(check: dict[str, Any]) -> None:
    problems = {k: v for k, v in check["problems"].items() if v is not True and v != 0}
    if not problems:
        print("Check:     every chunk has its vector and keyword row; nothing to repair.")
        return
    print("Check:     found " + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in problems.items()))
    repaired = {k: v for k, v in check.get("repaired", {}).items() if v}
    print("Repaired:  " + (", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in repaired.items()) or "nothing"))
    if repaired.get("files_to_reembed"):
        print("           run `python app.py index` to embed those files again.")


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from search.agents.server import serve_stdio

    return serve_stdio(settings)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from search.engine import Engine

    with Engine(settings) as engine:
        target = engine.backup(args.path)
    print(f"Backed up {settings.database_name} to {target}.")
    return 0


def cmd_folders(args: argparse.Namespace, settings: Settings) -> int:
    from search.engine import Engine

    if args.action == "add":
        args.watch = False
        return cmd_index(args, settings)
    with Engine(settings) as engine:
        if args.action == "remove":
            if not args.paths:
                raise FathomError("Say which folder to remove: `python app.py folders remove PATH`.")
            for path in args.paths:
                removed = engine.remove_folder(path)
                print(f"Removed {path} and its {removed} file(s) from the index.")
            return 0
        status = engine.status().to_json()
    if args.json:
        print(json.dumps(status["folders"], ensure_ascii=False))
    elif not status["folders"]:
        print("No folders yet: python app.py folders add FOLDER")
    for folder in [] if args.json else status["folders"]:
        print(f"{folder['path']}  ({_folder_counts(folder)})")
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "index": cmd_index,
    "search": cmd_search,
    "status": cmd_status,
    "folders": cmd_folders,
    "mcp": cmd_mcp,
    "backup": cmd_backup,
}


# -- helpers --------------------------------------------------------------------------------


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


def _print_results(query: str, results: list[dict[str, Any]], show_query: bool, corrected: str | None = None) -> None:
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
        print(f"{rank:2}. {_score(result)}  {result['path']}{page}{marks}")
        excerpt = Snippet(result["snippet"], [tuple(h) for h in result["highlights"]])
        print(f"    {excerpt.marked(bold, plain) if bold else excerpt.text}")


def _score(result: dict[str, Any]) -> str:
    """The fused score; for a file found by its words alone, its word score (BM25)."""
    if result["vector_score"] is None and result["rerank_score"] is None and result["keyword_score"] is not None:
        return f"words {result['keyword_score']:.1f}"
    return f"{result['score']:.4f}"


def _filters(args: argparse.Namespace) -> ChunkFilter | None:
    return make_filter(args.folder, args.type or [], args.path, args.after, args.before)


class _progress_bar:
    """A tqdm bar on a terminal that follows the indexer's Progress object: files read (the
    words phase), then chunks embedded with the time left from tokens (the meaning phase)."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]"

    def __init__(self, enabled: bool, file: Any = None):
        self.file = file or sys.stderr
        self.enabled = enabled and (file is not None or sys.stderr.isatty())
        self.bar: Any = None
        self.phase = "words"

    def __enter__(self) -> Any:
        from search.ingest.indexer import Progress

        if not self.enabled:
            return Progress()
        from tqdm import tqdm

        self.bar = tqdm(total=0, desc="Reading", unit="files", file=self.file, dynamic_ncols=True,
                        bar_format=self.FORMAT)

        def follow(progress: Progress) -> None:
            bar = self.bar
            if progress.phase == "meaning" and self.phase == "words":
                self.phase = "meaning"
                bar.set_description_str("Embedding", refresh=False)  # set_description adds ": "
                bar.unit = "chunks"
                bar.reset(total=progress.chunks_total)
            if self.phase == "words":
                bar.total = progress.files_total
                bar.update(progress.files_done - bar.n)
                bar.set_postfix_str(f"{progress.files_failed} failed" if progress.files_failed else "", refresh=False)
            else:
                bar.total = progress.chunks_total
                eta = progress.eta_seconds
                left = progress.chunks_done < progress.chunks_total and eta is not None
                # The time left before the bar moves: what it draws at 100% says nothing is left.
                bar.set_postfix_str(f"{_minutes(eta)} left" if left else "", refresh=False)
                bar.update(progress.chunks_done - bar.n)

        return Progress(listener=follow)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


# -- the parser -----------------------------------------------------------------------------


def _common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command takes, before or after its name (`SUPPRESS`: no clobbering)."""
    s = argparse.SUPPRESS
    parser.add_argument("--data-dir", default=s, metavar="DIR",
                        help="where the index lives (env FATHOM_DATA_DIR; default: your user data folder)")
    parser.add_argument("--database", default=s, metavar="URL",
                        help="keep the index in this PostgreSQL database, e.g. postgresql://user@host/fathom "
                        "(env FATHOM_DATABASE_URL; default: a SQLite file in the data folder). The password: "
                        "PGPASSWORD or ~/.pgpass")
    parser.add_argument("--embedding-model", default=s, metavar="NAME_OR_PATH",
                        help="hub name or local folder (env FATHOM_EMBEDDING_MODEL; default Qwen/Qwen3-Embedding-0.6B)")
    parser.add_argument("--reranker-model", default=s, metavar="NAME_OR_PATH",
                        help="hub name, local folder or `none` (env FATHOM_RERANKER_MODEL; default Qwen/Qwen3-Reranker-0.6B)")
    parser.add_argument("--device", default=s, choices=DEVICES, help="env FATHOM_DEVICE; default auto")
    parser.add_argument("--dim", default=s, type=_positive_int, metavar="N",
                        help="smaller embedding dimension (Matryoshka) for Qwen3 models (env FATHOM_DIM)")
    parser.add_argument("--max-file-size", default=s, type=_positive_float, metavar="MB",
                        help=f"skip files larger than this (env FATHOM_MAX_FILE_MB; default {DEFAULT_MAX_FILE_MB:g})")
    parser.add_argument("--max-passages", default=s, type=_positive_int, metavar="N",
                        help="index at most this many passages of one file; a file cut there is listed by "
                        "`status` (env FATHOM_MAX_PASSAGES; default 2000)")
    parser.add_argument("--embedding-url", default=s, metavar="URL",
                        help="embed on an OpenAI-compatible server, e.g. http://gpu-box:8000/v1; "
                        "--embedding-model is then the model's name there (env FATHOM_EMBEDDING_URL; "
                        "`none`: here). Key: env FATHOM_API_KEY")
    parser.add_argument("--reranker-url", default=s, metavar="URL",
                        help="rerank on a server with a rerank API (env FATHOM_RERANKER_URL; `none`: here)")
    parser.add_argument("--tokenizer", default=s, metavar="NAME_OR_PATH",
                        help="cut files into chunks in this tokenizer's tokens (a folder or hub name), for a "
                        "model on a server under a name this computer does not know (env FATHOM_TOKENIZER)")
    parser.add_argument("--query-format", default=s, choices=("qwen3", "plain"),
                        help="whether the embedding server's model takes Qwen3's instruction format for "
                        "queries (env FATHOM_QUERY_FORMAT; default: qwen3 when its name says Qwen3-Embedding)")
    parser.add_argument("--reranker-format", default=s, choices=("qwen3", "plain"),
                        help="whether the reranker server's model takes Qwen3-Reranker's prompt (env "
                        "FATHOM_RERANKER_FORMAT; default: qwen3 when its name says Qwen3-Reranker)")


def _serve_options(parser: argparse.ArgumentParser) -> None:
    s = argparse.SUPPRESS
    parser.add_argument("--host", default=s, metavar="ADDRESS",
                        help=f"address to listen on (default {DEFAULT_HOST}: this computer only; "
                        "any other needs a password of 12 characters or more)")
    parser.add_argument("--port", default=s, type=_port, metavar="N", help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--share", default=s, action="store_true",
                        help="also make a public Gradio share link (needs a password of 12 characters "
                        "or more: --auth-file, FATHOM_AUTH or --auth)")
    parser.add_argument("--auth", default=s, action="append", metavar="USER:PASSWORD",
                        help="ask for this user and password (repeatable). Other users of this computer "
                        "can read it in `ps`: prefer FATHOM_AUTH=USER:PASSWORD or --auth-file")
    parser.add_argument("--auth-file", default=s, metavar="FILE",
                        help="users and passwords, one USER:PASSWORD a line (keep it private: chmod 600)")
    parser.add_argument("--allowed-host", default=s, action="append", metavar="NAME",
                        help="also answer requests for this host name, e.g. mybox.lan (repeatable; "
                        "env FATHOM_ALLOWED_HOSTS, comma-separated); any other name is refused")
    parser.add_argument("--no-browser", default=s, action="store_true",
                        help="don't open the page in a browser (it opens when run from a terminal); "
                        "open the address Fathom prints: it carries the page's token (page-token in "
                        "the data folder, or env FATHOM_TOKEN)")
    parser.add_argument("--mcp", default=s, action="store_true",
                        help="also serve Fathom's read-only tools to AI agents (MCP over Streamable HTTP) at "
                        "/mcp, behind the page's own checks, token and password")


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, found {value}")
    return value


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


_positive_int = _positive(int)
_positive_float = _positive(float)


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
    _common_options(parser)
    _serve_options(parser)  # `python app.py --port 8000` is `python app.py serve --port 8000`
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="start Fathom's page (the default command)")
    _common_options(serve)
    _serve_options(serve)

    index = sub.add_parser("index", help="index folders; again, it updates only what changed")
    _common_options(index)
    index.add_argument("paths", nargs="*", metavar="PATH",
                       help="folders to index (default: every folder indexed before)")
    index.add_argument("--json", action="store_true", help="print the report as one JSON object")
    index.add_argument("--watch", action="store_true",
                       help="then keep watching the folders and update the index as files change")
    index.add_argument("--retry", action="store_true",
                       help="try every failed and skipped file again, even if it did not change")

    search = sub.add_parser("search", help="search the indexed folders")
    _common_options(search)
    search.add_argument("query", nargs="?", help="what to look for")
    search.add_argument("-k", type=_positive_int, default=10, metavar="N", help="number of files (default 10)")
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
    search.add_argument("--rerank-top", type=_positive_int, default=None, metavar="N",
                        help=f"how many of the best files to rerank (default {DEFAULT_RERANK_TOP}, "
                        "or the rerank depth saved in Settings)")
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

    status = sub.add_parser("status", help="folders, files, failures, model and database")
    _common_options(status)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--check", action="store_true",
                        help="verify that every chunk has its vector and keyword row, and repair what it can")

    folders = sub.add_parser("folders", help="list, add or remove the indexed folders")
    _common_options(folders)
    folders.add_argument("action", nargs="?", choices=("list", "add", "remove"), default="list",
                         help="list (default), add (and index), or remove (and drop their files)")
    folders.add_argument("paths", nargs="*", metavar="PATH", help="folders to add or remove")
    folders.add_argument("--json", action="store_true", help="print JSON")

    mcp = sub.add_parser("mcp", help="let an AI agent search your files: a read-only MCP server on stdin and stdout")
    _common_options(mcp)

    backup = sub.add_parser("backup", help="copy the index database while Fathom runs")
    _common_options(backup)
    backup.add_argument("path", metavar="PATH", help="the backup file (or a folder to put it in)")
    return parser


def console() -> None:
    """The `fathom` command that the install puts on the PATH: `fathom search ...` is
    `python app.py search ...`."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main(prog="fathom"))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
