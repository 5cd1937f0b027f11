"""Keyword search in SQLite: FTS5 BM25 over chunks and over whole files, with the query's
terms pruned of those too common to rank anything in a large index."""
from __future__ import annotations

import unicodedata
from typing import Any, Sequence

from storage.dialect import PRUNE_FROM_ROWS, without_common_terms
from storage.fts import MAX_TERMS, match_terms, query_terms
from storage.records import ChunkFilter
from storage.sqlite import file_evidence
from storage.sqlite.base import SQLiteBase
from storage.sqlite.filters import file_ids_sql


class KeywordSearch(SQLiteBase):
    prune_from_rows = PRUNE_FROM_ROWS  # per store: bench/search.py sets it on one

    def keyword_match(self, text: str, table: str = "chunks") -> str | None:
        """The FTS5 expression for a person's text, against the `chunks` or the `files` rows:
        its terms, less those in more than half of a large index's rows (PRUNE_FROM_ROWS); the
        rarest term stays when all are that common. None when the text has no word."""
        fts_table = "chunks_fts" if table == "chunks" else "files_fts"
        rows = self._row_counts()[0 if table == "chunks" else 1]
        terms = without_common_terms(
            query_terms(text)[:MAX_TERMS], rows, lambda asked: self._document_frequencies(asked, fts_table),
            self.prune_from_rows,
        )
        return match_terms(terms)

    def _document_frequencies(self, terms: list[str], fts_table: str) -> dict[str, int]:
        """How many rows of an FTS5 table hold each term, from its vocabulary (fts5vocab)."""
        vocabulary = f"temp.{fts_table}_vocabulary"
        found: dict[str, int] = {}
        with self._errors(), self._reader() as reader:
            reader.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} USING fts5vocab(main, {fts_table}, row)")
            for term in terms:
                row = reader.execute(f"SELECT doc FROM {vocabulary} WHERE term = ?", (index_token(term),)).fetchone()
                found[term] = row[0] if row else 0
        return found

    def keyword_chunks(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score where higher is better) for an FTS5 expression, best first."""
        return self._ranked("chunks_fts", "bm25(chunks_fts)", match, k, only)

    def keyword_files(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(file id, BM25 over the whole file: name, folders, title and text, higher is
        better), best first."""
        return self._ranked_files(file_evidence.FILE_WEIGHTS, match, k, only)

    def name_files(
        self, match: str, k: int, only: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """(file id, BM25 over its name, folders and title only, higher is better), best first."""
        return self._ranked_files(file_evidence.NAME_WEIGHTS, f"{file_evidence.NAME_COLUMNS} : ({match})", k, only)

    def _ranked_files(
        self, weights: Sequence[float], match: str, k: int, only: ChunkFilter | None
    ) -> list[tuple[int, float]]:
        rank = "bm25(files_fts, " + ", ".join(str(w) for w in weights) + ")"
        return self._ranked("files_fts", rank, match, k, only)

    def _ranked(
        self, table: str, rank: str, match: str, k: int, only: ChunkFilter | None,
    ) -> list[tuple[int, float]]:
        """(rowid, -rank) of the rows of an FTS5 `table` that match, and belong to a file that
        passes the filter, best first.

        The filter is checked on the rows FTS5 found, never handed to FTS5 as a set of rowids:
        `rowid IN (subquery)` makes FTS5 run the whole MATCH once per rowid in the set, which
        took a search with a date filter from 42 ms to 2.1 s on 258 files (bench/filters.py)."""
        sql = f"SELECT {table}.rowid, -{rank} AS score FROM {table}"
        where = f"{table} MATCH ?"
        params: list[Any] = [match]
        if only is not None and not only.empty:
            passing, extra = file_ids_sql(only)
            if table == "chunks_fts":
                sql += f" CROSS JOIN chunks c ON c.id = {table}.rowid"
                where += f" AND c.file_id IN ({passing})"
            else:  # a files_fts row is its file's id; "+" keeps it from FTS5's rowid lookups
                where += f" AND +{table}.rowid IN ({passing})"
            params += extra
        rows = self._query(f"{sql} WHERE {where} ORDER BY score DESC LIMIT ?", [*params, k])
        return [(row[0], row[1]) for row in rows]


def index_token(term: str) -> str:
    """A term as FTS5's `unicode61 remove_diacritics 2` tokenizer stores it: lower case,
    without diacritics (to look it up in the index's vocabulary)."""
    decomposed = unicodedata.normalize("NFD", term)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()
