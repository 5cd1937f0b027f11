"""Writes of the PostgreSQL store: the embedding space (and its vector tables), folders, files
with their chunks (text, keyword tsvector, vector) and file-level rows, failures, moves,
deletes, and what folders leave out by rule. Each is one transaction (see base.py), run again
when PostgreSQL picks it as a deadlock's victim."""
from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

import numpy as np

from storage.common.base import retried
from storage.common.writes import FileWrites
from storage.dialect import at_or_below, at_or_below_sql, below
from storage.fts import searchable_text
from storage.postgres import file_evidence
from storage.postgres.base import PostgresBase, trim_loose_vectors
from storage.postgres.dialect import clean
from storage.postgres.migrations import SPACE_LOCK
from storage.postgres.words import tsvector
from storage.records import ChunkRow, EmbeddingSpace, Folder, IgnoredPath
from storage.text_keys import text_key

# HNSW's build settings: pgvector's defaults (m 16, ef_construction 64), said here so that a
# later change of pgvector's defaults does not change Fathom's index silently.
HNSW = "WITH (m = 16, ef_construction = 64)"


def as_array(vector: bytes) -> np.ndarray:
    return np.frombuffer(vector, dtype=np.float32)


def create_vector_tables(conn: Any, dimension: int, with_hnsw: bool) -> None:
    conn.execute(
        f"CREATE TABLE chunk_vectors (chunk_id bigint PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, "
        f"embedding vector({int(dimension)}) NOT NULL)"
    )
    if with_hnsw:
        conn.execute(f"CREATE INDEX chunk_vectors_hnsw ON chunk_vectors USING hnsw (embedding vector_cosine_ops) {HNSW}")
    conn.execute(
        f"CREATE TABLE file_vectors (file_id bigint PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE, "
        f"opening vector({int(dimension)}) NOT NULL, summary vector({int(dimension)}) NOT NULL)"
    )


