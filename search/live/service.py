"""One live index: what keeps the indexed folders searchable while Fathom runs, for the page
and `index` in a terminal alike (they only show it).

The words phase: a worker thread that brings folders up to date (the catch-up at start, a
folder added, a folder read again, a model change), and a watcher, started first, that follows
changes meanwhile; it needs no model, so files are searchable by their words at once, even
while the model loads or if it cannot. The meaning phase: a second thread that embeds what
waits (search/live/meaning_thread.py). `view()` says where it all stands (search/live/view.py);
nothing here waits on whoever shows it.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from search.errors import FathomError
from search.ingest.progress import Progress
from search.ingest.report import IndexReport, describe_report
from search.live.meaning_thread import MeaningWorker
from search.live.view import Activity, FolderView, LibraryView, counted
from storage import StorageError

log = logging.getLogger(__name__)
STATS_SECONDS = 1.0  # how long a count of the index is reused (every open page polls it)
_SAID = ("notice", "error", "last_run", "last_change", "watch_error")  # shown as they are kept


class Models(Protocol):
    """Whether the embedding model is loaded (the page's ModelLoader); without one, the
    meaning phase loads the model itself."""

    @property
    def ready(self) -> bool: ...

    @property
    def failed(self) -> bool: ...


class LoadsOnItsOwn:
    """For `index` watching in a terminal: the meaning phase loads the model when it first needs it."""

    ready = True
    failed = False


class Cancelled(Exception):
    """Raised from the progress listener to stop an indexing run between two files."""


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
        self._meaning = MeaningWorker(engine, self.loader, on_embedded, self._forget_stats)

    @property
    def embed_error(self) -> str | None:
        """Why the meaning phase stopped (the files keep their words)."""
        return self._meaning.error

    # -- what the page asks for ----------------------------------------------------------------

    def start(self) -> "LiveIndex":
        with self._cond:
            if self._started or self._stop:
                return self
            self._started = True
        self._thread.start()
        self._meaning.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stop = self._cancel = True
            self._cond.notify_all()
        self._meaning.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._meaning.join(timeout)
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
        return words_only or self.loader.failed or self._meaning.idle()

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
        now = self._activity()
        folders = [FolderView(path, files, *now.state(Path(path), stats.folder_counts.get(path, {})))
                   for path, files in stats.folders]
        progress = self.progress
        return LibraryView(
            folders=folders,
            busy=now.busy,
            progress=progress.to_json() if progress is not None and now.running else None,
            running=[str(f) for f in now.running],
            **{name: getattr(self, name) for name in _SAID},
            **self._meaning.shown(),
            **counted(stats),
        )

    def _activity(self) -> Activity:
        with self._cond:
            dirty, running, removing = list(self._dirty), list(self._running), list(self._removals)
        watcher = self.watcher
        return Activity(
            dirty, running, removing,
            watched=set(watcher.folders) if watcher is not None else set(),
            polled=dict(watcher.polled) if watcher is not None else {},
            poll_every=watcher.poll_every if watcher is not None else 0.0,
            model_failed=self.loader.failed,
            watch_error=self.watch_error,
        )

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
        self._meaning.wake()
        if self.on_report is not None:
            self.on_report(report, True)

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
            self._meaning.put_first(report.written)
        if report.added or report.updated or report.removed or report.moved or report.failed or report.skipped:
            self.last_change = time.time()
            self.last_run = describe_report(report)
            self._forget_stats()
            self._meaning.wake()
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
