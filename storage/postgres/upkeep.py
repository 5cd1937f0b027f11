"""Upkeep of the PostgreSQL store: what could break, counted (integrity) and fixed (repair).

PostgreSQL's foreign keys (ON DELETE CASCADE) and unique constraints already rule out a vector
or a file row without its chunk or file, and a chunk stored twice; they are counted all the
same. What can still go wrong: an embedded file's chunk without its vector (a vector deleted by
hand), a chunk without its keywords, a file without its file-level rows, an index left invalid
(a failed REINDEX CONCURRENTLY). Space: autovacuum's job. Backups: pg_dump's.
"""
from __future__ import annotations

from pathlib import Path

from storage.common.base import retried
from storage.errors import StorageError
from storage.fts import searchable_text
from storage.postgres import file_evidence
from storage.postgres.base import PostgresBase
from storage.postgres.words import tsvector

_TABLES = ("chunks", "files", "folders", "file_words", "ignored", "chunk_vectors", "file_vectors")
_EMBEDDED_WITHOUT_VECTOR = (
    "SELECT DISTINCT c.file_id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.embedded "
    "AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)"
)


def _without_file_rows(with_vectors: bool) -> str:
    """Indexed files with chunks whose file-level rows are missing."""
    lacking = "NOT EXISTS (SELECT 1 FROM file_words w WHERE w.file_id = f.id)"
    if with_vectors:
        lacking += " OR (f.embedded AND NOT EXISTS (SELECT 1 FROM file_vectors v WHERE v.file_id = f.id))"
    return (
        "SELECT f.id FROM files f WHERE f.status = 'indexed' "
        f"AND EXISTS (SELECT 1 FROM chunks c WHERE c.file_id = f.id) AND ({lacking})"
    )


class Upkeep(PostgresBase):
    def integrity(self) -> dict[str, int | bool]:
        """Problems counted by name; the index is sound when each is 0."""
        problems: dict[str, int | bool] = {}
        has_vectors = self.embedding_space() is not None
        if has_vectors:
            (problems["chunks_without_vector"],), = self._query(
                "SELECT COUNT(*) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.embedded AND NOT EXISTS "
                "(SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)")
            (problems["vectors_without_chunk"],), = self._query(
                "SELECT COUNT(*) FROM chunk_vectors v WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = v.chunk_id)"
            )
        (problems["chunks_without_keywords"],), = self._query("SELECT COUNT(*) FROM chunks WHERE keywords IS NULL")
        (problems["files_without_file_rows"],), = self._query(f"SELECT COUNT(*) FROM ({_without_file_rows(has_vectors)}) s")
        (problems["duplicate_chunks"],), = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, ordinal HAVING COUNT(*) > 1) s"
        )
        (problems["duplicate_files"],), = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM files GROUP BY path HAVING COUNT(*) > 1) s"
        )
        problems["invalid_indexes"] = len(self._invalid_indexes())
        return problems

    def _invalid_indexes(self) -> list[str]:
        rows = self._query(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE NOT i.indisvalid "
            "AND i.indrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            (list(_TABLES),),
        )
        return [row[0] for row in rows]

    @retried
    def repair(self) -> dict[str, int]:
        """Fix what `integrity` finds: an embedded file whose chunk lost its vector waits for
        the meaning phase again (only that chunk is embedded again); a chunk's keywords are
        made again from its text; missing file-level rows are rebuilt from the stored chunks;
        invalid indexes are rebuilt."""
        fixed = {"stray_vectors": 0, "files_to_reembed": 0, "keyword_rows_rebuilt": 0, "file_rows_rebuilt": 0,
                 "indexes_rebuilt": 0}
        has_vectors = self.embedding_space() is not None
        invalid = self._invalid_indexes()
        with self.transaction() as conn:
            if has_vectors:
                fixed["stray_vectors"] = conn.execute(
                    "DELETE FROM chunk_vectors v WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = v.chunk_id)"
                ).rowcount
                broken = sorted(row[0] for row in conn.execute(_EMBEDDED_WITHOUT_VECTOR))
                self._lock_files(conn, broken)
                conn.execute("UPDATE files SET embedded = false WHERE id = ANY(%s)", (broken,))
                conn.execute("DELETE FROM file_vectors WHERE file_id = ANY(%s)", (broken,))
                fixed["files_to_reembed"] = len(broken)
            unworded = conn.execute("SELECT id, context, text FROM chunks WHERE keywords IS NULL").fetchall()
            for chunk_id, context, text in unworded:
                literal, count = tsvector([(searchable_text(f"{context}\n{text}"), "D")])
                conn.execute("UPDATE chunks SET keywords = %s::tsvector, words = %s WHERE id = %s",
                             (literal, count, chunk_id))
            fixed["keyword_rows_rebuilt"] = len(unworded)
            lacking = [row[0] for row in conn.execute(_without_file_rows(has_vectors))]
            if has_vectors:
                conn.execute("DELETE FROM file_vectors WHERE file_id = ANY(%s)", (lacking,))
            fixed["file_rows_rebuilt"] = file_evidence.rebuild(conn, lacking, with_vectors=has_vectors)
            for index in invalid:
                conn.execute(f"REINDEX INDEX {index}")  # a name read from pg_index, not from a person
            fixed["indexes_rebuilt"] = len(invalid)
        return fixed

    def vacuum_if_worth_it(self, min_free_fraction: float = 0.25, min_free_pages: int = 2048) -> bool:
        """PostgreSQL's autovacuum gives space back; Fathom leaves it to the server."""
        return False

    def backup(self, destination: Path | str) -> None:
        """A PostgreSQL database is backed up by its own tools: the sentence says which."""
        raise StorageError(
            f"This index is kept in the PostgreSQL database {self.path}: back it up with pg_dump, e.g. "
            f"`pg_dump --format=custom --file={destination} '{self.path}'` (pg_restore puts it back), or with "
            "the server's own backups; `backup` copies only a SQLite index."
        )
