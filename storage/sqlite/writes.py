"""Writes of the SQLite store: the embedding space, folders, files with their chunks (text,
float vector, binary code, keyword row) and their file-level rows, failures, moves, deletes,
and what folders leave out by rule. Each is one transaction (see base.py)."""
from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

import numpy as np

from storage.common.writes import FileWrites
from storage.dialect import at_or_below, at_or_below_sql, below
from storage.fts import searchable_text
from storage.records import ChunkRow, EmbeddingSpace, Folder, IgnoredPath
from storage.sqlite import file_evidence
from storage.sqlite.base import VECTOR_TABLE, SQLiteBase, _trim_code_changes, stored_vector
from storage.sqlite.coarse import code, int8_copy
from storage.sqlite.dialect import DIALECT
from storage.text_keys import text_key


class Writes(FileWrites, SQLiteBase):
    # -- the embedding space ------------------------------------------------------------------

    def set_embedding_space(self, space: EmbeddingSpace) -> None:
        """Choose the model and width of the vectors; a different space drops every vector.

        The chunks and their words stay searchable; every file waits for the meaning phase,
        and files cut before chunkers were recorded count as cut by another tokenizer now.
        """
        current = self.embedding_space()
        if current == space:
            return
        with self.transaction() as conn:
            if current is not None:
                conn.execute(f"DROP TABLE IF EXISTS {VECTOR_TABLE}")
                conn.execute("DELETE FROM chunk_codes")
                _trim_code_changes(conn, keep=0)  # readers start over
                conn.execute("DELETE FROM file_vectors")
                conn.execute("DELETE FROM loose_vectors")
                conn.execute("UPDATE files SET embedded = 0 WHERE status = 'indexed'")
                if current.model != space.model:
                    conn.execute("UPDATE files SET chunker = 'unknown' WHERE chunker IS NULL")
            conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {VECTOR_TABLE} USING "
                f"vec0(embedding float[{int(space.dimension)}] distance_metric=cosine)"
            )
            for key, value in (
                ("embedding_model", space.model),
                ("embedding_dimension", str(space.dimension)),
                ("embedding_recipe", space.recipe),
            ):
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- folders ------------------------------------------------------------------------------

    def add_folder(self, path: str) -> Folder:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO folders(path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING",
                (path, time.time()),
            )
            (folder_id,) = conn.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()
        return Folder(folder_id, path)

    def remove_folder(self, folder_id: int) -> int:
        """Forget a folder and every file indexed through it; returns how many files went."""
        with self.transaction() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM files WHERE folder_id = ?", (folder_id,))]
            self._delete_chunks(conn, ids)
            conn.execute("DELETE FROM files WHERE folder_id = ?", (folder_id,))
            conn.execute("DELETE FROM ignored WHERE folder_id = ?", (folder_id,))
            conn.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
        return len(ids)

    # -- files (their own rows: storage/common/writes.py) ----------------------------------------

    def _write_contents(
        self, conn: Any, file_id: int, path: str, folder: str, title: str, text: str, chunks: Sequence[ChunkRow],
        embedded: bool, reuse: bool,
    ) -> None:
        """A file's chunks with their keyword rows, their vectors (given, or `reuse`d: those
        already made for their texts) and its file-level rows (storage/common/writes.py)."""
        vectors = [c.vector for c in chunks if c.vector is not None] if embedded else []
        file_evidence.write_rows(conn, file_id, path, folder, title, text, vectors)
        for chunk in chunks:
            key = text_key(chunk.context, chunk.text)
            cursor = conn.execute(
                "INSERT INTO chunks(file_id, ordinal, start, end, page, text, context, tokens, text_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (file_id, chunk.ordinal, chunk.start, chunk.end, chunk.page, chunk.text, chunk.context,
                 chunk.tokens, key),
            )
            vector = chunk.vector if embedded else stored_vector(conn, key) if reuse else None
            if vector is not None:
                insert_vector(conn, cursor.lastrowid, vector)
            conn.execute(
                "INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
                (cursor.lastrowid, searchable_text(f"{chunk.context}\n{chunk.text}")),
            )
        if reuse:  # every text embedded before: the file is embedded already
            complete_file(conn, file_id)

    def move_files(self, old: str, new: str, folder_id: int) -> int:
        """A file or folder was renamed: its records follow it, embeddings and all.
        Returns how many files moved."""
        with self.transaction() as conn:
            self._check_folder(conn, folder_id)
            # Whatever was indexed at the destination is replaced by what moved there.
            stale = [row[0] for row in conn.execute(
                f"SELECT id FROM files WHERE {at_or_below_sql('?')}", at_or_below(new)
            )]
            self._delete_chunks(conn, stale)
            for batch in DIALECT.batches(stale):
                conn.execute(f"DELETE FROM files WHERE id IN ({DIALECT.marks(batch)})", batch)
            moved = conn.execute(
                "UPDATE files SET path = ?, folder_id = ? WHERE path = ?", (new, folder_id, old)
            ).rowcount
            (old_prefix, old_end), (new_prefix, _) = below(old), below(new)
            moved += conn.execute(
                "UPDATE files SET path = ? || substr(path, ?), folder_id = ? "
                "WHERE path >= ? AND path < ?",
                (new_prefix, len(old_prefix) + 1, folder_id, old_prefix, old_end),
            ).rowcount
            file_evidence.rename(conn, [row[0] for row in conn.execute(
                f"SELECT id FROM files WHERE {at_or_below_sql('?')}", at_or_below(new)
            )])
        return moved

    def delete_files(self, file_ids: Iterable[int]) -> None:
        ids = list(file_ids)
        if not ids:
            return
        with self.transaction() as conn:
            self._delete_chunks(conn, ids)
            for batch in DIALECT.batches(ids):
                conn.execute(f"DELETE FROM files WHERE id IN ({DIALECT.marks(batch)})", batch)

    # -- what folders leave out by rule -------------------------------------------------------

    def replace_ignored(self, folder_id: int, top: str, entries: Sequence[IgnoredPath]) -> None:
        """What `folder_id` leaves out at or below `top` is now `entries` (and nothing else).
        Writes only when that changed: a rescan of an unchanged folder writes nothing."""
        where = f"folder_id = ? AND {at_or_below_sql('?')}"
        params = (folder_id, *at_or_below(top))
        known = {
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query(
                f"SELECT path, reason, is_folder FROM ignored WHERE {where}", params
            )
        }
        if known == set(entries):
            return
        with self.transaction() as conn:
            self._check_folder(conn, folder_id)
            conn.execute(f"DELETE FROM ignored WHERE {where}", params)
            conn.executemany(
                "INSERT OR REPLACE INTO ignored(folder_id, path, reason, is_folder) VALUES (?, ?, ?, ?)",
                [(folder_id, e.path, e.reason, int(e.is_folder)) for e in entries],
            )


