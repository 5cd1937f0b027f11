"""What the SQLite index holds, counted for `status`."""
from __future__ import annotations

from storage.records import IgnoredPath, IndexStats
from storage.sqlite.base import SQLiteBase
from storage.sqlite.migrations import SCHEMA_VERSION


class Stats(SQLiteBase):
    def stats(self) -> IndexStats:
        folders = [
            (row[0], row[1])
            for row in self._query(
                "SELECT d.path, COUNT(f.id) FROM folders d LEFT JOIN files f ON f.folder_id = d.id "
                "GROUP BY d.id ORDER BY d.path"
            )
        ]
        (files, indexed), = self._query(
            "SELECT COUNT(*), COALESCE(SUM(status = 'indexed'), 0) FROM files"
        )
        problems: dict[str, list[tuple[str, str]]] = {"failed": [], "skipped": []}
        for status, path, error in self._query(
            "SELECT status, path, error FROM files WHERE status != 'indexed' ORDER BY path"
        ):
            problems[status].append((path, error))
        cut = [
            (path, error)
            for path, error in self._query(
                "SELECT path, error FROM files WHERE status = 'indexed' AND error IS NOT NULL ORDER BY path"
            )
        ]
        (chunks,), = self._query("SELECT COUNT(*) FROM chunks")
        counts: dict[str, dict[str, int]] = {
            path: {"indexed": 0, "failed": 0, "skipped": 0, "ignored": 0, "ignored_folders": 0, "waiting": 0}
            for path, _ in folders
        }
        for path, status, count in self._query(
            "SELECT d.path, f.status, COUNT(*) FROM folders d JOIN files f ON f.folder_id = d.id "
            "GROUP BY d.id, f.status"
        ):
            counts[path][status] = count
        for path, count in self._query(  # indexed files whose vectors are still to come
            "SELECT d.path, COUNT(*) FROM folders d JOIN files f ON f.folder_id = d.id "
            "WHERE f.status = 'indexed' AND f.embedded = 0 GROUP BY d.id"
        ):
            counts[path]["waiting"] = count
        for path, is_folder, count in self._query(
            "SELECT d.path, i.is_folder, COUNT(*) FROM folders d JOIN ignored i ON i.folder_id = d.id "
            "GROUP BY d.id, i.is_folder"
        ):
            counts[path]["ignored_folders" if is_folder else "ignored"] = count
        ignored = [
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query(
                "SELECT path, reason, is_folder FROM ignored ORDER BY path"
            )
        ]
        return IndexStats(
            folders=folders,
            files=files,
            indexed=indexed,
            failed=problems["failed"],
            skipped=problems["skipped"],
            chunks=chunks,
            space=self.embedding_space(),
            schema_version=SCHEMA_VERSION,
            path=self.path,
            ignored=ignored,
            cut=cut,
            folder_counts=counts,
            waiting=self.pending_work(),
            vector_search=(
                f"sqlite-vec, exact below {self.coarse_from_chunks:,} chunks, then binary codes in memory "
                "rescored with int8 copies"
            ),
        )
