"""Search filters as a person types them (a folder, file types, a glob, dates), turned into
a storage ChunkFilter. The CLI and the page both read them here, so both accept the same
text and say the same thing when it is wrong."""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Iterable

from search.errors import FathomError
from search.wording import mark
from storage import ChunkFilter


def make_filter(
    folder: str | None = None,
    types: Iterable[str] = (),
    path_glob: str | None = None,
    after: str | None = None,
    before: str | None = None,
    after_name: str = mark("after"),
    before_name: str = mark("before"),
) -> ChunkFilter | None:
    """None when nothing is filtered. `types` are comma-separated extensions: "md,pdf".
    `after_name` and `before_name` name the dates in an error (marked: each edge words them)."""
    extensions = tuple(
        "." + ext.strip().lower().lstrip(".") for value in types for ext in value.split(",") if ext.strip()
    )
    only = ChunkFilter(
        folder=str(Path(folder).expanduser().resolve()) if folder else None,
        extensions=extensions,
        path_glob=path_glob or None,
        modified_after_ns=parse_when(after, after_name),
        modified_before_ns=parse_when(before, before_name),
    )
    return None if only.empty else only


# A file's time is kept in nanoseconds in a 64-bit integer (both databases): from 1677 to 2262.
# A date beyond that (0001-01-01, 9999-12-31, 99999999999d ago) means "any time" on that side.
EARLIEST_NS, LATEST_NS = -(2**63) + 1, 2**63 - 1


def parse_when(text: str | None, option: str) -> int | None:
    """A date as nanoseconds since the epoch: 2024-05-31, an ISO time, or 7d / 2w / 6m / 1y ago."""
    if text is None or not text.strip():
        return None
    relative = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", text.lower())
    if relative:
        if len(relative.group(1)) > 12:  # more days than the calendar has: any time
            return EARLIEST_NS
        days = int(relative.group(1)) * {"d": 1, "w": 7, "m": 30, "y": 365}[relative.group(2)]
        return _clamped((time.time() - days * 86400) * 1e9)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FathomError(
            f"{option} {text!r} is not a date: use 2024-05-31, 2024-05-31T14:00, or 7d, 2w, 6m, 1y (ago)."
        ) from None
    if when.tzinfo is None:
        try:
            when = when.astimezone()  # local time, as a person means it
        except (ValueError, OverflowError):  # the first or last days of the calendar
            when = when.replace(tzinfo=dt.timezone.utc)
    try:
        seconds = when.timestamp()
    except (ValueError, OverflowError):
        return EARLIEST_NS if when.year < 1970 else LATEST_NS
    return _clamped(seconds * 1e9)


def _clamped(ns: float) -> int:
    return int(min(max(ns, EARLIEST_NS), LATEST_NS))
