"""A short excerpt of a chunk around the query's words, with those words marked."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from storage.fts import query_terms

WIDTH = 240


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # spans within `text`

    def marked(self, before: str, after: str) -> str:
        """The text with each highlight wrapped, e.g. in ANSI bold or <mark> tags."""
        out, at = [], 0
        for start, end in self.highlights:
            out += [self.text[at:start], before, self.text[start:end], after]
            at = end
        return "".join(out) + self.text[at:]


def _pattern(query: str) -> re.Pattern[str] | None:
    terms = sorted({t.lower() for t in query_terms(query) if len(t) > 1 or not t.isascii()}, key=len, reverse=True)
    if not terms:
        return None
    # ASCII words match from a word's start ("date" in "dates", not in "update"); short ones
    # only whole ("do" not in "dough").
    parts = [
        (rf"\b{re.escape(t)}\b" if len(t) <= 3 else rf"\b{re.escape(t)}") if t.isascii() and t[0].isalnum() else re.escape(t)
        for t in terms
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def make_snippet(text: str, query: str, width: int = WIDTH) -> Snippet:
    flat = " ".join(text.split())
    pattern = _pattern(query)
    matches = [m.span() for m in pattern.finditer(flat)] if pattern else []
    start = 0
    if len(flat) > width and matches:
        # The window that holds the most matches, starting a little before the first of them.
        best = max(
            range(len(matches)),
            key=lambda i: sum(1 for s, e in matches[i:] if e <= matches[i][0] + width * 3 // 4),
        )
        start = max(0, min(matches[best][0] - width // 4, len(flat) - width))
        if start > 0:  # begin at a word
            space = flat.find(" ", start)
            start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    spans: list[tuple[int, int]] = []
    for s, e in matches:
        if s < start or e > end:
            continue
        if spans and s + shift <= spans[-1][1]:  # touching matches read as one
            spans[-1] = (spans[-1][0], e + shift)
        else:
            spans.append((s + shift, e + shift))
    return Snippet(prefix + flat[start:end] + suffix, spans)
