"""What a person typed, read once as search engines read it: `"an exact phrase"`, `-word` and
`-"a phrase"` to leave files out, every other word as it is; then misspelled words matched to
the index's own words. Both stores compile the result (storage.WordQuery), and the embedder
reads the words without the marks and without what is left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from search.snippets import STOP_WORDS
from storage import IndexStore, WordQuery
from storage.fts import query_terms

QUOTES = "\"\u201c\u201d\u201e"  # " “ ” „
MAX_CHARS = 2_000  # of a query: a pasted page is read up to here (the store caps its terms too)
_TOKEN = re.compile(rf"(-?)(?:[{QUOTES}]([^{QUOTES}]*)(?:[{QUOTES}]|$)|([^\s{QUOTES}]+))")


@dataclass(frozen=True)
class Part:
    """A word (as typed, with its punctuation) or a quoted phrase; `excluded`: typed with a
    minus, so files holding it are left out."""

    text: str
    phrase: bool = False
    excluded: bool = False

    def written(self) -> str:
        """The part as a person would type it."""
        body = f'"{self.text}"' if self.phrase else self.text
        return ("-" if self.excluded else "") + body


@dataclass(frozen=True)
class Query:
    """A query, parsed: its parts in the order typed, and the words corrected (as typed, as
    searched). `checked`: its spelling was looked at, so it is searched as it is."""

    text: str
    parts: tuple[Part, ...]
    corrections: tuple[tuple[str, str], ...] = ()
    checked: bool = False

    @property
    def words(self) -> list[str]:
        return [p.text for p in self.parts if not p.phrase and not p.excluded]

    @property
    def phrases(self) -> list[str]:
        return [p.text for p in self.parts if p.phrase and not p.excluded]

    @property
    def excluded(self) -> list[str]:
        """Words and phrases whose files are left out."""
        return [p.text for p in self.parts if p.excluded]

    @property
    def has_syntax(self) -> bool:
        return any(p.phrase or p.excluded for p in self.parts)

    @property
    def meaning(self) -> str:
        """What the embedder and the reranker read: the words and phrases without quotes or
        what is left out; the text as typed when it has no syntax and nothing was corrected."""
        if not self.has_syntax and not self.corrections:
            return self.text.strip()
        return " ".join(p.text for p in self.parts if not p.excluded)

    @property
    def words_query(self) -> WordQuery:
        return WordQuery(tuple(self.words), tuple(self.phrases))

    @property
    def searched(self) -> str | None:
        """The query as searched, written back as typed, when a word was corrected; else None."""
        if not self.corrections:
            return None
        return " ".join(p.written() for p in self.parts)

    @property
    def typed_instead(self) -> str:
        """The text that searches the corrected words as typed: each in quotes (a quoted word
        is never corrected), the rest as it was written."""
        parts = parse_query(self.text).parts
        out = []
        for part in parts:
            if not part.phrase and not part.excluded:
                for typed, _ in self.corrections:
                    if re.fullmatch(rf"\W*{re.escape(typed)}\W*", part.text):
                        part = replace(part, phrase=True)
            out.append(part.written())
        return " ".join(out)

    @property
    def marked(self) -> str:
        """The words a snippet marks: words and phrases, not what is left out."""
        return " ".join(p.text for p in self.parts if not p.excluded)


def parse_query(text: str) -> Query:
    """`"exact phrase"` (straight or curly quotes; an unclosed quote runs to the end),
    `-word` and `-"phrase"` (a minus that starts a word and is followed by a letter or a
    quote: `-1` and `well-known` are words), every other run of non-spaces a word."""
    text = text[:MAX_CHARS]
    parts: list[Part] = []
    for match in _TOKEN.finditer(text):
        minus, phrase, word = match.groups()
        if phrase is not None:
            if has_words(phrase):
                parts.append(Part(" ".join(phrase.split()), phrase=True, excluded=bool(minus)))
            continue
        if minus and word[0].isalpha():
            parts.append(Part(word, excluded=True))
        elif has_words(minus + word):
            parts.append(Part(minus + word))
    return Query(text, tuple(parts))


def has_words(text: str) -> bool:
    """Whether text holds anything to search for: not only spaces and punctuation."""
    return bool(query_terms(text))


def corrected(store: IndexStore, query: Query) -> Query:
    """The query with each of its plain words that no indexed file holds replaced by the
    nearest indexed word, when one is near (storage/spelling.py); quoted phrases and words
    left out are searched as typed. Marked checked either way."""
    if query.checked:
        return query
    pieces = [
        term for part in query.parts if not part.phrase and not part.excluded
        for term in query_terms(part.text) if term.lower() not in STOP_WORDS  # "does" is no slip of "dogs"
    ]
    nearest = store.nearest_words(list(dict.fromkeys(pieces))) if pieces else {}
    if not nearest:
        return replace(query, checked=True)
    parts, corrections = [], []
    for part in query.parts:
        if not part.phrase and not part.excluded:
            text = part.text
            for typed, found in nearest.items():
                text, count = re.subn(rf"(?<!\w){re.escape(typed)}(?!\w)", found, text)
                if count and (typed, found) not in corrections:
                    corrections.append((typed, found))
            part = replace(part, text=text)
        parts.append(part)
    return replace(query, parts=tuple(parts), corrections=tuple(corrections), checked=True)


def as_typed(text: str) -> Query:
    """The query searched as typed, its spelling not corrected."""
    return replace(parse_query(text), checked=True)


def plain_query(text: str) -> Query:
    """Text searched as plain words, quotes and minus signs included (a file's text, for
    "more like this")."""
    return Query(text, (Part(text),), checked=True)
