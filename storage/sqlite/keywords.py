"""Keyword search in SQLite: FTS5 BM25 over chunks and over whole files, with the query's
terms pruned of those too common to rank anything in a large index; the files that hold words
a person leaves out; misspelled words matched to the index's vocabulary (fts5vocab)."""
from __future__ import annotations

import unicodedata
from typing import Any, Sequence

from storage.dialect import PRUNE_FROM_ROWS, keyword_match
from storage.fts import fts_match, match_terms, phrase_text
from storage.records import ChunkFilter, KeywordMatch, WordQuery
from storage.spelling import correctable, max_edits, nearest, prefix_ranges
from storage.sqlite import file_evidence
from storage.sqlite.base import SQLiteBase
from storage.sqlite.dialect import DIALECT


class KeywordSearch(SQLiteBase):
    prune_from_rows = PRUNE_FROM_ROWS  # per store: bench/search.py sets it on one

    def keyword_match(self, text: str | WordQuery, table: str = "chunks") -> KeywordMatch | None:
        """What a person's text or parsed query asks of the `chunks` or the `files` rows, its
        common terms pruned (storage/dialect.py)."""
        fts_table = "chunks_fts" if table == "chunks" else "files_fts"
        rows = self._row_counts()[0 if table == "chunks" else 1]
        return keyword_match(
            text, rows, lambda asked: self._document_frequencies(asked, fts_table), self.prune_from_rows
        )

    def files_with(self, words: Sequence[str]) -> set[int]:
        """The ids of the files whose name, folders, title or text hold any of these words or
        phrases: those a person leaves out of a search (`-word`, `-"a phrase"`)."""
        match = match_terms([p for p in dict.fromkeys(phrase_text(w) for w in words) if p])
        if match is None:
            return set()
        return {row[0] for row in self._query("SELECT rowid FROM files_fts WHERE files_fts MATCH ?", (match,))}

    def nearest_words(self, words: Sequence[str]) -> dict[str, str]:
        """For each word no indexed file holds, the indexed word nearest to it (storage/
        spelling.py), when one is near enough; words the index holds are left out."""
        corrected: dict[str, str] = {}
        with self._errors(), self._reader() as reader:
            vocabulary = _vocabulary(reader, "files_fts")
            for word in words:
                token = index_token(word)
                # A word the index holds: one row of its list tells (the vocabulary would count them all).
                if not correctable(word) or reader.execute(
                    "SELECT 1 FROM files_fts WHERE files_fts MATCH ? LIMIT 1", (match_terms([token]),)
                ).fetchone():
                    continue
                edits = max_edits(token)
                for ranges in prefix_ranges(token):
                    candidates = [
                        row for low, high in ranges for row in reader.execute(
                            f"SELECT term, doc FROM {vocabulary} WHERE term >= ? AND term < ? "
                            "AND length(term) BETWEEN ? AND ?",
                            (low, high, len(token) - edits, len(token) + edits),
                        )
                    ]
                    best = nearest(token, candidates)
                    if best is not None:
                        corrected[word] = best
                        break
        return corrected

    def _document_frequencies(self, terms: list[str], fts_table: str) -> dict[str, int]:
        """How many rows of an FTS5 table hold each term, from its vocabulary (fts5vocab)."""
        found: dict[str, int] = {}
        with self._errors(), self._reader() as reader:
            vocabulary = _vocabulary(reader, fts_table)
            for term in terms:
                row = reader.execute(f"SELECT doc FROM {vocabulary} WHERE term = ?", (index_token(term),)).fetchone()
                found[term] = row[0] if row else 0
        return found

    def keyword_chunks(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score where higher is better), best first."""
        return self._ranked("chunks_fts", "bm25(chunks_fts)", fts_match(match), k, only)

    def keyword_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over the whole file: name, folders, title and text, higher is
        better), best first."""
        return self._ranked_files(file_evidence.FILE_WEIGHTS, fts_match(match), k, only)

    def name_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over its name, folders and title only, higher is better), best first."""
        fts = fts_match(match)
        return self._ranked_files(file_evidence.NAME_WEIGHTS, fts and f"{file_evidence.NAME_COLUMNS} : ({fts})", k, only)

    def _ranked_files(
        self, weights: Sequence[float], match: str | None, k: int, only: ChunkFilter | None
    ) -> list[tuple[int, float]]:
        rank = "bm25(files_fts, " + ", ".join(str(w) for w in weights) + ")"
        return self._ranked("files_fts", rank, match, k, only)

    def _ranked(
        self, table: str, rank: str, match: str | None, k: int, only: ChunkFilter | None,
    ) -> list[tuple[int, float]]:
        """(rowid, -rank) of the rows of an FTS5 `table` that match, and belong to a file that
        passes the filter, best first.

        The filter is checked on the rows FTS5 found, never handed to FTS5 as a set of rowids:
        `rowid IN (subquery)` makes FTS5 run the whole MATCH once per rowid in the set, which
        took a search with a date filter from 42 ms to 2.1 s on 258 files (bench/filters.py)."""
        if match is None:
            return []
        sql = f"SELECT {table}.rowid, -{rank} AS score FROM {table}"
        where = f"{table} MATCH ?"
        params: list[Any] = [match]
        if only is not None and not only.empty:
            passing, extra = DIALECT.file_ids_sql(only)
            if table == "chunks_fts":
                sql += f" CROSS JOIN chunks c ON c.id = {table}.rowid"
                where += f" AND c.file_id IN ({passing})"
            else:  # a files_fts row is its file's id; "+" keeps it from FTS5's rowid lookups
                where += f" AND +{table}.rowid IN ({passing})"
            params += extra
        rows = self._query(f"{sql} WHERE {where} ORDER BY score DESC LIMIT ?", [*params, k])
        return [(row[0], row[1]) for row in rows]


def _vocabulary(reader: Any, fts_table: str) -> str:
    """The fts5vocab table (terms, and how many rows hold each) of an FTS5 table, made on this
    connection (a temp table is its connection's own)."""
    vocabulary = f"temp.{fts_table}_vocabulary"
    reader.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} USING fts5vocab(main, {fts_table}, row)")
    return vocabulary


def index_token(term: str) -> str:
    """A term as FTS5's `unicode61 remove_diacritics 2` tokenizer stores it: lower case,
    without diacritics (to look it up in the index's vocabulary)."""
    decomposed = unicodedata.normalize("NFD", term)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()
