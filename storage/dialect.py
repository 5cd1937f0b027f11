"""What both backends' SQL does the same way, written once; each backend's `Dialect` brings
what differs: its driver's placeholder (`?` or `%s`), how a list of values is asked for, and
how a path is matched by a pattern.

- A folder's files are a range of paths: everything below `/a/b` starts with `/a/b/`, and `0`
  sorts right after `/`, so `path >= '/a/b/' AND path < '/a/b0'` finds them through the index
  on `path` (a LIKE would not, and would read `%` and `_` in names as wildcards). Both
  backends compare paths byte by byte (SQLite's default, COLLATE "C" in PostgreSQL).
- Common terms are pruned from a keyword query in a large index: a term found in more than
  half the rows adds nothing to BM25 (FTS5 clamps its IDF to zero) but makes the search score
  nearly every row (bench/search.py: 119 ms of a 204 ms search at 100k chunks was "the"-like
  terms). What is left is a `KeywordMatch`, which each backend compiles into its own query.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from storage.fts import MAX_PHRASES, MAX_TERMS, phrase_text, query_terms
from storage.records import ChunkFilter, KeywordMatch, WordQuery

PRUNE_FROM_ROWS = 20_000  # rows from which common terms are pruned


@dataclass(frozen=True)
class Dialect:
    """What differs between the backends' SQL where the logic is the same."""

    mark: str  # a parameter's placeholder
    true: str  # a condition that always holds
    false: str  # the value of a boolean column that is not set
    batch: int | None  # values asked for in one `IN (...)`; None: one array, `= ANY(...)`
    like_any_case: str  # LIKE that ignores case
    like_drops: str  # characters taken out of a LIKE pattern (its wildcards and escape)
    file_name: str  # SQL of the part of f.path after its last "/"
    glob: str  # the operator that matches a text to a pattern made by `glob_pattern`
    glob_pattern: Callable[[str], str]  # SQLite's GLOB pattern as that operator takes it
    stored_text: Callable[[str], str]  # a text as the database can hold it
    returning: bool = True  # an INSERT can say the id it wrote (SQLite from 3.35 only)

    def marks(self, values: Sequence[Any]) -> str:
        """One placeholder for each value, comma-separated."""
        return ", ".join([self.mark] * len(values))

    def among(self, column: str, values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        """(SQL of `column` being one of `values`, its parameters), in as many statements as
        the driver needs; none for no values."""
        for batch in self.batches(values):
            if self.batch is None:
                yield f"{column} = ANY({self.mark})", [batch]
            else:
                yield f"{column} IN ({self.marks(batch)})", batch

    def batches(self, values: Sequence[Any]) -> Iterator[list[Any]]:
        """`values` in lists as long as one statement may ask for (none for no values)."""
        step = self.batch or max(len(values), 1)
        for i in range(0, len(values), step):
            yield list(values[i : i + step])

    def chunk_ids_sql(self, only: ChunkFilter) -> tuple[str, list[Any]]:
        """A subquery of the ids of the chunks that pass the filter, and its parameters."""
        clause, params = self._passing(only)
        return f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE {clause}", params

    def file_ids_sql(self, only: ChunkFilter) -> tuple[str, list[Any]]:
        """A subquery of the ids of the files that pass the filter, and its parameters."""
        clause, params = self._passing(only)
        return f"SELECT f.id FROM files f WHERE {clause}", params

    def _passing(self, only: ChunkFilter) -> tuple[str, list[Any]]:
        """The filter's condition on the files `f`: a folder is a range of paths, extensions
        match in any case, and a glob without a "/" matches the file name only (a `*` must not
        cross "/" into folder names)."""
        m = self.mark
        where: list[str] = []
        params: list[Any] = []
        if only.folder:
            where.append(f"f.path >= {m} AND f.path < {m}")
            params += below(only.folder)
        if only.extensions:
            where.append("(" + " OR ".join(f"f.path {self.like_any_case} {m}" for _ in only.extensions) + ")")
            params += ["%" + "".join(ch for ch in ext if ch not in self.like_drops) for ext in only.extensions]
        if only.path_glob:
            glob = only.path_glob
            if "/" in glob:
                where.append(f"f.path {self.glob} {m}")
                params.append(self.glob_pattern(glob if glob.startswith(("/", "*")) else "*/" + glob))
            else:
                where.append(f"{self.file_name} {self.glob} {m}")
                params.append(self.glob_pattern(glob))
        if only.modified_after_ns is not None:
            where.append(f"f.mtime_ns >= {m}")
            params.append(only.modified_after_ns)
        if only.modified_before_ns is not None:
            where.append(f"f.mtime_ns < {m}")
            params.append(only.modified_before_ns)
        return " AND ".join(where) or self.true, params


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


def keyword_match(
    text: str | WordQuery, rows: int, frequencies: Callable[[list[str]], dict[str, int]], prune_from_rows: int,
) -> KeywordMatch | None:
    """What a person's text (its words, any of them) or parsed query (its phrases required
    too) asks of the keyword index: its words' terms, less those in more than half of a large
    index's `rows` (counted by `frequencies`); the rarest term stays when all are that common
    and no phrase is asked for. None when there is no word."""
    query = text if isinstance(text, WordQuery) else WordQuery((text,))
    terms = without_common_terms(
        query_terms(" ".join(query.words))[:MAX_TERMS], rows, frequencies, prune_from_rows, len(query.phrases)
    )
    phrases = [p for p in dict.fromkeys(phrase_text(p) for p in query.phrases[:MAX_PHRASES]) if p]
    return KeywordMatch(tuple(terms), tuple(phrases)) if terms or phrases else None


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