class Writes(FileWrites, PostgresBase):
    _folder_lock = " FOR KEY SHARE"

    # -- the embedding space ------------------------------------------------------------------

    @retried
    def set_embedding_space(self, space: EmbeddingSpace) -> None:
        """Choose the model and width of the vectors; a different space drops every vector.
        Under an advisory lock: two processes starting at once agree on one space."""
        if self.embedding_space() == space:
            return
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SPACE_LOCK,))
            current = self._space_in(conn)
            if current == space:
                return
            if current is not None:
                conn.execute("DROP TABLE IF EXISTS chunk_vectors, file_vectors")
                conn.execute("DELETE FROM loose_vectors")
                conn.execute("UPDATE files SET embedded = false WHERE status = 'indexed' AND embedded")
                if current.model != space.model:
                    conn.execute("UPDATE files SET chunker = 'unknown' WHERE chunker IS NULL")
            create_vector_tables(conn, space.dimension, self.indexed_with_hnsw(space))
            for key, value in (
                ("embedding_model", space.model),
                ("embedding_dimension", str(space.dimension)),
                ("embedding_recipe", space.recipe),
            ):
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- folders ------------------------------------------------------------------------------

    @retried
    def add_folder(self, path: str) -> Folder:
        with self.transaction() as conn:
            (folder_id,) = conn.execute(
                "INSERT INTO folders(path, added_at) VALUES (%s, %s) "
                "ON CONFLICT (path) DO UPDATE SET path = excluded.path RETURNING id",
                (path, time.time()),
            ).fetchone()
        return Folder(folder_id, path)

    @retried
    def remove_folder(self, folder_id: int) -> int:
        """Forget a folder and every file indexed through it; returns how many files went."""
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM folders WHERE id = %s FOR UPDATE", (folder_id,)).fetchone() is None:
                return 0
            (count,), = conn.execute("SELECT COUNT(*) FROM files WHERE folder_id = %s", (folder_id,)).fetchall()
            conn.execute("DELETE FROM folders WHERE id = %s", (folder_id,))  # files, chunks... cascade
            trim_loose_vectors(conn)
        return count

    # -- files (their own rows: storage/common/writes.py) ----------------------------------------

    def _write_contents(
        self, conn: Any, file_id: int, path: str, folder: str, title: str, text: str, chunks: Sequence[ChunkRow],
        embedded: bool, reuse: bool,
    ) -> None:
        """A file's chunks with their keyword tsvectors, their vectors (given, or `reuse`d:
        those already made for their texts) and its file-level rows (storage/common/writes.py)."""
        rows = []
        for chunk in chunks:
            literal, count = tsvector([(searchable_text(f"{chunk.context}\n{chunk.text}"), "D")])
            text_, context = clean(chunk.text), clean(chunk.context)
            rows.append((file_id, chunk.ordinal, chunk.start, chunk.end, chunk.page, text_,
                         context, chunk.tokens, literal, count, text_key(context, text_)))
        with conn.cursor() as cursor:
            cursor.executemany(
                'INSERT INTO chunks(file_id, ordinal, start, "end", page, text, context, tokens, keywords, words, '
                "text_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector, %s, %s)",
                rows,
            )
        if reuse and chunks:
            _reuse_vectors(conn, file_id)
        vectors = None
        if embedded and chunks:
            ids = dict(conn.execute("SELECT ordinal, id FROM chunks WHERE file_id = %s", (file_id,)).fetchall())
            vectors = np.stack([as_array(c.vector) for c in chunks])  # type: ignore[arg-type]
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO chunk_vectors(chunk_id, embedding) VALUES (%s, %s)",
                    [(ids[c.ordinal], vectors[i]) for i, c in enumerate(chunks)],
                )
        file_evidence.write_rows(conn, file_id, clean(path), folder, clean(title), clean(text), vectors)
        if reuse and chunks:  # every text embedded before?
            complete_file(conn, file_id)

    @retried
    def move_files(self, old: str, new: str, folder_id: int) -> int:
        """A file or folder was renamed: its records follow it, embeddings and all."""
        under = at_or_below_sql("%s")
        with self.transaction() as conn:
            self._check_folder(conn, folder_id)
            moving = [r[0] for r in conn.execute(f"SELECT id FROM files WHERE {under}", at_or_below(old))]
            stale = [r[0] for r in conn.execute(f"SELECT id FROM files WHERE {under}", at_or_below(new))]
            self._lock_files(conn, sorted(set(moving) | set(stale)))
            if stale:  # whatever was indexed at the destination is replaced by what moved there
                conn.execute("DELETE FROM files WHERE id = ANY(%s)", (stale,))
            moved = conn.execute(
                "UPDATE files SET path = %s, folder_id = %s WHERE path = %s", (new, folder_id, old)
            ).rowcount
            (old_prefix, old_end), (new_prefix, _) = below(old), below(new)
            moved += conn.execute(
                "UPDATE files SET path = %s || substr(path, %s), folder_id = %s WHERE path >= %s AND path < %s",
                (new_prefix, len(old_prefix) + 1, folder_id, old_prefix, old_end),
            ).rowcount
            file_evidence.rename(conn, sorted(set(moving) - set(stale)))
        return moved

    @retried
    def delete_files(self, file_ids: Iterable[int]) -> None:
        ids = sorted(set(file_ids))
        if not ids:
            return
        with self.transaction() as conn:
            self._lock_files(conn, ids)
            conn.execute("DELETE FROM files WHERE id = ANY(%s)", (ids,))  # chunks, vectors, rows: cascade
            trim_loose_vectors(conn)

    # -- what folders leave out by rule -------------------------------------------------------

    @retried
    def replace_ignored(self, folder_id: int, top: str, entries: Sequence[IgnoredPath]) -> None:
        """What `folder_id` leaves out at or below `top` is now `entries` (and nothing else).
        Writes only when that changed."""
        where = f"folder_id = %s AND {at_or_below_sql('%s')}"
        params = (folder_id, *at_or_below(top))
        known = {
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query(f"SELECT path, reason, is_folder FROM ignored WHERE {where}", params)
        }
        if known == {IgnoredPath(clean(e.path), clean(e.reason), e.is_folder) for e in entries}:
            return
        with self.transaction() as conn:
            self._check_folder(conn, folder_id)
            conn.execute(f"DELETE FROM ignored WHERE {where}", params)
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO ignored(folder_id, path, reason, is_folder) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (folder_id, path) DO UPDATE SET reason = excluded.reason, is_folder = excluded.is_folder",
                    [(folder_id, clean(e.path), clean(e.reason), e.is_folder) for e in entries],
                )


def _reuse_vectors(conn: Any, file_id: int) -> None:
    """This file's chunks take the vectors already made for their texts: loose ones first,
    then live chunks' (storage/text_keys.py)."""
    conn.execute(
        "INSERT INTO chunk_vectors(chunk_id, embedding) SELECT c.id, l.embedding::vector FROM chunks c "
        "JOIN loose_vectors l ON l.text_key = c.text_key WHERE c.file_id = %s ON CONFLICT (chunk_id) DO NOTHING",
        (file_id,),
    )
    conn.execute(
        "INSERT INTO chunk_vectors(chunk_id, embedding) SELECT DISTINCT ON (c.id) c.id, v.embedding FROM chunks c "
        "JOIN chunks o ON o.text_key = c.text_key AND o.id <> c.id JOIN chunk_vectors v ON v.chunk_id = o.id "
        "WHERE c.file_id = %s AND NOT EXISTS (SELECT 1 FROM chunk_vectors w WHERE w.chunk_id = c.id) "
        "ON CONFLICT (chunk_id) DO NOTHING",
        (file_id,),
    )


def complete_file(conn: Any, file_id: int) -> None:
    """When every chunk of a file has its vector: its file-level vectors, and `embedded`."""
    vectors = file_evidence.chunk_vectors(conn, file_id)
    if vectors is None:
        (chunks,), = conn.execute("SELECT COUNT(*) FROM chunks WHERE file_id = %s", (file_id,)).fetchall()
        if chunks:
            return
    else:
        file_evidence.write_vectors(conn, file_id, vectors)
    conn.execute("UPDATE files SET embedded = true WHERE id = %s", (file_id,))