def insert_vector(conn: Any, chunk_id: int, vector: bytes) -> None:
    """A chunk's float vector and its compact codes (storage/sqlite/coarse.py)."""
    conn.execute(f"INSERT INTO {VECTOR_TABLE}(rowid, embedding) VALUES (?, ?)", (chunk_id, vector))
    conn.execute(
        "INSERT INTO chunk_codes(id, code, q8) VALUES (?, ?, ?)", (chunk_id, code(vector), int8_copy(vector))
    )


def complete_file(conn: Any, file_id: int) -> None:
    """When every chunk of a file has its vector: its file-level vectors, and `embedded`."""
    (left,), = conn.execute(
        "SELECT COUNT(*) FROM chunks c WHERE c.file_id = ? AND c.id NOT IN (SELECT id FROM chunk_codes)", (file_id,)
    ).fetchall()
    if left:
        return
    codes = [row[0] for row in conn.execute(
        "SELECT k.q8 FROM chunks c JOIN chunk_codes k ON k.id = c.id WHERE c.file_id = ? ORDER BY c.ordinal",
        (file_id,),
    )]
    conn.execute("DELETE FROM file_vectors WHERE file_id = ?", (file_id,))
    if codes:
        matrix = np.frombuffer(b"".join(codes), dtype=np.int8).reshape(len(codes), -1)
        file_evidence.write_vectors(conn, file_id, matrix[0], matrix)
    conn.execute("UPDATE files SET embedded = 1 WHERE id = ?", (file_id,))
