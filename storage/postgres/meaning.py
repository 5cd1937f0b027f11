"""The meaning phase's side of the PostgreSQL store: chunks written by the words phase wait for
their vectors, handed out most recently modified file first; their vectors are stored one batch
to a transaction. Two processes may embed the same chunks at once (one folder indexed from two
machines): the first vector stored wins, the other is left out, and a chunk whose file was
written again meanwhile gets none."""
from __future__ import annotations

from typing import Any, Sequence

from storage.postgres.base import PostgresBase, retried
from storage.postgres.writes import as_array, clean, complete_file
from storage.records import PendingChunk, PendingWork

# A file waits when it is indexed but not every chunk has its vector; `chunker` None matches
# any file (files cut before chunkers were recorded have none).
_WAITING = "f.status = 'indexed' AND NOT f.embedded AND (%(chunker)s::text IS NULL OR f.chunker IS NULL OR f.chunker = %(chunker)s)"
_NO_VECTOR = "NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)"


class Meaning(PostgresBase):
    def _no_vector(self) -> str:
        """Chunks without a vector: all of them while there is no embedding space."""
        return _NO_VECTOR if self.embedding_space() is not None else "TRUE"

    def pending_chunks(self, limit: int, chunker: str | None = None, first: Sequence[str] = ()) -> list[PendingChunk]:
        """At most `limit` chunks waiting for their vectors: of the files at the paths `first`
        (what the person just changed), then of the most recently modified files, in order
        within each file; only files cut by `chunker`."""
        files = self._query(
            f"SELECT f.id, f.path FROM files f WHERE {_WAITING} AND f.path = ANY(%(first)s) "
            "ORDER BY f.mtime_ns DESC, f.id",
            {"chunker": chunker, "first": [clean(p) for p in first]},
        ) if first else []
        files += [tuple(row) for row in self._query(
            f"SELECT f.id, f.path FROM files f WHERE {_WAITING} ORDER BY f.mtime_ns DESC, f.id LIMIT %(limit)s",
            {"chunker": chunker, "limit": limit + len(files)},
        ) if tuple(row) not in files]
        found: list[PendingChunk] = []
        no_vector = self._no_vector()
        for file_id, path in files:
            rows = self._query(
                f"SELECT c.id, c.text, c.context, c.tokens FROM chunks c WHERE c.file_id = %s AND {no_vector} "
                "ORDER BY c.ordinal LIMIT %s",
                (file_id, limit - len(found)),
            )
            found += [PendingChunk(cid, file_id, path, text, context, tokens) for cid, text, context, tokens in rows]
            if len(found) >= limit:
                break
        return found

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

    def pending_work(self, chunker: str | None = None) -> PendingWork:
        """Files, chunks and tokens waiting for vectors (tokens estimated from the text where
        they were not counted: four characters a token)."""
        (files, chunks, tokens), = self._query(
            "SELECT COUNT(DISTINCT f.id), COUNT(c.id), "
            "COALESCE(SUM(CASE WHEN c.tokens > 0 THEN c.tokens ELSE length(c.text) / 4 + 1 END), 0) "
            f"FROM files f JOIN chunks c ON c.file_id = f.id WHERE {_WAITING} AND {self._no_vector()}",
            {"chunker": chunker},
        )
        return PendingWork(files, chunks, int(tokens))

    @retried
    def rechunk_others(self, chunker: str, unknown_too: bool = False) -> int:
        """Files whose chunks another tokenizer cut are read and cut again by the next index
        run before they are embedded; their old chunks stay searchable until then.
        `unknown_too`: also the files cut before chunkers were recorded (the model changed)."""
        unknown = " OR chunker IS NULL" if unknown_too else ""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL "
                f"WHERE status = 'indexed' AND (chunker != %s{unknown}) AND size != -1",
                (chunker,),
            ).rowcount

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
