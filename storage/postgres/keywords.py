"""Keyword search in PostgreSQL: a GIN index over tsvectors finds the rows, FTS5's BM25 ranks
them (words.py), over chunks and over whole files (weighted columns); the query's terms are
pruned of those too common to rank anything in a large index, as in SQLite; the files that
hold words a person leaves out; misspelled words matched to the words the store keeps
(`vocabulary`, written with each file's words)."""
from __future__ import annotations

from typing import Any, Sequence

from storage.dialect import PRUNE_FROM_ROWS, keyword_match
from storage.fts import phrase_text
from storage.postgres import file_evidence
from storage.postgres.base import PostgresBase
from storage.postgres.dialect import DIALECT
from storage.postgres.words import B, K1, Term, bm25, compiled, positions, tsquery, words
from storage.records import ChunkFilter, KeywordMatch, WordQuery
from storage.spelling import correctable, inflected, max_edits, nearest, prefix_ranges

CHUNK_WEIGHTS = {"D": 1.0}
WORK_MEM = "64MB"  # a common word's rows are sorted in memory, not on disk (the default is 4MB)
# table name in the interface -> (SQL table, its id column)
_TABLES = {"chunks": ("chunks", "id"), "files": ("file_words", "file_id")}
_PASSING = {"chunks": DIALECT.chunk_ids_sql, "files": DIALECT.file_ids_sql}  # a filter's subquery of ids


words_of = words  # the methods below take a parameter named `words`


def only_d(alias: str, table: str) -> str:
    """A row's tsvector with no A's in it, so that A can mark the query's words: a file's name
    is in A; a chunk has D only."""
    return f"setweight({alias}.keywords, 'D')" if table == "files" else f"{alias}.keywords"


