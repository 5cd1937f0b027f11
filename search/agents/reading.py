"""What an agent may read of a file, and how much: the `get` tool and the line ranges of
search results.

A file is handed out only when the page would hand it out (search/page/files.py: an indexed
file, inside an indexed folder, after every link and `..` is followed), and when its real
path is not one that indexing leaves out by rule (search/ingest/walk.py: hidden files, `.git`,
what a `.gitignore` excludes...), so a link inside a folder cannot lead to a `.env` beside it.
Whatever fails, the answer is the same sentence and holds nothing of the file.

The text is the one Fathom indexed: the file read by the same readers as indexing (PDF, DOCX,
EPUB and HTML in the worker process, under its limits), so line numbers and PDF pages agree
with the search results'.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from search.agents.results import FileText
from search.errors import ExtractError
from search.ingest.extract import ISOLATED_EXTENSIONS, NOTEBOOK_EXTENSIONS, Extracted
from search.ingest.walk import why_ignored
from search.page.files import servable_file
from search.wording import AGENT, worded

MAX_CHARS = 20_000  # of text in one answer (about 5,000 tokens): an agent reads on by lines
LINES_FROM_BYTES = 4_000_000  # search results: files up to this size get their line range


class Refusal(Exception):
    """A tool call that cannot be answered, with the sentence the agent reads: the marks in it
    (search/wording.py) put in an agent's words, which name the tools' arguments and leave
    Fathom's settings to the person, never a command-line option."""

    def __init__(self, sentence: str):
        super().__init__(worded(sentence, AGENT))


@dataclass(frozen=True)
class Allowed:
    path: str  # as indexed (and as the agent gave it)
    real: Path  # every link followed


def not_readable(path: str, folders: Iterable[str | Path]) -> Refusal:
    named = ", ".join(str(f) for f in folders) or "none yet"
    return Refusal(
        f"{path} is not a file Fathom indexed: `get` reads only files that `search` returns, inside the "
        f"indexed folders ({named})."
    )


def allowed_file(path: str, folders: list[Path], is_indexed: "IsIndexed") -> Allowed:
    """The file behind `path` if an agent may read it; else Refusal, the same for every reason
    (a missing file, a file outside the folders, a link to one, a file never indexed)."""
    text = os.path.expanduser(path.strip())
    if not os.path.isabs(text):
        example = f"{folders[0]}/..." if folders else "/home/you/notes/todo.md"
        raise Refusal(f"path must be a full path, as `search` returns it (e.g. {example}), not {path!r}.")
    real = servable_file(text, folders, is_indexed)
    if real is None or _left_out_by_rule(real, folders):
        raise not_readable(path, folders)
    return Allowed(text, real)


class IsIndexed:
    """Whether a path is a file Fathom indexed (status "indexed"), from the store."""

    def __init__(self, store: object):
        self.store = store

    def __call__(self, path: str) -> bool:
        record = self.store.file_record(path)  # type: ignore[attr-defined]
        return record is not None and record.status == "indexed"


def _left_out_by_rule(real: Path, folders: Iterable[Path]) -> bool:
    """Whether the real file lies where indexing never reads (judged inside its folder)."""
    for folder in folders:
        try:
            root = folder.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real == root or root in real.parents:
            return why_ignored(real, root) is not None
    return True


def read_text(real: Path, max_bytes: int) -> Extracted:
    """The file's text, read as indexing reads it."""
    from search.ingest.parsing import shared_parser

    try:
        return shared_parser().extract(real, max_bytes)
    except ExtractError as exc:
        raise Refusal(f"Fathom cannot read {real} now: {exc}.") from None


def file_text(
    allowed: Allowed,
    doc: Extracted,
    start_line: int | None = None,
    end_line: int | None = None,
    page: int | None = None,
    max_chars: int = MAX_CHARS,
) -> FileText:
    """The part of the document asked for (lines, or a PDF page), cut at `max_chars`."""
    text = doc.text
    total = text.count("\n") + 1
    pages = len(doc.page_starts) or None
    if page is not None:
        if start_line is not None or end_line is not None:
            raise Refusal("Give either page or start_line/end_line, not both.")
        if not pages:
            raise Refusal(f"page applies to PDF files only; {allowed.path} has no pages: use start_line and end_line.")
        if not 1 <= page <= pages:
            raise Refusal(f"page must be from 1 to {pages} for {allowed.path}, found {page}.")
        begin = doc.page_starts[page - 1]
        stop = doc.page_starts[page] if page < pages else len(text)
        first = text.count("\n", 0, begin) + 1
        last = first + text.count("\n", begin, stop)
        if stop > begin and text[stop - 1] == "\n":
            last -= 1  # the page ends with its line break: the next line is the next page's
    else:
        first = 1 if start_line is None else start_line
        last = total if end_line is None else min(end_line, total)
        if first < 1 or first > total:
            raise Refusal(f"start_line must be from 1 to {total} (the file's last line), found {first}.")
        if last < first:
            raise Refusal(f"end_line must not be before start_line ({first}), found {end_line}.")
        begin = _line_offset(text, first)
        stop = _line_offset(text, last + 1) - (1 if last < total else 0)
    piece = text[begin:stop]
    note = None
    truncated = len(piece) > max_chars
    if truncated:
        cut = piece.rfind("\n", 0, max_chars + 1)  # whole lines, when one fits
        if cut > 0:
            piece = piece[:cut]
            shown = first + piece.count("\n")
            note = (f"Cut at {max_chars:,} characters: lines {first}-{shown} of {first}-{last} are shown; "
                    f"call get with start_line={shown + 1} for the rest.")
        else:
            piece, shown = piece[:max_chars], first
            note = f"Cut at {max_chars:,} characters, inside line {first}, which is longer than that" + (
                f"; call get with start_line={first + 1} for the lines after it." if last > first else "."
            )
        last = shown
    return FileText(
        path=allowed.path, title=doc.title, text=piece, first_line=first, last_line=last, total_lines=total,
        page=page, pages=pages, truncated=truncated, note=note,
    )


def _line_offset(text: str, line: int) -> int:
    """The offset where line `line` (from 1) begins; len(text) + 1 past the last line."""
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found == -1:
            return len(text) + 1
        offset = found + 1
    return offset


def line_range(path: str, start: int, end: int, modified: float | None) -> tuple[int, int] | None:
    """The lines a search result's passage spans (its character offsets in the file's text),
    for text files that read as they are (not PDF, DOCX, EPUB, HTML or notebooks, whose text
    is extracted), still as they were indexed; None otherwise."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in ISOLATED_EXTENSIONS or suffix in NOTEBOOK_EXTENSIONS:
        return None
    try:
        info = file.stat()
        if info.st_size > LINES_FROM_BYTES or modified is None or abs(info.st_mtime_ns / 1e9 - modified) > 1e-3:
            return None
        from search.ingest.formats.text import decode_text

        text = decode_text(file.read_bytes())
    except (OSError, ExtractError):
        return None
    if end > len(text):
        return None
    first = text.count("\n", 0, start) + 1
    return first, first + text.count("\n", start, max(start, end - 1))
