"""Fathom: local semantic search over your own folders.

    python app.py                      start Fathom's page (http://127.0.0.1:7860)
    python app.py index PATH [PATH..]  index folders (again: only what changed)
    python app.py search "QUERY"       search them
    python app.py status               what is indexed, what failed, which model
    python app.py folders              list, add or remove indexed folders
    python app.py backup PATH          copy the index while Fathom runs
    python app.py mcp                  let an AI agent search: an MCP server on stdio

The command line itself is in search/cli/.
"""
from __future__ import annotations

import os
import sys

from search.cli import build_parser, main

__all__ = ["build_parser", "main"]


def console() -> None:
    """The `fathom` command that the install puts on the PATH: `fathom search ...` is
    `python app.py search ...`."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main(prog="fathom"))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
