"""What both backends' SQL does the same way, written once; each backend brings its own
placeholders (`?` or `%s`) and its own way of counting.

- A folder's files are a range of paths: everything below `/a/b` starts with `/a/b/`, and `0`
  sorts right after `/`, so `path >= '/a/b/' AND path < '/a/b0'` finds them through the index
  on `path` (a LIKE would not, and would read `%` and `_` in names as wildcards). Both
  backends compare paths byte by byte (SQLite's default, COLLATE "C" in PostgreSQL).
- Common terms are pruned from a keyword query in a large index: a term found in more than
  half the rows adds nothing to BM25 (FTS5 clamps its IDF to zero) but makes the search score
  nearly every row (bench/search.py: 119 ms of a 204 ms search at 100k chunks was "the"-like
  terms).
"""
from __future__ import annotations

from typing import Callable, Sequence

PRUNE_FROM_ROWS = 20_000  # rows from which common terms are pruned


def below(folder: str) -> tuple[str, str]:
    """The paths strictly below `folder`, as the half-open range [low, high) of text."""
    prefix = folder.rstrip("/") + "/"
    return prefix, prefix[:-1] + "0"


def at_or_below_sql(mark: str, column: str = "path") -> str:
    """SQL for `column` being a path or any path below it; its parameters: at_or_below(path)."""
    return f"({column} = {mark} OR ({column} >= {mark} AND {column} < {mark}))"


def at_or_below(path: str) -> tuple[str, str, str]:
    """The parameters of at_or_below_sql: the path itself, then the range below it."""
    return (path, *below(path))


def without_common_terms(
    terms: Sequence[str], rows: int, frequencies: Callable[[list[str]], dict[str, int]], prune_from_rows: int,
    phrases: int = 0,
) -> list[str]:
    """`terms` less those in more than half of `rows` (counted by `frequencies`, asked only once
    the index has `prune_from_rows` rows); the rarest term stays when all are that common,
    unless the query also requires `phrases` (they are enough to search by)."""
    terms = list(terms)
    if rows < prune_from_rows or len(terms) + phrases < 2 or not terms:
        return terms
    found = frequencies(terms)
    kept = [t for t in terms if found.get(t, 0) <= rows / 2]
    return kept or ([] if phrases else [min(terms, key=lambda t: found.get(t, 0))])