class KeywordSearch(PostgresBase):
    prune_from_rows = PRUNE_FROM_ROWS  # per store, as in SQLite
    _counted: tuple[int, dict[tuple[str, str, int], int]] | None = None  # rows holding a word, per generation

    def keyword_match(self, text: str | WordQuery, table: str = "chunks") -> KeywordMatch | None:
        """What a person's text or parsed query asks of the `chunks` or the `files` rows, its
        common terms pruned (storage/dialect.py), as in SQLite."""
        rows = self._totals()["chunks" if table == "chunks" else "indexed"][0]
        return keyword_match(
            text, rows, lambda asked: self._document_frequencies(asked, table, cap=rows // 2 + 1), self.prune_from_rows
        )

    def files_with(self, words: Sequence[str]) -> set[int]:
        """The ids of the files whose name, folders, title or text hold any of these words or
        phrases: those a person leaves out of a search (`-word`, `-"a phrase"`)."""
        terms = [Term(text, found) for text in dict.fromkeys(phrase_text(w) for w in words) if (found := tuple(words_of(text)))]
        if not terms:
            return set()
        return {row[0] for row in self._query("SELECT file_id FROM file_words WHERE keywords @@ %s::tsquery",
                                              (tsquery(terms),))}

    def nearest_words(self, words: Sequence[str]) -> dict[str, str]:
        """For each word no indexed file holds, the indexed word nearest to it (storage/
        spelling.py), when one is near enough; words the index holds are left out. Candidates
        come from `vocabulary` (every word a file was written with, never pruned), and count
        by the files that hold them now."""
        corrected: dict[str, str] = {}
        for word in words:
            token = "".join(words_of(word))
            if not correctable(word) or not token or self._holding(token, cap=1):
                continue
            edits = max_edits(token)
            for ranges in prefix_ranges(token):
                near = [row[0] for low, high in ranges for row in self._query(
                    "SELECT word FROM vocabulary WHERE word >= %s AND word < %s AND length(word) BETWEEN %s AND %s",
                    (low, high, len(token) - edits, len(token) + edits),
                )]
                if any(inflected(token, w) for w in near):
                    break  # a form of an indexed word: no slip to correct
                # Only those within reach are counted: a count is a lookup in the words' index.
                reachable = [w for w in near if nearest(token, [(w, 1)]) == w]
                best = nearest(token, [(w, self._holding(w, cap=1000)) for w in reachable])
                if best is not None:
                    corrected[word] = best
                    break
        return corrected

    def _holding(self, lexeme: str, cap: int) -> int:
        """How many files hold a word, counted up to `cap`."""
        (count,), = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM file_words WHERE keywords @@ %s::tsquery LIMIT %s) s",
            (Term(lexeme, (lexeme,)).tsquery(), cap),
        )
        return count

    def _document_frequencies(self, terms: list[str], table: str, cap: int) -> dict[str, int]:
        """How many rows hold each term, counted up to `cap` (enough to know it is too common)."""
        name, _ = _TABLES[table]
        generation = self._generation()
        if self._counted is None or self._counted[0] != generation:  # the index changed: count again
            self._counted = (generation, {})
        counted = self._counted[1]
        found: dict[str, int] = {}
        for text in terms:
            parts = tuple(words(text))
            if not parts:
                found[text] = 0
                continue
            if (table, text, cap) not in counted:  # a common word costs a scan of half the rows
                (counted[table, text, cap],), = self._query(
                    f"SELECT COUNT(*) FROM (SELECT 1 FROM {name} WHERE keywords @@ %s::tsquery LIMIT %s) s",
                    (Term(text, parts).tsquery(), cap),
                )
            found[text] = counted[table, text, cap]
        return found

    def keyword_chunks(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score where higher is better), best first."""
        return self._ranked("chunks", match, k, only, CHUNK_WEIGHTS)

    def keyword_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over the whole file: name, folders, title and text), best first."""
        return self._ranked("files", match, k, only, file_evidence.FILE_LETTER_WEIGHTS)

    def name_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]:
        """(file id, BM25 over its name, folders and title only), best first."""
        return self._ranked("files", match, k, only, file_evidence.NAME_LETTER_WEIGHTS, file_evidence.NAME_LETTERS)

    def _ranked(
        self, table: str, match: KeywordMatch, k: int, only: ChunkFilter | None, weights: dict[str, float],
        letters: str = "",
    ) -> list[tuple[int, float]]:
        terms = compiled(match)
        if not terms or k <= 0:
            return []
        if all(len(t.words) == 1 and not t.required for t in terms):
            scored, params = self._scored(table, terms, weights, letters)
            allowed = ""
            if only is not None and not only.empty:
                subquery, more = _PASSING[table](only)
                allowed, params = f"WHERE s.id IN ({subquery})", [*params, *more]
            with self._read() as conn:
                conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
                rows = conn.execute(
                    f"SELECT s.id, s.score FROM ({scored}) s {allowed} ORDER BY s.score DESC, s.id LIMIT %s", [*params, k]
                ).fetchall()
            return [(doc, float(score)) for doc, score in rows]
        docs = self._positions(table, terms, letters)
        rows, total = self._totals()[table]
        scores = bm25(docs, terms, weights, rows, total / rows if rows else 1.0, self._holding_all(table, terms, letters))
        if only is not None and not only.empty and scores:
            subquery, params = _PASSING[table](only)
            allowed = {row[0] for row in self._query(f"SELECT id FROM ({subquery}) s WHERE id = ANY(%s)",
                                                     [*params, list(scores)])}
            scores = {doc: s for doc, s in scores.items() if doc in allowed}
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]

    def _scored(
        self, table: str, terms: Sequence[Term], weights: dict[str, float], letters: str
    ) -> tuple[str, list[Any]]:
        """SQL of (id, score): FTS5's BM25 (words.bm25) of every row a query of single words
        matches, computed where the rows are, so that only the best travel. A word's count
        in a row comes from its positions (the query's words marked A by setweight and kept by
        ts_filter: no row per word of the text); in a file, the words of its name, folders and
        title (A-C) are counted apart, with their columns' weights, the rest as its text (D)."""
        name, key = _TABLES[table]
        rows, total = self._totals()[table]
        lexemes = sorted({t.words[0] for t in terms})
        letter = "CASE w WHEN 'A' THEN %s WHEN 'B' THEN %s WHEN 'C' THEN %s ELSE 0 END"
        column_weights = [weights.get(x, 0.0) for x in "ABC"]
        titles = ", d.titled" if table == "files" else ""
        matched = f"SELECT d.{key} AS id, d.words, d.keywords{titles} FROM {name} d WHERE d.keywords @@ %s::tsquery"
        counted = (
            "SELECT m.id, m.words, u.lexeme, cardinality(u.positions) AS n FROM m "
            f"CROSS JOIN LATERAL unnest(ts_filter(setweight({only_d('m', table)}, 'A', %s), '{{a}}')) u"
        )
        titled = (
            f"SELECT m.id, m.words, u.lexeme, COUNT(*) AS n, SUM({letter}) AS weight FROM m "
            "CROSS JOIN LATERAL unnest(m.titled) u CROSS JOIN LATERAL unnest(u.weights) w "
            "WHERE u.lexeme = ANY(%s) GROUP BY 1, 2, 3"
        )
        params: list[Any] = [tsquery(terms, letters)]
        if table == "chunks":
            ctes, tf = f"m AS ({matched}), c AS ({counted})", "SELECT id, words, lexeme, %s * n AS tf FROM c"
            params += [lexemes, weights.get("D", 0.0)]
        elif letters:  # the name, folders and title only
            ctes, tf = f"m AS ({matched}), t AS ({titled})", "SELECT id, words, lexeme, weight AS tf FROM t"
            params += [*column_weights, lexemes]
        else:
            ctes = f"m AS ({matched}), c AS ({counted}), t AS ({titled})"
            tf = ("SELECT c.id, c.words, c.lexeme, %s * (c.n - COALESCE(t.n, 0)) + COALESCE(t.weight, 0) AS tf "
                  "FROM c LEFT JOIN t USING (id, lexeme)")
            params += [lexemes, *column_weights, lexemes, weights.get("D", 0.0)]
        having = "COUNT(*) FILTER (WHERE tf > 0) OVER (PARTITION BY lexeme)"
        sql = (
            f"WITH {ctes}, f AS ({tf}), "
            f"i AS (SELECT id, words, tf, GREATEST(LN((%s - {having} + 0.5) / ({having} + 0.5)), 1e-6) AS idf FROM f) "
            "SELECT id, SUM(idf * tf * %s / (tf + %s * (1 - %s + %s * words / %s))) AS score FROM i GROUP BY id"
        )
        params += [float(rows), K1 + 1, K1, B, B, total / rows if rows else 1.0]
        return sql, params

    def _holding_all(self, table: str, terms: Sequence[Term], letters: str) -> list[int] | None:
        """Rows of the index holding each term (in these letters), as FTS5 counts a phrase's
        documents for BM25, when a required phrase narrows the matched rows (then they do
        not say it); None otherwise."""
        if not any(t.required for t in terms):
            return None
        name, _ = _TABLES[table]
        return [
            self._query(f"SELECT COUNT(*) FROM {name} WHERE keywords @@ %s::tsquery", (t.tsquery(letters),))[0][0]
            for t in terms
        ]

    def _positions(self, table: str, terms: Sequence[Term], letters: str) -> dict[int, Any]:
        """Every row the query matches, with the positions of the query's words in it (for a
        query with a phrase; single words are counted in SQL, `_scored`).

        Unnesting a whole tsvector makes a row of every word in it; instead the query's words
        are marked A (setweight) and only A's are kept (ts_filter), which is 2.5 times faster
        at 100k chunks, and exact. Their positions come back without their columns' letters:
        chunks have one column (D); for a file, the few words of its name, folders and title
        (A-C) are read apart, and every other position is its text's (D)."""
        name, key = _TABLES[table]
        lexemes = sorted({w for t in terms for w in t.words})
        query = tsquery(terms, letters)
        if letters:  # a file's name, folders and title only
            return positions(self._titled(query, lexemes))
        rows = self._query(
            f"SELECT d.{key}, d.words, u.lexeme, u.positions FROM {name} d "
            f"CROSS JOIN LATERAL unnest(ts_filter(setweight({only_d('d', table)}, 'A', %s), '{{a}}')) u "
            "WHERE d.keywords @@ %s::tsquery",
            [lexemes, query],
        )
        docs = positions((doc, length, lexeme, places, ()) for doc, length, lexeme, places in rows)
        if table == "files":
            for doc, _, lexeme, places, letters_of in self._titled(query, lexemes):
                docs[doc][1][lexeme].letters.update(zip(places, letters_of))
        return docs

    def _titled(self, query: str, lexemes: list[str]) -> list[tuple[int, int, str, list[int], list[str]]]:
        """The positions, with their letters, of the query's words in the name, folders and
        title (A-C) of each file the query matches."""
        return self._query(
            "SELECT d.file_id, d.words, u.lexeme, u.positions, u.weights FROM file_words d "
            "CROSS JOIN LATERAL unnest(d.titled) u "
            "WHERE d.keywords @@ %s::tsquery AND u.lexeme = ANY(%s)",
            [query, lexemes],
        )

    def _best_chunks_by_words(self, match: KeywordMatch, file_ids: list[int]) -> dict[int, int]:
        """The best chunk of each file by BM25 (ranked against the whole index), for passages."""
        terms = compiled(match)
        if not terms:
            return {}
        if all(len(t.words) == 1 and not t.required for t in terms):
            scored, params = self._scored("chunks", terms, CHUNK_WEIGHTS, "")
            return dict(self._query(
                f"SELECT DISTINCT ON (c.file_id) c.file_id, s.id FROM ({scored}) s JOIN chunks c ON c.id = s.id "
                "WHERE c.file_id = ANY(%s) ORDER BY c.file_id, s.score DESC, s.id",
                [*params, file_ids],
            ))
        docs = self._positions("chunks", terms, "")  # every match: the terms' frequencies are the index's
        owners = dict(self._query("SELECT id, file_id FROM chunks WHERE id = ANY(%s) AND file_id = ANY(%s)",
                                  (list(docs), file_ids)))
        if not owners:
            return {}
        rows, total = self._totals()["chunks"]
        holding = self._holding_all("chunks", terms, "")
        scores = {c: s for c, s in bm25(docs, terms, CHUNK_WEIGHTS, rows, total / rows if rows else 1.0, holding).items()
                  if c in owners}
        best: dict[int, int] = {}
        for chunk, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            best.setdefault(owners[chunk], chunk)
        return best
