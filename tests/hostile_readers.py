"""Readers that stand in for a hostile file, for tests of search/ingest/parsing.py. They run
in its worker process: a file named `hangs...` never comes back, `hogs...` eats memory, and
any other file goes to the real reader."""
from __future__ import annotations

import time
from pathlib import Path

from search.errors import ExtractError
from search.ingest.extract import Extracted, extract

_MB = 1_000_000


def hostile(path: Path, max_bytes: int) -> Extracted:
    if path.name.startswith("hangs"):
        while True:  # a parser caught in a loop of objects
            time.sleep(0.01)
    if path.name.startswith("hogs"):
        held = []
        for _ in range(40):  # 2 GB at most, should the limit not hold
            held.append(bytearray(50 * _MB))
        return Extracted(f"read with {len(held) * 50} MB")
    return extract(path, max_bytes)


def not_yet(path: Path, max_bytes: int) -> Extracted:
    """A reader of an older Fathom that could not read this format."""
    raise ExtractError("this version of Fathom cannot read it")
