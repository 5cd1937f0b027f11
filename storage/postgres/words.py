"""Keyword search in PostgreSQL as FTS5 does it in SQLite: the same words, the same BM25.

The text is the one FTS5 gets (storage/fts.py: CJK bigrams, identifier parts), cut into words
here the way FTS5's `unicode61 remove_diacritics 2` tokenizer does (runs of letters and digits;
lower case; Latin diacritics removed), and stored as a `tsvector` literal: lexemes with their
positions and a weight per column (A-D). No text search configuration runs, neither on the
text nor on a query (`::tsquery` takes lexemes as they are): like the 'simple' one, nothing is
stemmed, and unlike PostgreSQL's parser, nothing depends on the server's locale (a C locale
would drop every CJK character) nor takes `foo.bar.com` or `3.14` for one word.

A GIN index over the tsvectors finds the rows; BM25 ranks them here, with FTS5's formula
(k1 = 1.2, b = 0.75, IDF log((N - n + 0.5) / (n + 0.5)), at least 1e-6, column weights summed
into the term frequency), from the positions of the query's words in each row. PostgreSQL
keeps at most 256 positions of a word per row and positions up to 16,383: positions wrap
around past that (phrases still match), and a row's length in words is kept in its own column.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from storage.records import KeywordMatch

K1, B = 1.2, 0.75
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f\ue000-\uf8ff])+")
MAX_POSITION = 16_383
MAX_POSITIONS = 256  # a lexeme's positions that a tsvector keeps
MAX_LEXEME_BYTES = 2_000  # PostgreSQL refuses longer words (2,046 bytes)
MAX_TSVECTOR_BYTES = 800_000  # a tsvector must stay under 1 MB: the rest of a huge file goes unindexed


@functools.lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """A word as unicode61 stores it: lower case, Latin letters without their diacritics."""
    lower = word.lower()
    if lower.isascii():
        return lower
    out = []
    for ch in lower:
        if ord(ch) < 0x370 or 0x1E00 <= ord(ch) <= 0x1EFF:  # Latin: é -> e
            out.append("".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)))
        elif not unicodedata.combining(ch) or ord(ch) > 0x36F:
            out.append(ch)
    return "".join(out)


def words(text: str) -> list[str]:
    return [fold(m) for m in _TOKEN.findall(text)]


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(columns: Sequence[tuple[str, str]]) -> tuple[str, int]:
    """The tsvector literal of text in weighted columns [(text, "A".."D")], and its length in
    words (all of them, as FTS5 counts a row's length)."""
    positions: dict[str, list[str]] = {}
    size, at, count = 0, 0, 0
    for text, weight in columns:
        mark = "" if weight == "D" else weight
        for word in words(text):
            count += 1
            at += 1
            entry = positions.get(word)
            if entry is None:
                if size > MAX_TSVECTOR_BYTES or len(word.encode()) > MAX_LEXEME_BYTES:
                    continue
                entry = positions[word] = []
                size += len(word.encode()) + 8
            if len(entry) < MAX_POSITIONS:
                entry.append(f"{(at - 1) % MAX_POSITION + 1}{mark}")
                size += 2
        at += 1  # a gap: no phrase runs from one column into the next
    literal = " ".join(f"{_quoted(word)}:{','.join(marks)}" for word, marks in positions.items())
    return literal, count


@dataclass(frozen=True)
class Term:
    text: str
    words: tuple[str, ...]  # more than one: a phrase (snake_case, e-mail, a quoted phrase)
    required: bool = False  # a phrase a person quoted: every row matched holds it

    def tsquery(self, weights: str = "") -> str:
        marks = f":{weights}" if weights else ""
        parts = [f"{_quoted(w)}{marks}" for w in self.words]
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def compiled(match: KeywordMatch) -> list[Term]:
    """The terms of a keyword match that hold a word, each once: its phrases (required), then
    the others."""
    out: list[Term] = []
    for text, required in [*((p, True) for p in match.phrases), *((t, False) for t in match.terms)]:
        found = tuple(words(text))
        if found and all(t.words != found for t in out):
            out.append(Term(text, found, required))
    return out


def tsquery(terms: Sequence[Term], weights: str = "") -> str:
    """Every required term and any of the others, as FTS5 is asked (storage/fts.py)."""
    required = [t.tsquery(weights) for t in terms if t.required]
    any_of = " | ".join(t.tsquery(weights) for t in terms if not t.required)
    if not required:
        return any_of
    return " & ".join(required + ([f"({any_of})"] if any_of else []))


@dataclass
class Places:
    """Where a word occurs in a row: its positions, and the letters of those that are not in
    column D (a file's name, folders and title; a chunk has D only)."""

    at: Sequence[int]
    letters: dict[int, str]


# A row's positions of the query's words: lexeme -> Places
Positions = dict[str, Places]


def frequency(term: Term, row: Positions, weights: dict[str, float]) -> float:
    """How often the term occurs in the row, each occurrence weighted by its column."""
    first = row.get(term.words[0])
    if first is None:
        return 0.0
    if len(term.words) == 1:
        return weights.get("D", 0.0) * (len(first.at) - len(first.letters)) + sum(
            weights.get(letter, 0.0) for letter in first.letters.values()
        )
    rest = [row.get(w) for w in term.words[1:]]
    if any(r is None for r in rest):
        return 0.0
    follow = [set(r.at) for r in rest]  # type: ignore[union-attr]
    total = 0.0
    for position in first.at:
        if all(((position + i) - 1) % MAX_POSITION + 1 in r for i, r in enumerate(follow, 1)):
            total += weights.get(first.letters.get(position, "D"), 0.0)
    return total


def idf(rows: int, having: int) -> float:
    value = math.log((rows - having + 0.5) / (having + 0.5))
    return value if value > 0 else 1e-6


def bm25(
    docs: dict[int, tuple[int, Positions]],
    terms: Sequence[Term],
    weights: dict[str, float],
    rows: int,
    average_words: float,
    holding: Sequence[int] | None = None,
) -> dict[int, float]:
    """FTS5's bm25() (as a higher-is-better score) of each document the query matched. A term's
    document frequency is `holding` (rows of the index that hold each term) when given, else
    the matched documents it occurs in (weighted columns only): with no required term, every
    document holding a term of the query is among them."""
    tfs = {doc: [frequency(t, row, weights) for t in terms] for doc, (_, row) in docs.items()}
    if holding is None:
        holding = [sum(1 for found in tfs.values() if found[i] > 0) for i in range(len(terms))]
    idfs = [idf(rows, having) for having in holding]
    scores: dict[int, float] = {}
    for doc, (length, _) in docs.items():
        norm = K1 * (1 - B + B * length / (average_words or 1.0))
        scores[doc] = sum(w * (tf * (K1 + 1)) / (tf + norm) for w, tf in zip(idfs, tfs[doc]))
    return scores


def positions(rows: Iterable[tuple[int, int, str, Sequence[int], Sequence[str]]]) -> dict[int, tuple[int, Positions]]:
    """Rows of (id, length, lexeme, positions, weights) grouped by document; positions without
    their weights are D's."""
    docs: dict[int, tuple[int, Positions]] = {}
    for doc, length, lexeme, places, letters in rows:
        entry = docs.setdefault(doc, (length, {}))
        entry[1][lexeme] = Places(places, {p: w for p, w in zip(places, letters) if w != "D"})
    return docs
