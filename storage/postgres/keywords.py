"""Keyword search in PostgreSQL: a GIN index over tsvectors finds the rows, FTS5's BM25 ranks
them (words.py), over chunks and over whole files (weighted columns); the query's terms are
pruned of those too common to rank anything in a large index, as in SQLite."""
from __future__ import annotations

from typing import Any, Sequence

from storage.fts import MAX_TERMS, match_terms, query_terms
from storage.postgres import file_evidence
from storage.postgres.base import PostgresBase
from storage.postgres.filters import chunk_ids_sql, file_ids_sql
from storage.postgres.words import Term, bm25, parse, positions, tsquery, words
from storage.records import ChunkFilter
from storage.sqlite.keywords import PRUNE_FROM_ROWS

CHUNK_WEIGHTS = {"D": 1.0}
# table name in the interface -> (SQL table, its id column)
_TABLES = {"chunks": ("chunks", "id"), "files": ("file_words", "file_id")}


class KeywordSearch(PostgresBase):
    prune_from_rows = PRUNE_FROM_ROWS  # per store, as in SQLite

    def keyword_match(self, text: str, table: str = "chunks") -> str | None:
        """The keyword query for a person's text, against the `chunks` or the `files` rows: its
        terms, less those in more than half of a large index's rows; the rarest term stays when
        all are that common. Written as storage/fts.py writes it; None when the text has no word."""
        terms = query_terms(text)[:MAX_TERMS]
        rows = self._totals()["chunks" if table == "chunks" else "indexed"][0]
        if rows >= self.prune_from_rows and len(terms) > 1:
            found = self._document_frequencies(terms, table, cap=rows // 2 + 1)
            kept = [t for t in terms if found.get(t, 0) <= rows / 2]
            terms = kept or [min(terms, key=lambda t: found.get(t, 0))]
        return match_terms(terms)

    def _document_frequencies(self, terms: list[str], table: str, cap: int) -> dict[str, int]:
        """How many rows hold each term, counted up to `cap` (enough to know it is too common)."""
        name, _ = _TABLES[table]
        found: dict[str, int] = {}
        for text in terms:
            parts = tuple(words(text))
            if not parts:
                found[text] = 0
                continue
            (found[text],), = self._query(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {name} WHERE keywords @@ %s::tsquery LIMIT %s) s",
                (Term(text, parts).tsquery(), cap),
            )
        return found

    def keyword_chunks(self, match: str, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score where higher is better), best first."""
        return self._ranked("chunks", match, k, only, CHUNK_WEIGHTS)

    def keyword_files(self, match: str, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over the whole file: name, folders, title and text), best first."""
        return self._ranked("files", match, k, only, file_evidence.FILE_LETTER_WEIGHTS)

    def name_files(self, match: str, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over its name, folders and title only), best first."""
        return self._ranked("files", match, k, only, file_evidence.NAME_LETTER_WEIGHTS, file_evidence.NAME_LETTERS)

    def _ranked(
        self, table: str, match: str, k: int, only: ChunkFilter | None, weights: dict[str, float], letters: str = ""
    ) -> list[tuple[int, float]]:
        terms = parse(match)
        if not terms or k <= 0:
            return []
        docs = self._positions(table, terms, letters)
        rows, total = self._totals()[table]
        scores = bm25(docs, terms, weights, rows, total / rows if rows else 1.0)
        if only is not None and not only.empty and scores:
            subquery, params = (chunk_ids_sql if table == "chunks" else file_ids_sql)(only)
            allowed = {row[0] for row in self._query(f"SELECT id FROM ({subquery}) s WHERE id = ANY(%s)",
                                                     [*params, list(scores)])}
            scores = {doc: s for doc, s in scores.items() if doc in allowed}
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]

    def _positions(self, table: str, terms: Sequence[Term], letters: str) -> dict[int, Any]:
        """Every row the query matches, with the positions of the query's words in it."""
        name, key = _TABLES[table]
        lexemes = sorted({w for t in terms for w in t.words})
        rows = self._query(
            f"SELECT d.{key}, d.words, u.lexeme, u.positions, u.weights FROM {name} d "
            f"CROSS JOIN LATERAL unnest(d.keywords) u WHERE d.keywords @@ %s::tsquery AND u.lexeme = ANY(%s)",
            [tsquery(terms, letters), lexemes],
        )
        return positions(rows)

    def _best_chunks_by_words(self, match: str, file_ids: list[int]) -> dict[int, int]:
        """The best chunk of each file by BM25 (ranked against the whole index), for passages."""
        terms = parse(match)
        if not terms:
            return {}
        docs = self._positions("chunks", terms, "")  # every match: the terms' frequencies are the index's
        owners = dict(self._query("SELECT id, file_id FROM chunks WHERE id = ANY(%s) AND file_id = ANY(%s)",
                                  (list(docs), file_ids)))
        if not owners:
            return {}
        rows, total = self._totals()["chunks"]
        scores = {c: s for c, s in bm25(docs, terms, CHUNK_WEIGHTS, rows, total / rows if rows else 1.0).items()
                  if c in owners}
        owners = dict(self._query("SELECT id, file_id FROM chunks WHERE id = ANY(%s)", (list(scores),)))
        best: dict[int, int] = {}
        for chunk, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            best.setdefault(owners[chunk], chunk)
        return best
