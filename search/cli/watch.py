"""`index --watch`: the live index in a terminal, until Ctrl-C."""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from search.channel import Channel
from search.cli.output import print_report
from search.engine import folder_path
from search.errors import FathomError
from search.live import LiveIndex
from search.wording import worded, worded_data


def watch(engine: Any, args: argparse.Namespace) -> None:
    """Follow changes until Ctrl-C, from the first second: the live index catches up with what
    changed while Fathom was off, follows changes meanwhile (the files the person changes are
    embedded first) and answers terminal searches; each update is printed as it happens."""
    folders = [folder_path(p) for p in args.paths]
    said: list[str | None] = [None, None]

    def on_report(report: Any, catch_up: bool) -> None:
        print_report(report, args.json, args.edge, prefix="Indexed: " if catch_up else "Updated: ")

    def on_embedded(embedded: Any) -> None:
        if embedded.chunks or embedded.failed:
            if args.json:
                failed = worded_data(embedded.failed, args.edge, "failed")
                print(json.dumps({"embedded": embedded.chunks, "failed": failed}), flush=True)
            else:
                print(f"Embedded: {embedded.chunks} chunk(s).", flush=True)
                for path, reason in embedded.failed:
                    print(f"  failed: {path}: {worded(reason, args.edge)}", flush=True)

    live = LiveIndex(engine, on_report=on_report, on_embedded=on_embedded, retry=getattr(args, "retry", False))
    for folder in folders:
        live.add(folder)
    if not live.folders():
        raise FathomError(f"No folder to index: give one, e.g. `{args.edge.command('index --watch ~/Documents')}`.")
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
                    print(f"fathom: {worded(words, args.edge)}", file=sys.stderr, flush=True)
                said[slot] = words
    except KeyboardInterrupt:
        print("Stopped watching.", file=sys.stderr)
    finally:
        if channel is not None:
            channel.stop()
        live.stop()
