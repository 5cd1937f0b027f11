"""The meaning phase's side of the SQLite store: chunks written by the words phase wait for
their vectors (storage/common/meaning.py hands them out), which are stored one batch to a
transaction. A kill at any moment leaves chunks still waiting, never a
vector without its chunk: the next run embeds what is left."""
from __future__ import annotations

from typing import Sequence

from storage.common.meaning import PendingChunks
from storage.records import PendingChunk
from storage.sqlite.base import SQLiteBase
from storage.sqlite.writes import complete_file, insert_vector

_NO_VECTOR = "c.id NOT IN (SELECT id FROM chunk_codes)"


class Meaning(PendingChunks, SQLiteBase):
    def _no_vector(self) -> str:
        return _NO_VECTOR

    def write_vectors(self, vectors: Sequence[tuple[PendingChunk, bytes]]) -> int:
        """Store the vectors of pending chunks in one transaction; a chunk that changed or went
        meanwhile (its file was written again) is left out. A file whose chunks all have their
        vectors now gets its file-level vectors and counts as embedded. Returns how many
        vectors were stored."""
        stored = 0
        with self.transaction() as conn:
            touched = set()
            for chunk, vector in vectors:
                current = conn.execute(
                    "SELECT c.text_key FROM chunks c WHERE c.id = ? AND c.file_id = ? AND c.text = ? "
                    f"AND c.context = ? AND {_NO_VECTOR}",
                    (chunk.chunk_id, chunk.file_id, chunk.text, chunk.context),
                ).fetchone()
                if current is None:
                    continue
                insert_vector(conn, chunk.chunk_id, vector)
                touched.add(chunk.file_id)
                stored += 1
                # The same text waiting elsewhere (a copy not embedded yet) takes this vector too.
                for twin, file_id in conn.execute(
                    f"SELECT c.id, c.file_id FROM chunks c WHERE c.text_key = ? AND {_NO_VECTOR}", (current[0],)
                ).fetchall():
                    insert_vector(conn, twin, vector)
                    touched.add(file_id)
            for file_id in touched:
                complete_file(conn, file_id)
        return stored

    def embedding_failed(self, file_id: int, error: str) -> None:
        """The model could not embed this file: it is recorded as failed, with why."""
        with self.transaction() as conn:
            conn.execute("UPDATE files SET status = 'failed', error = ?, embedded = 1 WHERE id = ?", (error, file_id))
            self._delete_chunks(conn, [file_id])
