"""A result's passage in its document: for text and code, the text around it with the passage
marked; for a PDF, the whole page it is on. Made from the chunks the index stored (their
offsets place them in the file's text), so it shows what was indexed, even for a file that is
gone since. No Gradio here."""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Sequence

from storage import StoredChunk

AROUND_CHARS = 1200  # of text shown before and after the passage
PAGE_CHARS = 12_000  # at most, of a PDF page


def stitched(chunks: Sequence[StoredChunk], start: int, end: int) -> tuple[str, int]:
    """The file's text from `start` to `end`, as far as the chunks cover it (they overlap; the
    gaps between them are the whitespace trimmed off their edges, shown as line breaks), and
    the offset in the file where the returned text begins."""
    parts: list[str] = []
    reached = begin = None
    for chunk in chunks:
        if chunk.end <= start or chunk.start >= end:
            continue
        if reached is None:
            begin = reached = max(start, chunk.start)
        if chunk.end <= reached:
            continue
        if chunk.start > reached:  # as many characters as the gap, so offsets still hold
            gap = chunk.start - reached
            parts.append(" " * (gap - min(gap, 2)) + "\n" * min(gap, 2))
            reached = chunk.start
        parts.append(chunk.text[reached - chunk.start : min(end, chunk.end) - chunk.start])
        reached = min(end, chunk.end)
    return "".join(parts), begin or 0


def preview(path: str, chunks: Sequence[StoredChunk], start: int, end: int, page: int | None,
            line: int | None = None) -> str:
    """The passage (file offsets `start`..`end`) among its neighbours, as HTML."""
    name = Path(path).name
    if not chunks:
        return _box(name, "", '<p class="fathom-muted">This file is no longer in the index.</p>')
    if page is not None:
        on_page = [c for c in chunks if c.page == page]
        first, last = (on_page[0].start, on_page[-1].end) if on_page else (start, end)
        first, last = min(first, start), max(last, end)
        where = f"page {page}"
        if last - first > PAGE_CHARS:
            first, last = max(first, start - PAGE_CHARS // 2), min(last, end + PAGE_CHARS // 2)
            where += " (the part around the passage)"
    else:
        first, last = max(0, start - AROUND_CHARS), end + AROUND_CHARS
        where = f"around line {line}" if line else "the text around the passage"
    text, begin = stitched(chunks, first, last)
    cut_from, cut_to = max(0, start - begin), max(0, min(len(text), end - begin))
    before = text[:cut_from]
    if page is None and first > 0:  # start the excerpt at a line's start
        newline = before.find("\n")
        before = before[newline + 1 :] if 0 <= newline < len(before) // 2 else "…" + before
    after = text[cut_to:]
    if page is None and chunks[-1].end > last:
        newline = after.rfind("\n")
        after = after[:newline] if newline > len(after) // 2 else after + "…"
    body = (
        f'<pre class="fathom-preview-text">{escape(before)}<mark class="fathom-passage">'
        f"{escape(text[cut_from:cut_to])}</mark>{escape(after)}</pre>"
    )
    return _box(name, where, body)


def _box(name: str, where: str, body: str) -> str:
    heading = f"<b>{escape(name)}</b>" + (f" · {escape(where)}" if where else "")
    return f'<div class="fathom-preview" tabindex="-1"><div class="fathom-preview-head">{heading}</div>{body}</div>'
