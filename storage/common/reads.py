"""Reads of folders and file records that both backends answer with the same SQL, but for the
driver's placeholder (the dialect's `mark`: "?" for sqlite3, "%s" for psycopg)."""
from __future__ import annotations

from storage.common.base import StoreBase
from storage.dialect import at_or_below, at_or_below_sql
from storage.records import FileRecord, Folder, StoredChunk

FILE_COLUMNS = "id, folder_id, path, size, mtime_ns, sha256, status, error, tried"


class FileReads(StoreBase):

    def folders(self) -> list[Folder]:
        return [Folder(*row) for row in self._query("SELECT id, path FROM folders ORDER BY path", ())]

    def files_under(self, path: str) -> list[FileRecord]:
        """The file at `path`, or every file below it when it is (or was) a folder."""
        rows = self._query(
            f"SELECT {FILE_COLUMNS} FROM files WHERE {at_or_below_sql(self.dialect.mark)}", at_or_below(path)
        )
        return [FileRecord(*row) for row in rows]

    def file_record(self, path: str) -> FileRecord | None:
        rows = self._query(f"SELECT {FILE_COLUMNS} FROM files WHERE path = {self.dialect.mark}", (path,))
        return FileRecord(*rows[0]) if rows else None

    def file_text(self, path: str, max_chars: int) -> str | None:
        """The start of an indexed file's text, from its chunks (None if not indexed)."""
        record = self.file_record(path)
        if record is None or record.status != "indexed":
            return None
        parts, total = [], 0
        sql = f"SELECT text FROM chunks WHERE file_id = {self.dialect.mark} ORDER BY ordinal"
        for (text,) in self._query(sql, (record.id,)):
            parts.append(text)
            total += len(text)
            if total >= max_chars:
                break
        return "\n".join(parts)[:max_chars]

    def file_chunks(self, path: str) -> list[StoredChunk]:
        """Every chunk of an indexed file, in order (none if it is not indexed)."""
        p = self.dialect.mark
        rows = self._query(
            f"SELECT c.ordinal, c.start, c.\"end\", c.page, c.text FROM chunks c JOIN files f ON f.id = c.file_id "
            f"WHERE f.path = {p} AND f.status = 'indexed' ORDER BY c.ordinal",
            (path,),
        )
        return [StoredChunk(*row) for row in rows]
