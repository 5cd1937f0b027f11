"""A short excerpt of a chunk around the query's words, with those words marked."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from storage.fts import query_terms

WIDTH = 240
# Words too common to be worth marking: a snippet with every "the" marked says nothing.
STOP_WORDS = frozenset(
    """a about after all also am an and any are as at be been before being both but by can could
    did do does doing done for from had has have having he her here hers him his how i if in
    into is it its just me more most my no nor not of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours""".split()
)
# Lines that bring code in rather than say what it does: a snippet of code skips them.
_IMPORT_LINE = re.compile(
    r"^\s*(import\s+[\w.]+|from\s+[\w.]+\s+import\b|#\s*include\b|using\s+[\w.]+\s*;|use\s+[\w:]+|"
    r"package\s+[\w.]+|(const|let|var)\s+\w+\s*=\s*require\(|require[ (]|@import\b)"
)


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


def _pattern(query: str, phrases: Sequence[str] = ()) -> re.Pattern[str] | None:
    words = {t.lower() for t in query_terms(" ".join([query, *phrases]))}
    terms = sorted(
        {t for t in words if (len(t) > 1 or not t.isascii()) and t not in STOP_WORDS}, key=len, reverse=True
    )
    # A quoted phrase is marked as one span, before its words alone.
    spans = [_phrase(p) for p in sorted(phrases, key=len, reverse=True) if len(query_terms(p)) > 1]
    spans += [_word(t) for t in terms]
    return re.compile("|".join(spans), re.IGNORECASE) if spans else None


# ASCII words match from the start of a word or of an identifier's part ("date" in "dates",
# "parse_date" and "parseDate", not in "update"), and are marked to the end of that word or
# part ("dates", not "date|s"); short ones only whole ("do" not in "dough").
_START = r"(?:(?<![A-Za-z0-9])|(?-i:(?<=[a-z])(?=[A-Z])))"
_REST = r"(?:(?-i:[a-z0-9]+)|(?-i:[A-Z0-9]+)(?![a-z]))?"


def _word(term: str) -> str:
    if not (term.isascii() and term[0].isalnum()):
        return re.escape(term)
    return _START + re.escape(term) + (r"(?![a-z0-9])" if len(term) <= 3 else _REST)


def _phrase(phrase: str) -> str:
    """A phrase's words in order, whatever spaces or punctuation lie between them."""
    words = [re.escape(w) for w in query_terms(phrase) if w]
    return _START + r"[\W_]+".join(words) + r"(?![A-Za-z0-9])"


def _skip_imports(text: str) -> tuple[str, int]:
    """The text from its first line that is not an import (or blank), and that line's offset;
    the whole text when it is nothing but imports."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not _IMPORT_LINE.match(line):
            return text[offset:], offset
        offset += len(line)
    return text, 0


def make_snippet(text: str, query: str, width: int = WIDTH, phrases: Sequence[str] = ()) -> Snippet:
    """The excerpt of `text` around the query's words, and the `phrases` a person quoted."""
    pattern = _pattern(query, phrases)
    body, skipped = _skip_imports(text)
    # Code: the matching lines, or with no match the first lines that are not imports; the
    # imports only when the words match nowhere else.
    if skipped and (pattern is None or pattern.search(body) or not pattern.search(text)):
        text = body
    else:
        skipped = 0
    flat = " ".join(text.split())
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
    prefix = "…" if start > 0 or skipped else ""
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


def words_covered(text: str, query: str) -> float:
    """The share of the query's words (not stop-words) found in `text`, as the snippet marks
    them; 0.0 for a query of stop-words only."""
    terms = {t.lower() for t in query_terms(query) if (len(t) > 1 or not t.isascii()) and t.lower() not in STOP_WORDS}
    if not terms:
        return 0.0
    return sum(1 for t in terms if re.search(_word(t), text, re.IGNORECASE)) / len(terms)
