"""What a chunk sits under: its document's title (or file name) and the nearest section
heading before it. A chunk deep in a long file then still matches a query about the file.

Headings are read only where the format has them: `# Title` is a Markdown heading but a
comment in Python, shell or YAML, so code and configuration files have none.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path

MAX_CONTEXT_CHARS = 160
_MARKDOWN = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_RST_UNDERLINE = re.compile(r"([=\-~^\"'`#*+<>])\1{2,}[ \t]*")
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.MULTILINE | re.DOTALL)
# Files whose text can hold headings, by extension: Markdown (`# Title`, or a title underlined
# with = or -), reStructuredText (underlined titles), plain text notes (either), notebooks
# (their Markdown cells).
HEADING_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".rst", ".rest", ".txt", ".text", ".ipynb"})


class Headings:
    """Section headings of a text by offset, to look up the one in force at any point.
    `suffix` is the file's extension: other formats have no headings."""

    def __init__(self, text: str, suffix: str):
        found: list[tuple[int, str]] = []
        if suffix.lower() in HEADING_SUFFIXES:
            fences = [m.span() for m in _FENCE.finditer(text)]  # `# x` in a code block is code
            found = [
                (m.start(), m.group(1).strip())
                for m in _MARKDOWN.finditer(text)
                if not any(a <= m.start() < b for a, b in fences)
            ]
            found += _rst_titles(text)
        found.sort()
        self._starts = [start for start, _ in found]
        self._titles = [title for _, title in found]

    @property
    def first(self) -> str | None:
        return self._titles[0] if self._titles else None

    def at(self, offset: int) -> str | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        return self._titles[i] if i >= 0 else None


def _rst_titles(text: str) -> list[tuple[int, str]]:
    """reStructuredText titles: a line of words underlined by a line of one punctuation mark
    at least about as long. Line by line, so a huge one-line file stays linear."""
    titles = []
    offset, previous, previous_at = 0, "", 0
    for line in text.split("\n"):
        title = previous.strip()
        if (
            title
            and any(ch.isalnum() for ch in title)
            and _RST_UNDERLINE.fullmatch(line)
            and len(line.strip()) >= len(title) * 0.6
        ):
            titles.append((previous_at, title))
        previous, previous_at = line, offset
        offset += len(line) + 1
    return titles


def chunk_context(path: Path, title: str | None, heading: str | None) -> str:
    """`Title › Section`, or the file name when the document has no title."""
    parts = [title.strip() if title and title.strip() else path.name]
    if heading and heading != parts[0]:
        parts.append(heading)
    context = " › ".join(parts)
    return context if len(context) <= MAX_CONTEXT_CHARS else context[: MAX_CONTEXT_CHARS - 1] + "…"


def embedding_text(context: str, text: str) -> str:
    """What the embedder sees for a chunk: its context on a line of its own, then the text."""
    return f"{context}\n\n{text}" if context else text
