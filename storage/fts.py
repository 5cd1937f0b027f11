"""Turn text a person typed into a safe FTS5 query.

FTS5 has its own syntax (quotes, `*`, `^`, `:`, NEAR, AND/OR/NOT, parentheses), so raw user
text can raise or mean something else. Each word is quoted as a phrase and the phrases are
OR-ed: BM25 then ranks documents that match more (and rarer) words higher.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 64


def fts_query(text: str) -> str | None:
    """The FTS5 MATCH expression for `text`, or None when it has no searchable word."""
    words: list[str] = []
    for word in _WORD.findall(text):
        if word not in words:
            words.append(word)
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words[:MAX_TERMS])
