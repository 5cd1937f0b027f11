"""The meaning phase's side of the PostgreSQL store: chunks written by the words phase wait for
their vectors (storage/common/meaning.py hands them out), which are stored one batch to a
transaction. Two processes may embed the same chunks at once (one folder indexed from two
machines): the first vector stored wins, the other is left out, and a chunk whose file was
written again meanwhile gets none."""
from __future__ import annotations

from typing import Sequence

from storage.common.base import retried
from storage.common.meaning import PendingChunks
from storage.postgres.base import PostgresBase
from storage.postgres.writes import as_array, complete_file
from storage.records import PendingChunk

_NO_VECTOR = "NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)"


class Meaning(PendingChunks, PostgresBase):
    _newest_first = "f.mtime_ns DESC, f.id"

    def _no_vector(self) -> str:
        """Chunks without a vector: all of them while there is no embedding space."""
        return _NO_VECTOR if self.embedding_space() is not None else "TRUE"

    @retried
    def write_vectors(self, vectors: Sequence[tuple[PendingChunk, bytes]]) -> int:
        """Store the vectors of pending chunks in one transaction; a chunk that changed or went
        meanwhile, or that another process gave its vector first, is left out. A file whose
        chunks all have their vectors gets its file-level vectors and counts as embedded.
        Returns how many vectors were stored."""
        if not vectors:
            return 0
        with self.transaction() as conn:
            files = sorted({chunk.file_id for chunk, _ in vectors})
            self._lock_files(conn, files)  # first, as every writer of these files does
            current = {
                row[0]: tuple(row[1:])
                for row in conn.execute(
                    "SELECT id, file_id, text, context FROM chunks WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
                    ([chunk.chunk_id for chunk, _ in vectors],),
                )
            }
            stored, touched = 0, set()
            for chunk, vector in vectors:
                if current.get(chunk.chunk_id) != (chunk.file_id, chunk.text, chunk.context):
                    continue
                stored += conn.execute(
                    "INSERT INTO chunk_vectors(chunk_id, embedding) VALUES (%s, %s) ON CONFLICT (chunk_id) DO NOTHING",
                    (chunk.chunk_id, as_array(vector)),
                ).rowcount
                touched.add(chunk.file_id)
            if stored:  # the same text waiting elsewhere (a copy not embedded yet) takes the vector too
                twins = conn.execute(
                    "INSERT INTO chunk_vectors(chunk_id, embedding) SELECT DISTINCT ON (t.id) t.id, v.embedding "
                    "FROM chunks s JOIN chunk_vectors v ON v.chunk_id = s.id "
                    "JOIN chunks t ON t.text_key = s.text_key AND t.id <> s.id "
                    "WHERE s.id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM chunk_vectors w WHERE w.chunk_id = t.id) "
                    "ON CONFLICT (chunk_id) DO NOTHING RETURNING chunk_id",
                    ([chunk.chunk_id for chunk, _ in vectors],),
                ).fetchall()
                if twins:
                    touched |= {row[0] for row in conn.execute(
                        "SELECT DISTINCT file_id FROM chunks WHERE id = ANY(%s)", ([row[0] for row in twins],)
                    )}
            for file_id in sorted(touched):
                complete_file(conn, file_id)
        return stored

    @retried
    def embedding_failed(self, file_id: int, error: str) -> None:
        """The model could not embed this file: it is recorded as failed, with why."""
        with self.transaction() as conn:
            self._lock_files(conn, [file_id])
            conn.execute(
                "UPDATE files SET status = 'failed', error = %s, embedded = true WHERE id = %s",
                (error.replace("\x00", "\ufffd"), file_id),
            )
            self._delete_chunks(conn, [file_id])
