"""What an index holds, counted for `status`, in SQL both backends answer alike."""
from __future__ import annotations

from typing import Callable

from storage.common.base import StoreBase
from storage.records import IgnoredPath, IndexStats, PendingWork


class Stats(StoreBase):
    # the backend's: its newest migration, and the calls of its other mixins counted on here
    schema_version: int
    pending_work: Callable[[], PendingWork]
    vector_search: Callable[[], str]  # how vector search runs on this index, in words

    def stats(self) -> IndexStats:
        folders = [(path, count) for path, count in self._query(
            "SELECT d.path, COUNT(f.id) FROM folders d LEFT JOIN files f ON f.folder_id = d.id GROUP BY d.id ORDER BY d.path"
        )]
        (files, indexed), = self._query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'indexed' THEN 1 ELSE 0 END), 0) FROM files"
        )
        problems: dict[str, list[tuple[str, str]]] = {"failed": [], "skipped": []}
        for status, path, error in self._query(
            "SELECT status, path, error FROM files WHERE status != 'indexed' ORDER BY path"
        ):
            problems[status].append((path, error))
        cut = [(path, error) for path, error in self._query(
            "SELECT path, error FROM files WHERE status = 'indexed' AND error IS NOT NULL ORDER BY path"
        )]
        (chunks,), = self._query("SELECT COUNT(*) FROM chunks")
        ignored = [
            IgnoredPath(path, reason, bool(is_folder))
            for path, reason, is_folder in self._query("SELECT path, reason, is_folder FROM ignored ORDER BY path")
        ]
        return IndexStats(
            folders=folders,
            files=files,
            indexed=int(indexed),
            failed=problems["failed"],
            skipped=problems["skipped"],
            chunks=chunks,
            space=self.embedding_space(),
            schema_version=self.schema_version,
            path=self.path,
            ignored=ignored,
            cut=cut,
            folder_counts=self._folder_counts([path for path, _ in folders]),
            waiting=self.pending_work(),
            vector_search=self.vector_search(),
        )

    def _folder_counts(self, paths: list[str]) -> dict[str, dict[str, int]]:
        """Per folder: its files by status, those whose vectors are still to come (`waiting`),
        and what it leaves out by rule (`ignored`, `ignored_folders`)."""
        counts: dict[str, dict[str, int]] = {
            path: {"indexed": 0, "failed": 0, "skipped": 0, "ignored": 0, "ignored_folders": 0, "waiting": 0}
            for path in paths
        }
        by_folder = "FROM folders d JOIN files f ON f.folder_id = d.id"
        for path, status, count in self._query(f"SELECT d.path, f.status, COUNT(*) {by_folder} GROUP BY d.id, f.status"):
            counts[path][status] = count
        for path, count in self._query(
            f"SELECT d.path, COUNT(*) {by_folder} WHERE f.status = 'indexed' AND f.embedded = {self.dialect.false} "
            "GROUP BY d.id"
        ):
            counts[path]["waiting"] = count
        for path, is_folder, count in self._query(
            "SELECT d.path, i.is_folder, COUNT(*) FROM folders d JOIN ignored i ON i.folder_id = d.id "
            "GROUP BY d.id, i.is_folder"
        ):
            counts[path]["ignored_folders" if is_folder else "ignored"] = count
        return counts
