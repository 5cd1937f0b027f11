"""What a live index shows (search/live/service.py): each folder's state in words, and the whole
index at one moment, for the page and `index` in a terminal alike."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FolderView:
    path: str
    files: int
    state: str  # watching, polling, indexing, queued, embedding, waiting, removing, missing, indexed
    detail: str = ""


@dataclass(frozen=True)
class LibraryView:
    folders: list[FolderView]
    busy: bool
    progress: dict[str, Any] | None  # Progress.to_json() of the run going on
    running: list[str]
    notice: str | None  # e.g. the index is re-embedded with a new model
    error: str | None
    last_run: str | None  # what the last run did, as words
    last_change: float | None  # time.time() of the last change the watcher picked up
    watch_error: str | None
    indexed_files: int
    chunks: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str, bool]] = field(default_factory=list)  # path, reason, is a folder
    cut: list[tuple[str, str]] = field(default_factory=list)  # indexed up to the passage limit, and why
    waiting: Any = None  # PendingWork: indexed files whose vectors are still to come
    embedding: dict[str, Any] | None = None  # Progress.to_json() of the meaning phase, while it runs
    embed_error: str | None = None  # why the meaning phase stopped (the files keep their words)


def counted(stats: Any) -> dict[str, Any]:
    """The fields of a LibraryView that a count of the index (IndexStats) gives."""
    return dict(
        indexed_files=stats.indexed, chunks=stats.chunks, waiting=stats.waiting,
        failed=list(stats.failed), skipped=list(stats.skipped), cut=list(stats.cut),
        ignored=[(i.path, i.reason, i.is_folder) for i in stats.ignored],
    )


@dataclass(frozen=True)
class Activity:
    """What a live index is doing with its folders at one moment."""

    dirty: list[Path]  # queued to be read
    running: list[Path]  # being read
    removing: list[Path]
    watched: set[Path]
    polled: dict[Path, str]  # folders checked every `poll_every` seconds, and since when
    poll_every: float
    model_failed: bool  # the embedding model did not load
    watch_error: str | None

    @property
    def busy(self) -> bool:
        return bool(self.running or self.dirty or self.removing)

    def state(self, folder: Path, counts: dict[str, int]) -> tuple[str, str]:
        """The folder's state and its detail in words; `counts`: its files by state."""
        if folder in self.removing:
            return "removing", "Removing it from the index"
        if not folder.is_dir():
            return "missing", "Not found on disk: its files stay searchable until you remove it"
        if folder in self.running:
            return "indexing", "Reading its files: each is searchable by its words once read"
        if folder in self.dirty:
            return "queued", "Queued for indexing"
        waiting, indexed = counts.get("waiting", 0), counts.get("indexed", 0)
        if waiting and not self.model_failed:
            return "embedding", (
                f"Embedding: {indexed - waiting} of {indexed} files searchable by meaning; "
                "the others by their words until then"
            )
        if waiting:
            return "waiting", f"{waiting} of {indexed} files searchable by their words only: the model did not load"
        if folder in self.polled:
            every = round(self.poll_every)
            return "polling", f"Up to date; checked for changes every {every} s, since {self.polled[folder]}"
        if folder in self.watched:
            return "watching", "Up to date; watching for changes"
        if self.watch_error:
            return "indexed", "Indexed; not watched: " + self.watch_error
        return "indexed", "Indexed"
