"""The meaning phase's reads and marks both stores share: the chunks waiting for their vectors,
handed out most recently modified file first, what is left, and files to be cut again. How a
chunk lacks its vector is the backend's (`_no_vector`); so is storing vectors."""
from __future__ import annotations

from typing import Any, Sequence

from storage.common.base import StoreBase, retried
from storage.records import PendingChunk, PendingWork


class PendingChunks(StoreBase):
    _newest_first = "f.mtime_ns DESC"  # the order of the waiting files (a backend adds a tie-break)

    def _no_vector(self) -> str:
        """SQL of a chunk `c` without its vector."""
        raise NotImplementedError

    def _waiting(self) -> str:
        """SQL of a file `f` waiting for vectors: indexed, but not every chunk has its vector;
        cut by the chunker given twice as parameters, or by any when that is None (files cut
        before chunkers were recorded have none)."""
        m = self.dialect.mark
        return (
            f"f.status = 'indexed' AND f.embedded = {self.dialect.false} "
            f"AND (CAST({m} AS TEXT) IS NULL OR f.chunker IS NULL OR f.chunker = {m})"
        )

    def pending_chunks(self, limit: int, chunker: str | None = None, first: Sequence[str] = ()) -> list[PendingChunk]:
        """At most `limit` chunks waiting for their vectors: of the files at the paths `first`
        (what the person just changed), then of the most recently modified files (what a
        person most likely looks for), in order within each file. Only files cut by `chunker`:
        the others are read again first (`rechunk_others`)."""
        select = f"SELECT f.id, f.path FROM files f WHERE {self._waiting()}"
        files: list[Any] = []
        for among, paths in self.dialect.among("f.path", [self.dialect.stored_text(p) for p in first]):
            files += self._query(f"{select} AND {among} ORDER BY {self._newest_first}", (chunker, chunker, *paths))
        files = [tuple(row) for row in files]
        files += [row for row in map(tuple, self._query(
            f"{select} ORDER BY {self._newest_first} LIMIT {self.dialect.mark}", (chunker, chunker, limit + len(files))
        )) if row not in files]
        found: list[PendingChunk] = []
        m, no_vector = self.dialect.mark, self._no_vector()
        for file_id, path in files:
            rows = self._query(
                f"SELECT c.id, c.text, c.context, c.tokens FROM chunks c WHERE c.file_id = {m} AND {no_vector} "
                f"ORDER BY c.ordinal LIMIT {m}",
                (file_id, limit - len(found)),
            )
            found += [PendingChunk(cid, file_id, path, text, context, tokens) for cid, text, context, tokens in rows]
            if len(found) >= limit:
                break
        return found

    def pending_work(self, chunker: str | None = None) -> PendingWork:
        """Files, chunks and tokens waiting for vectors (tokens estimated from the text where
        they were not counted: four characters a token)."""
        (files, chunks, tokens), = self._query(
            "SELECT COUNT(DISTINCT f.id), COUNT(c.id), "
            "COALESCE(SUM(CASE WHEN c.tokens > 0 THEN c.tokens ELSE length(c.text) / 4 + 1 END), 0) "
            f"FROM files f JOIN chunks c ON c.file_id = f.id WHERE {self._waiting()} AND {self._no_vector()}",
            (chunker, chunker),
        )
        return PendingWork(files, chunks, int(tokens))

    @retried
    def rechunk_others(self, chunker: str, unknown_too: bool = False) -> int:
        """Files whose chunks another tokenizer cut (or Fathom cut by estimated tokens, with no
        model's tokenizer at hand) are to be read and cut again by the next index run before
        they are embedded; their old chunks stay searchable until then. `unknown_too`: also
        the files cut before chunkers were recorded (the model changed). Returns how many."""
        unknown = " OR chunker IS NULL" if unknown_too else ""
        with self.transaction() as conn:
            return int(conn.execute(
                "UPDATE files SET size = -1, mtime_ns = -1, sha256 = NULL "
                f"WHERE status = 'indexed' AND (chunker != {self.dialect.mark}{unknown}) AND size != -1",
                (chunker,),
            ).rowcount)
