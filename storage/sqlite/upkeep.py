"""Upkeep of the SQLite store: what a crash could have broken, counted (integrity) and fixed
(repair); space given back (vacuum); a consistent copy while Fathom runs (backup)."""
from __future__ import annotations

import os
from pathlib import Path

from storage.errors import StorageError
from storage.sqlite import file_evidence
from storage.sqlite.base import VECTOR_TABLE, SQLiteBase
from storage.sqlite.connection import connect
from storage.sqlite.dialect import DIALECT


# Indexed files with chunks whose file-level rows are missing: no keyword row, or (embedded)
# no file vectors.
_WITHOUT_FILE_ROWS = (
    "SELECT f.id FROM files f WHERE f.status = 'indexed' AND f.id IN (SELECT file_id FROM chunks) AND "
    "(f.id NOT IN (SELECT rowid FROM files_fts) OR (f.embedded = 1 AND f.id NOT IN (SELECT file_id FROM file_vectors)))"
)


class Upkeep(SQLiteBase):
    def integrity(self) -> dict[str, int | bool]:
        """What a crash could have broken, counted: chunks of embedded files without their
        vector or code, vectors and codes without a chunk, chunks without their keyword row and
        back, files without their file-level rows, chunks stored twice, and FTS5's own check.
        Chunks of files still waiting for the meaning phase have no vector yet, rightly."""
        problems: dict[str, int | bool] = {}
        embedded = "c.file_id IN (SELECT id FROM files WHERE embedded = 1)"
        if self.embedding_space() is not None:
            (problems["chunks_without_vector"],), = self._query(
                f"SELECT COUNT(*) FROM chunks c WHERE {embedded} AND c.id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            )
            (problems["vectors_without_chunk"],), = self._query(
                f"SELECT COUNT(*) FROM {VECTOR_TABLE} WHERE rowid NOT IN (SELECT id FROM chunks)"
            )
        (problems["chunks_without_code"],), = self._query(
            f"SELECT COUNT(*) FROM chunks c WHERE {embedded} AND c.id NOT IN (SELECT id FROM chunk_codes)"
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
        (problems["files_without_file_rows"],), = self._query(f"SELECT COUNT(*) FROM ({_WITHOUT_FILE_ROWS})")
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
        """Fix what `integrity` finds: stray vectors, codes and keyword rows go; an embedded
        file with a chunk missing its vector or code waits for the meaning phase again; a file
        with a chunk missing its keyword row is read again by the next index run; missing
        file-level rows are rebuilt from the stored chunks."""
        fixed = {"stray_vectors": 0, "stray_codes": 0, "stray_keyword_rows": 0, "files_to_reembed": 0,
                 "files_to_reindex": 0, "file_rows_rebuilt": 0}
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
            unread = [row[0] for row in conn.execute(
                "SELECT DISTINCT file_id FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)"
            )]
            self._delete_chunks(conn, unread)
            for batch in DIALECT.batches(unread):
                conn.execute(
                    f"UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL WHERE id IN ({DIALECT.marks(batch)})",
                    batch,
                )
            fixed["files_to_reindex"] = len(unread)
            missing = "c.id NOT IN (SELECT id FROM chunk_codes)"
            if has_vectors:
                missing += f" OR c.id NOT IN (SELECT rowid FROM {VECTOR_TABLE})"
            broken = [row[0] for row in conn.execute(
                f"SELECT DISTINCT c.file_id FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE f.embedded = 1 AND ({missing})"
            )]
            for file_id in broken:  # its vectors are made again, all of them
                ids = conn.execute("SELECT id FROM chunks WHERE file_id = ?", (file_id,)).fetchall()
                for table in ["chunk_codes"] + ([VECTOR_TABLE] if has_vectors else []):
                    conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", ids)
                conn.execute("DELETE FROM file_vectors WHERE file_id = ?", (file_id,))
                conn.execute("UPDATE files SET embedded = 0 WHERE id = ?", (file_id,))
            fixed["files_to_reembed"] = len(broken)
            lacking = [row[0] for row in conn.execute(_WITHOUT_FILE_ROWS)]
            fixed["file_rows_rebuilt"] = file_evidence.rebuild(conn, lacking)
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
        try:  # made here, readable by this user only: it holds the text of every indexed file
            descriptor = os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise StorageError(f"{destination} already exists: choose a new file name for the backup.") from None
        except OSError as exc:
            raise StorageError(f"Cannot write the backup {destination}: {exc.strerror or exc}.") from None
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.close(descriptor)
        target = connect(target_path)
        try:
            with self._errors(), self._reader() as reader:
                reader.backup(target)
        finally:
            target.close()
