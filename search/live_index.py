"""One live index: what keeps the indexed folders searchable while Fathom runs, for the page
and `index --watch` alike (they only show it).

The words phase: a worker thread that brings folders up to date (the catch-up at start, a
folder added, a folder read again, a model change), and a watcher, started first, that follows
changes meanwhile; it needs no model, so files are searchable by their words at once, even
while the model loads or if it cannot. The meaning phase: a second thread that embeds what
waits, in two lanes: the files the watcher just wrote go before the catch-up. `view()` says
where it all stands; nothing here waits on whoever shows it.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from search.errors import FathomError
from search.ingest.indexer import IndexReport, Progress
from storage import StorageError

log = logging.getLogger(__name__)
STATS_SECONDS = 1.0  # how long a count of the index is reused (every open page polls it)
LANE_PATHS = 1000  # files the person changed that go first, the newest kept
RETRY_SECONDS = 30.0  # a meaning phase stopped by a server or model error is tried again


class Models(Protocol):
    """Whether the embedding model is loaded (the page's ModelLoader); without one, the
    meaning phase loads the model itself."""

    @property
    def ready(self) -> bool: ...

    @property
    def failed(self) -> bool: ...


class LoadsOnItsOwn:
    """For `index --watch`: the meaning phase loads the model when it first needs it."""

    ready = True
    failed = False


class Cancelled(Exception):
    """Raised from the progress listener to stop an indexing run between two files."""


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


class LiveIndex:
    def __init__(
        self,
        engine: Any,
        loader: Models | None = None,
        on_report: Callable[[IndexReport, bool], None] | None = None,
        on_embedded: Callable[[Any], None] | None = None,
        retry: bool = False,
    ):
        self.engine = engine
        self.loader = loader or LoadsOnItsOwn()
        self.on_report = on_report  # each run of the words phase: (report, whether a catch-up's)
        self.on_embedded = on_embedded  # each run of the meaning phase (a MeaningReport)
        self._lane: dict[str, None] = {}  # paths the watcher wrote, oldest first
        self._lane_lock = threading.Lock()
        self._retry = retry  # the first catch-up tries failed and skipped files again
        self._cond = threading.Condition()
        self._dirty: list[Path] = list(engine.folders())  # catch up with what changed meanwhile
        self._fresh: set[Path] = set()  # to read again from scratch (old results stay meanwhile)
        self._removals: list[Path] = []
        self._running: list[Path] = []
        self._cancel = False
        self._stop = False
        self._started = False
        self.progress: Progress | None = None
        self.watcher: Any = None
        self.notice: str | None = None
        self.error: str | None = None
        self.watch_error: str | None = None
        self.last_run: str | None = None
        self.last_change: float | None = None
        self._stats: tuple[float, Any] = (0.0, None)
        self._thread = threading.Thread(target=self._loop, name="fathom-library", daemon=True)
        self._embed_wake = threading.Event()  # something may wait for its vectors
        self._embed_wake.set()  # at start: what an earlier run left
        self._embed_stop = threading.Event()
        self._embedding = False
        self.meaning: Progress | None = None
        self.embed_error: str | None = None
        self._meaning_thread = threading.Thread(target=self._embed_loop, name="fathom-meaning", daemon=True)

    # -- what the page asks for ----------------------------------------------------------------

    def start(self) -> "LiveIndex":
        with self._cond:
            if self._started or self._stop:
                return self
            self._started = True
        self._thread.start()
        self._meaning_thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stop = self._cancel = True
            self._cond.notify_all()
        self._embed_stop.set()
        for thread in (self._thread, self._meaning_thread):
            if thread.is_alive():
                thread.join(timeout)
        if self.watcher is not None:
            self.watcher.stop()

    def add(self, folder: Path) -> None:
        """A new folder: listed at once, read at once (searchable by its words), embedded as
        soon as the model is there."""
        self.engine.store.add_folder(str(folder))
        self._forget_stats()
        with self._cond:
            self._queue(folder)

    def folders(self) -> list[Path]:
        return self.engine.folders()

    def reindex(self, folder: Path) -> None:
        """Read and embed a folder again from scratch (failed files get another try); its old
        results stay searchable until the new ones replace them, file by file."""
        with self._cond:
            self._fresh.add(folder)
            self._queue(folder)
            if folder in self._running:
                self._cancel = True

    def remove(self, folder: Path) -> None:
        with self._cond:
            self._dirty = [f for f in self._dirty if f != folder]
            self._fresh.discard(folder)
            self._removals.append(folder)
            if folder in self._running:
                self._cancel = True
            self._cond.notify_all()

    def idle(self, words_only: bool = False) -> bool:
        """Nothing to read or remove, the watcher quiet, and (unless `words_only`, or the model
        cannot load) nothing left to embed."""
        with self._cond:
            busy = bool(self._dirty or self._removals or self._running)
        if busy or (self.watcher is not None and not self.watcher.idle()):
            return False
        if words_only or self.loader.failed:
            return True
        return not self._embedding and not self._embed_wake.is_set() and self.engine.store.pending_work().chunks == 0

    def wait_idle(self, timeout: float, words_only: bool = False) -> bool:
        """For tests and scripts: wait until everything asked for is done (or failed)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.idle(words_only):
                return True
            time.sleep(0.05)
        return False

    def view(self) -> LibraryView:
        stats = self._stats_now()
        with self._cond:
            dirty, running, removing = list(self._dirty), list(self._running), list(self._removals)
        watched = set(self.watcher.folders) if self.watcher is not None else set()
        polled = dict(self.watcher.polled) if self.watcher is not None else {}
        folders = []
        for path, files in stats.folders:
            folder = Path(path)
            counts = stats.folder_counts.get(path, {})
            state = self._folder_state(folder, dirty, running, removing, watched, polled, counts)
            folders.append(FolderView(path, files, *state))
        progress, meaning = self.progress, self.meaning
        return LibraryView(
            folders=folders,
            busy=bool(running or dirty or removing),
            progress=progress.to_json() if progress is not None and running else None,
            waiting=stats.waiting,
            embedding=meaning.to_json() if meaning is not None and self._embedding and meaning.phase == "meaning" else None,
            embed_error=self.embed_error,
            running=[str(f) for f in running],
            notice=self.notice,
            error=self.error,
            last_run=self.last_run,
            last_change=self.last_change,
            watch_error=self.watch_error,
            indexed_files=stats.indexed,
            chunks=stats.chunks,
            failed=list(stats.failed),
            skipped=list(stats.skipped),
            ignored=[(i.path, i.reason, i.is_folder) for i in stats.ignored],
            cut=list(stats.cut),
        )

    def _folder_state(
        self,
        folder: Path,
        dirty: list[Path],
        running: list[Path],
        removing: list[Path],
        watched: set[Path],
        polled: dict[Path, str],
        counts: dict[str, int],
    ) -> tuple[str, str]:
        if folder in removing:
            return "removing", "Removing it from the index"
        if not folder.is_dir():
            return "missing", "Not found on disk: its files stay searchable until you remove it"
        if folder in running:
            return "indexing", "Reading its files: each is searchable by its words once read"
        if folder in dirty:
            return "queued", "Queued for indexing"
        waiting, indexed = counts.get("waiting", 0), counts.get("indexed", 0)
        if waiting and not self.loader.failed:
            return "embedding", (
                f"Embedding: {indexed - waiting} of {indexed} files searchable by meaning; "
                "the others by their words until then"
            )
        if waiting:
            return "waiting", f"{waiting} of {indexed} files searchable by their words only: the model did not load"
        if folder in polled:
            every = round(self.watcher.poll_every)  # polled folders come from the watcher
            return "polling", f"Up to date; checked for changes every {every} s, since {polled[folder]}"
        if folder in watched:
            return "watching", "Up to date; watching for changes"
        if self.watch_error:
            return "indexed", "Indexed; not watched: " + self.watch_error
        return "indexed", "Indexed"

    # -- the worker ------------------------------------------------------------------------------

    def _queue(self, folder: Path) -> None:
        if folder not in self._dirty:
            self._dirty.append(folder)
        self._cond.notify_all()

    def _loop(self) -> None:
        self._watch()  # changes are followed from the first second, during the catch-up too
        while True:
            with self._cond:
                while not self._stop and not self._removals and not self._dirty:
                    self._cond.wait(0.2)
                if self._stop:
                    return
                removals, self._removals = self._removals, []
                if removals:
                    self._running = []
                else:
                    folders = list(dict.fromkeys(self._dirty))
                    self._dirty = []
                    fresh = [f for f in folders if f in self._fresh]
                    self._fresh -= set(fresh)
                    self._running, self._cancel = folders, False
            if removals:
                for folder in removals:
                    self._remove(folder)
                continue
            try:
                self._index(folders, fresh)
                self._watch()  # before the run counts as done: idle means watched too
            finally:
                with self._cond:
                    self._running = []
                self._forget_stats()

    def _index(self, folders: list[Path], fresh: list[Path]) -> None:
        present = [f for f in folders if f.is_dir()]
        if not present:
            return
        self.error = None
        try:
            self.progress = Progress(listener=self._check)
            report, notice = self.engine.read(present, self.progress, fresh=fresh, retry=self._retry)
            self._retry = False
        except Cancelled:
            with self._cond:  # start again later; files already written are kept
                self._fresh |= {f for f in fresh if f not in self._removals}
                for folder in reversed(folders):
                    if folder not in self._removals and folder not in self._dirty and not self._stop:
                        self._dirty.insert(0, folder)
            return
        except (FathomError, StorageError) as exc:
            self.error = str(exc)
            return
        except Exception as exc:  # the worker must outlive one bad run
            log.exception("indexing failed")
            self.error = f"Indexing stopped: {exc.__class__.__name__}: {exc}"
            return
        if notice:
            self.notice = notice
        self.last_run = describe_report(report)
        self._embed_wake.set()
        if self.on_report is not None:
            self.on_report(report, True)

    def _embed_loop(self) -> None:
        """The meaning phase: once the model is loaded, embed whatever waits, again each time
        the words phase writes something; the files the watcher wrote go first."""
        while not self._embed_stop.is_set():
            if not self.loader.ready or not self._embed_wake.wait(0.5):
                self._embed_stop.wait(0.2)
                continue
            self._embed_wake.clear()
            self._embedding = True
            try:
                self.meaning = Progress()
                embedded = self.engine.embed(self.meaning, stop=self._embed_stop, first=self._first)
                self.embed_error = None
                if embedded.failed:
                    self._forget_stats()
                if self.on_embedded is not None:
                    self.on_embedded(embedded)
            except (FathomError, StorageError) as exc:
                self.embed_error = str(exc)
                self._embed_stop.wait(RETRY_SECONDS)  # a server that is down: try again a little later
                self._embed_wake.set()
            except Exception as exc:  # the worker must outlive one bad run
                log.exception("embedding failed")
                self.embed_error = f"Embedding stopped: {exc.__class__.__name__}: {exc}"
            finally:
                self._embedding = False
                self._forget_stats()

    def _first(self) -> list[str]:
        """The lane that goes first: files the watcher wrote, newest first."""
        with self._lane_lock:
            return list(reversed(self._lane))

    def _check(self, progress: Progress) -> None:
        if self._cancel:
            raise Cancelled()

    def _remove(self, folder: Path) -> None:
        if self.watcher is not None:
            self.watcher.remove(folder)
        try:
            self.engine.remove_folder(folder)
        except FathomError:
            pass  # already gone
        except StorageError as exc:
            self.error = str(exc)
        self._forget_stats()

    def _watch(self) -> None:
        """Watch every indexed folder that exists (a folder that cannot be watched is said)."""
        from search.ingest.watcher import Watcher

        try:
            if self.watcher is None:
                self.watcher = Watcher(self.engine.words(), [], on_report=self._changed).start()
            for folder in self.engine.folders():
                if folder.is_dir() and folder not in self.watcher.folders:
                    self.watcher.add(folder)
        except Exception as exc:  # e.g. the system's limit of watched folders
            self.watch_error = (
                f"{exc}. Changes are picked up at the next start or when you press Re-index."
            )

    def _changed(self, report: IndexReport) -> None:
        if report.written:
            with self._lane_lock:
                for path in report.written:
                    self._lane.pop(path, None)
                    self._lane[path] = None
                for path in list(self._lane)[: max(0, len(self._lane) - LANE_PATHS)]:
                    del self._lane[path]
        if report.added or report.updated or report.removed or report.moved or report.failed or report.skipped:
            self.last_change = time.time()
            self.last_run = describe_report(report)
            self._forget_stats()
            self._embed_wake.set()
            if self.on_report is not None:
                self.on_report(report, False)

    def _stats_now(self) -> Any:
        at, stats = self._stats
        if stats is None or time.monotonic() - at > STATS_SECONDS:
            stats = self.engine.store.stats()
            self._stats = (time.monotonic(), stats)
        return stats

    def _forget_stats(self) -> None:
        self._stats = (0.0, None)


def describe_report(report: IndexReport) -> str:
    parts = [f"{report.added} new", f"{report.updated} updated", f"{report.unchanged} unchanged"]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.moved:
        parts.append(f"{report.moved} moved")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    return ", ".join(parts) + " file(s)"
