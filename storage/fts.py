"""Words for keyword search (both backends): what goes into the keyword index, and what a
person's query becomes.

FTS5's `unicode61` tokenizer splits on spaces and punctuation, which suits English but not
Chinese or Japanese (no spaces) nor code (`parseDate` is one token). So the indexed text is
rewritten first, and queries the same way: runs of CJK characters become overlapping
bigrams, and identifiers in camelCase also contribute their parts. (`snake_case` already
splits on `_`.) The chunk's own text is stored untouched in `chunks`.

FTS5 also has a query syntax (quotes, `*`, `^`, `:`, NEAR, AND/OR/NOT, parentheses), so raw
user text can raise or mean something else: each term is quoted as a phrase and the phrases
are OR-ed, so that BM25 ranks documents matching more (and rarer) terms higher. The phrases a
person quoted (storage.records.KeywordMatch) are each required: `"p q" AND ("a" OR "b")`.
"""
from __future__ import annotations

import re

from storage.records import KeywordMatch

MAX_TERMS = 64
MAX_QUERY_TERMS = 4 * MAX_TERMS  # distinct terms collected from one query, at most
MAX_PHRASES = 16
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(rf"[^\W{_CJK}]+|[{_CJK}]+", re.UNICODE)
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _bigrams(run: str) -> list[str]:
    return [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]


def _camel_parts(word: str) -> list[str]:
    if word.islower() or word.isupper() or not any(c.isupper() for c in word[1:]):
        return []
    return [p for p in _CAMEL_PART.findall(word) if len(p) > 1]


def searchable_text(text: str) -> str:
    """The text as the keyword index sees it (see the module docstring)."""
    spaced = _CJK_RUN.sub(lambda m: " " + " ".join(_bigrams(m.group())) + " ", text)
    extras = [p for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text) for p in _camel_parts(w)]
    return spaced + ("\n" + " ".join(extras) if extras else "")


def query_terms(text: str, limit: int = MAX_QUERY_TERMS) -> list[str]:
    """The distinct terms of a query, the first `limit` of them: words, CJK bigrams, and
    camelCase parts. Linear in the query's length, and it stops once `limit` are found (a
    search runs this for every result card too)."""
    terms: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        pieces = _bigrams(word) if _CJK_RUN.fullmatch(word) else [word, *_camel_parts(word)]
        for piece in pieces:
            terms.setdefault(piece)
            if len(terms) >= limit:
                return list(terms)
    return list(terms)


def match_terms(terms: list[str]) -> str | None:
    """The FTS5 MATCH expression for these terms, each quoted, OR-ed; None for no terms."""
    if not terms:
        return None
    return " OR ".join(_quoted(t) for t in terms)


def fts_match(match: KeywordMatch) -> str | None:
    """`"p1" AND "p2" AND ("a" OR "b")`: every phrase, and any of the terms; without phrases
    the terms alone, OR-ed (match_terms); None when there is nothing to match."""
    required = [_quoted(p) for p in match.phrases]
    any_of = match_terms(list(match.terms))
    if not required:
        return any_of
    return " AND ".join(required + ([f"({any_of})"] if any_of else []))


def phrase_text(text: str) -> str:
    """A quoted phrase's words as a row of the index holds them, in order (CJK runs as their
    bigrams), for an FTS5 phrase: `"parse the date"`."""
    pieces: list[str] = []
    for word in _WORD.findall(text):
        pieces += _bigrams(word) if _CJK_RUN.fullmatch(word) else [word]
    return " ".join(pieces)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
