"""The meaning phase's side of the SQLite store: chunks written by the words phase wait for
their vectors; they are handed out most recently modified file first, and their vectors are
stored one batch to a transaction. A kill at any moment leaves chunks still waiting, never a
vector without its chunk: the next run embeds what is left."""
from __future__ import annotations

from typing import Any, Sequence

from storage.records import PendingChunk, PendingWork
from storage.sqlite.base import SQLiteBase
from storage.sqlite.dialect import DIALECT
from storage.sqlite.writes import complete_file, insert_vector

# A file waits when it is indexed but not every chunk has its vector; `chunker` None matches
# any file (files cut before chunkers were recorded have none).
_WAITING = "f.status = 'indexed' AND f.embedded = 0 AND (? IS NULL OR f.chunker IS NULL OR f.chunker = ?)"
_NO_VECTOR = "c.id NOT IN (SELECT id FROM chunk_codes)"


class Meaning(SQLiteBase):
    def pending_chunks(self, limit: int, chunker: str | None = None, first: Sequence[str] = ()) -> list[PendingChunk]:
        """At most `limit` chunks waiting for their vectors: of the files at the paths `first`
        (what the person just changed), then of the most recently modified files (what a
        person most likely looks for), in order within each file. Only files cut by `chunker`:
        the others are read again first (`rechunk_others`)."""
        files: list[Any] = []
        for batch in DIALECT.batches(list(first)):
            files += self._query(
                f"SELECT f.id, f.path FROM files f WHERE {_WAITING} AND f.path IN ({DIALECT.marks(batch)}) "
                "ORDER BY f.mtime_ns DESC",
                (chunker, chunker, *batch),
            )
        files += [row for row in self._query(
            f"SELECT f.id, f.path FROM files f WHERE {_WAITING} ORDER BY f.mtime_ns DESC LIMIT ?",
            (chunker, chunker, limit + len(files)),
        ) if row not in files]
        found: list[PendingChunk] = []
        for file_id, path in files:
            rows = self._query(
                f"SELECT c.id, c.text, c.context, c.tokens FROM chunks c WHERE c.file_id = ? AND {_NO_VECTOR} "
                "ORDER BY c.ordinal LIMIT ?",
                (file_id, limit - len(found)),
            )
            found += [PendingChunk(cid, file_id, path, text, context, tokens) for cid, text, context, tokens in rows]
            if len(found) >= limit:
                break
        return found

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

    def pending_work(self, chunker: str | None = None) -> PendingWork:
        """Files, chunks and tokens waiting for vectors (tokens estimated from the text where
        they were not counted: four characters a token)."""
        (files, chunks, tokens), = self._query(
            "SELECT COUNT(DISTINCT f.id), COUNT(c.id), "
            "COALESCE(SUM(CASE WHEN c.tokens > 0 THEN c.tokens ELSE length(c.text) / 4 + 1 END), 0) "
            f"FROM files f JOIN chunks c ON c.file_id = f.id WHERE {_WAITING} AND {_NO_VECTOR}",
            (chunker, chunker),
        )
        return PendingWork(files, chunks, tokens)

    def rechunk_others(self, chunker: str, unknown_too: bool = False) -> int:
        """Files whose chunks another tokenizer cut (or Fathom cut by estimated tokens, with no
        model's tokenizer at hand) are to be read and cut again by the next index run before
        they are embedded; their old chunks stay searchable until then. `unknown_too`: also
        the files cut before chunkers were recorded (the model changed). Returns how many."""
        unknown = " OR chunker IS NULL" if unknown_too else ""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL "
                f"WHERE status = 'indexed' AND (chunker != ?{unknown}) AND size != -1",
                (chunker,),
            ).rowcount

    def embedding_failed(self, file_id: int, error: str) -> None:
        """The model could not embed this file: it is recorded as failed, with why."""
        with self.transaction() as conn:
            conn.execute("UPDATE files SET status = 'failed', error = ?, embedded = 1 WHERE id = ?", (error, file_id))
            self._delete_chunks(conn, [file_id])
