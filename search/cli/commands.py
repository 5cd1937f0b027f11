"""The CLI's commands but `search` (search_command.py): each takes the parsed command line and
the resolved settings, and returns the exit status. Heavy modules (the engine, the page) are
imported inside the command that needs them, so `--help` and `search` stay quick."""
from __future__ import annotations

import argparse
import json
import os
import sys

from search.cli import search_command
from search.cli.output import folder_counts, print_check, print_report, print_status
from search.cli.parser import setting_options
from search.cli.progress import ProgressBar
from search.config import Settings
from search.errors import FathomError
from search.settings_table import DEFAULT_HOST, DEFAULT_PORT, env_name
from search.wording import worded, worded_data


def environment(name: str) -> str | None:
    """A setting's environment variable, as set now."""
    return os.environ.get(env_name(name))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from search.config import setting_sources
    from search.page.access import allowed_host_names, check_exposure, credentials

    host = getattr(args, "host", DEFAULT_HOST)
    share = getattr(args, "share", False)
    auth = credentials(getattr(args, "auth", None), getattr(args, "auth_file", None), environment("auth"))
    check_exposure(host, share, auth)  # before the page (and Gradio) is even imported
    extra_hosts = allowed_host_names(getattr(args, "allowed_host", None), environment("allowed_host"))
    sources = setting_sources(**setting_options(args))
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
        edge=args.edge,
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
            from search.cli.watch import watch

            watch(engine, args)
            return 0
        with ProgressBar(enabled=not args.json) as progress:
            report, notice = engine.read(args.paths, progress, retry=getattr(args, "retry", False))
            try:
                embedded = engine.embed(progress)
            except ModelLoadError as exc:
                if not (report.added or report.updated):
                    raise
                print_report(report, args.json, args.edge)
                raise FathomError(
                    f"{str(exc).rstrip('.')}. The files this run read are searchable by their words "
                    "meanwhile; run the same command again to embed them."
                ) from None
        if notice:  # the new model loaded: everything is embedded with it
            print(worded(notice, args.edge), file=sys.stderr)
        report.chunks += embedded.chunks
        report.failed += embedded.failed
        print_report(report, args.json, args.edge)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from search.engine import Engine

    with Engine(settings) as engine:
        status = engine.status().to_json()
        if args.check:
            status["check"] = engine.check(repair=True)
    status = worded_data(status, args.edge)  # reasons and notes written below carry marks
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
        return 0
    print_status(status, args.edge)
    if args.check:
        print_check(status["check"], args.edge)
    return 0


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
                raise FathomError(f"Say which folder to remove: `{args.edge.command('folders remove PATH')}`.")
            for path in args.paths:
                removed = engine.remove_folder(path)
                print(f"Removed {path} and its {removed} file(s) from the index.")
            return 0
        status = engine.status().to_json()
    if args.json:
        print(json.dumps(status["folders"], ensure_ascii=False))
    elif not status["folders"]:
        print(f"No folders yet: {args.edge.command('folders add FOLDER')}")
    for folder in [] if args.json else status["folders"]:
        print(f"{folder['path']}  ({folder_counts(folder)})")
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "index": cmd_index,
    "search": search_command.cmd_search,
    "status": cmd_status,
    "folders": cmd_folders,
    "mcp": cmd_mcp,
    "backup": cmd_backup,
}
