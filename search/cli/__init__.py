"""The command line: parser.py reads it, commands.py and search_command.py run it, output.py
prints what they found. This is the CLI edge: messages from below carry marks
(search/wording.py), worded here as flags and commands with the program's name as it was
started (`fathom` or `python app.py`)."""
from __future__ import annotations

import sys
from typing import Sequence

from search.cli.commands import COMMANDS
from search.cli.parser import build_parser, setting_options
from search.config import Settings
from search.errors import FathomError
from search.wording import Terminal, worded
from storage import StorageError

__all__ = ["build_parser", "main"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None, prog: str = "python app.py") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    args.edge = Terminal(prog)
    command = args.command or "serve"
    try:
        settings = Settings.resolve(**setting_options(args))
        return COMMANDS[command](args, settings)
    except (FathomError, StorageError) as exc:
        print(f"fathom: {worded(str(exc), args.edge)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "\nfathom: interrupted. Everything written so far is kept; run the same command "
            "again to continue.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
