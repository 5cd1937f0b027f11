"""Upkeep of the SQLite store: what a crash could have broken, counted (integrity) and fixed
(repair); space given back (vacuum); a consistent copy while Fathom runs (backup)."""
from __future__ import annotations

from pathlib import Path

from storage.errors import StorageError
from storage.sqlite.base import VECTOR_TABLE, SQLiteBase, _batches, _marks
from storage.sqlite.connection import connect


class Upkeep(SQLiteBase):
    def integrity(self) -> dict[str, int | bool]:
        """What a crash could have broken, counted: chunks without a vector, vectors without a
        chunk, files indexed twice, and whether the FTS index matches the chunks."""
        problems: dict[str, int | bool] = {}
        if self.embedding_space() is not None:
            (problems["chunks_without_vector"],), = self._query(
                f"SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            )
            (problems["vectors_without_chunk"],), = self._query(
                f"SELECT COUNT(*) FROM {VECTOR_TABLE} WHERE rowid NOT IN (SELECT id FROM chunks)"
            )
        (problems["chunks_without_code"],), = self._query(
            "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT id FROM chunk_codes)"
        )
        (problems["codes_without_chunk"],), = self._query(
            "SELECT COUNT(*) FROM chunk_codes WHERE id NOT IN (SELECT id FROM chunks)"
        )
        (problems["chunks_without_fts"],), = self._query(
            "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)"
        )
        (problems["fts_without_chunk"],), = self._query(
            "SELECT COUNT(*) FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
        )
        (problems["duplicate_chunks"],), = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, ordinal HAVING COUNT(*) > 1)"
        )
        try:  # FTS5's own check; it writes nothing, but it is a write statement
            with self._lock, self._errors():
                self._conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            problems["fts_ok"] = True
        except StorageError:
            problems["fts_ok"] = False
        return problems

    def repair(self) -> dict[str, int]:
        """Fix what `integrity` finds: stray vectors and keyword rows go; a file with a chunk
        missing its vector or keyword row loses its chunks and is marked for re-embedding."""
        fixed = {"stray_vectors": 0, "stray_codes": 0, "stray_keyword_rows": 0, "files_to_reembed": 0}
        has_vectors = self.embedding_space() is not None
        with self.transaction() as conn:
            if has_vectors:
                fixed["stray_vectors"] = conn.execute(
                    f"DELETE FROM {VECTOR_TABLE} WHERE rowid NOT IN (SELECT id FROM chunks)"
                ).rowcount
            fixed["stray_codes"] = conn.execute(
                "DELETE FROM chunk_codes WHERE id NOT IN (SELECT id FROM chunks)"
            ).rowcount
            fixed["stray_keyword_rows"] = conn.execute(
                "DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
            ).rowcount
            missing = "id NOT IN (SELECT rowid FROM chunks_fts) OR id NOT IN (SELECT id FROM chunk_codes)"
            if has_vectors:
                missing += f" OR id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            broken = [row[0] for row in conn.execute(f"SELECT DISTINCT file_id FROM chunks WHERE {missing}")]
            self._delete_chunks(conn, broken)
            for batch in _batches(broken):
                conn.execute(
                    f"UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL WHERE id IN ({_marks(batch)})",
                    batch,
                )
            fixed["files_to_reembed"] = len(broken)
        return fixed

    def vacuum_if_worth_it(self, min_free_fraction: float = 0.25, min_free_pages: int = 2048) -> bool:
        """Give space freed by deletes back to the disk once enough of the file is free."""
        (pages,), = self._query("PRAGMA page_count")
        (free,), = self._query("PRAGMA freelist_count")
        if free < min_free_pages or free < pages * min_free_fraction:
            return False
        with self._lock, self._errors():
            self._conn.execute("VACUUM")
        return True

    def backup(self, destination: Path | str) -> None:
        """A consistent copy of the database while Fathom keeps running (SQLite backup API)."""
        target_path = Path(destination)
        if target_path.exists():
            raise StorageError(f"{destination} already exists: choose a new file name for the backup.")
        target = connect(target_path)
        try:
            with self._errors(), self._reader() as reader:
                reader.backup(target)
        finally:
            target.close()
