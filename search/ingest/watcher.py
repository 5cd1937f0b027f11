"""Keep indexed folders true while Fathom runs, with watchdog.

Events are coalesced by path: a burst (a git checkout, an unzip, an editor saving through a
temporary file and a rename) becomes one update per path once the burst has settled. A file
still being written (its size or mtime still moving) waits until it is stable. Renames move
the stored records instead of embedding the file again.

Events can be lost: the kernel's queue overflows, a subfolder finds the system's limit of
watches full (watchdog then skips it without a word), a network share sends none. So every
folder is also rescanned now and then (stat only, cheap when nothing changed), at once after
an overflow, and every minute or so where a folder could not be watched at all.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from watchdog.events import (
    DirModifiedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
    FileSystemMovedEvent,
)
from search.ingest.indexer import Indexer
from search.ingest.inotify import make_observer
from search.ingest.progress import Progress
from search.ingest.report import IndexReport
from search.ingest.rules import inside_never_indexed

log = logging.getLogger(__name__)
SETTLE_SECONDS = 1.0
RESCAN_SECONDS = 30 * 60  # a safety net under the events of watched folders
POLL_SECONDS = 60.0  # folders that could not be watched: at least this often
_TICK = 0.2


@dataclass
class _Seen:
    last_event: float
    stat: tuple[int, int] | None


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class ChangeQueue:
    """Paths that changed, de-duplicated, handed out once quiet for `settle` seconds."""

    def __init__(self, settle: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.settle = settle
        self.clock = clock
        self._lock = threading.Lock()
        self._paths: dict[str, _Seen] = {}
        self._moves: list[tuple[str, str]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._paths) + len(self._moves)

    def touch(self, path: str) -> None:
        with self._lock:
            self._paths[path] = _Seen(self.clock(), _stat(path))

    def moved(self, old: str, new: str) -> None:
        with self._lock:
            self._moves.append((old, new))
            now = self.clock()
            for path in (old, new):  # later events on either path wait for the move
                if path in self._paths:
                    self._paths[path].last_event = now

    def due(self) -> tuple[list[tuple[str, str]], list[str]]:
        """Moves, then paths, that are ready. A path whose stat still moves waits longer."""
        now = self.clock()
        with self._lock:
            moves, self._moves = self._moves, []
            ready = []
            for path, seen in list(self._paths.items()):
                if now - seen.last_event < self.settle:
                    continue
                current = _stat(path)
                if current != seen.stat:  # still being written: check again later
                    self._paths[path] = _Seen(now, current)
                    continue
                ready.append(path)
                del self._paths[path]
        return moves, ready


class _Handler(FileSystemEventHandler):
    def __init__(self, changes: ChangeQueue, roots: Callable[[], Sequence[Path]]):
        self.changes = changes
        self.roots = roots  # the folders watched: the rule applies to the part inside them

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, DirModifiedEvent) or event.event_type in ("opened", "closed_no_write"):
            return  # a folder's own mtime moving says nothing its files don't say
        src = os.fsdecode(event.src_path)
        roots = self.roots()
        if isinstance(event, FileSystemMovedEvent):
            dest = os.fsdecode(event.dest_path)
            if noise(src, roots, event.is_directory) and noise(dest, roots, event.is_directory):
                return
            self.changes.moved(src, dest)
        elif not noise(src, roots, event.is_directory):
            self.changes.touch(src)


def noise(path: str, roots: Sequence[Path], is_dir: bool = False) -> bool:
    """Events inside .git, node_modules and the like (often thousands): never indexed, by
    the rule applied to the part of the path inside the innermost watched folder."""
    where = Path(path)
    inside = [root for root in roots if root == where or root in where.parents]
    if not inside:
        return False  # not ours to judge: the indexer ignores paths outside its folders
    root = max(inside, key=lambda r: len(r.parts))
    return inside_never_indexed(where, root, is_dir) is not None


class Watcher:
    """Watches folders and applies their changes through the indexer, on its own thread."""

    def __init__(
        self,
        indexer: Indexer,
        folders: Sequence[Path],
        settle: float = SETTLE_SECONDS,
        on_report: Callable[[IndexReport], None] | None = None,
        progress: Progress | None = None,
        rescan_every: float = RESCAN_SECONDS,
        poll_every: float = POLL_SECONDS,
    ):
        self.indexer = indexer
        self.changes = ChangeQueue(settle)
        self.on_report = on_report
        self.progress = progress
        self.rescan_every = rescan_every
        self.poll_every = poll_every
        self._handler = _Handler(self.changes, lambda: self.folders)
        self._observer = make_observer()
        self._overflow = OverflowListener(self.rescan_soon)
        self._lock = threading.Lock()
        self._watches: dict[Path, object] = {}
        self.polled: dict[Path, str] = {}  # folders followed by rescans only, and why
        self._next_scan: dict[Path, float] = {}
        self._pending = list(folders)
        self._started = False
        self._stop = threading.Event()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fathom-watcher", daemon=True)
        self.errors: list[str] = []

    def add(self, folder: Path) -> None:
        """Follow a folder: with events where the system allows it, by rescans otherwise."""
        if not self._started:
            self._pending.append(folder)
            return
        with self._lock:
            if folder in self._watches or folder in self.polled:
                return
        try:  # outside the lock: watching a big tree takes a while
            watch = self._observer.schedule(self._handler, str(folder), recursive=True)
        except OSError as exc:
            log.warning("cannot watch %s (%s); checking it every %.0f s", folder, exc, self.poll_every)
            with self._lock:
                self.polled[folder] = not_watchable(exc)
                self._next_scan[folder] = time.monotonic() + self.poll_every
            return
        with self._lock:
            self._watches[folder] = watch
            self._next_scan[folder] = time.monotonic() + self.rescan_every

    def remove(self, folder: Path) -> None:
        with self._lock:
            watch = self._watches.pop(folder, None)
            self.polled.pop(folder, None)
            self._next_scan.pop(folder, None)
        if watch is not None:
            self._observer.unschedule(watch)

    @property
    def folders(self) -> list[Path]:
        """Every folder followed, watched or polled."""
        with self._lock:
            return [*self._watches, *self.polled] if self._started else list(self._pending)

    def rescan_soon(self) -> None:
        """Rescan every folder at the next tick (after events were lost)."""
        with self._lock:
            self._next_scan = dict.fromkeys(self._next_scan, 0.0)

    def start(self) -> "Watcher":
        self._observer.start()
        self._overflow.attach()
        self._started = True
        for folder in self._pending:
            self.add(folder)
        self._pending = []
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._overflow.detach()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._thread.join(timeout=30)

    def __enter__(self) -> "Watcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def idle(self) -> bool:
        """No change waiting (tests and the page use this to know search is up to date)."""
        return len(self.changes) == 0 and not self._busy.is_set()

    def _loop(self) -> None:
        while not self._stop.wait(_TICK):
            self._busy.set()
            try:
                moves, paths = self.changes.due()
                for old, new in moves:
                    self._report(self.indexer.move(Path(old), Path(new), self.progress))
                if paths:
                    self._report(self.indexer.update_paths([Path(p) for p in paths], self.progress))
                for folder in self._rescans_due():
                    self._report(self.indexer.update_paths([folder], self.progress))
            except Exception as exc:  # keep watching: one bad update must not stop the watcher
                log.exception("watcher update failed")
                self.errors.append(f"{exc.__class__.__name__}: {exc}")
            finally:
                self._busy.clear()

    def _rescans_due(self) -> list[Path]:
        """Folders whose rescan is due, rescheduled. A folder missing on disk (an unplugged
        drive, say) is not rescanned: its files stay searchable until it is removed."""
        now = time.monotonic()
        with self._lock:
            due = [f for f, at in self._next_scan.items() if at <= now]
            for folder in due:
                self._next_scan[folder] = now + (self.poll_every if folder in self.polled else self.rescan_every)
        return [f for f in due if f.is_dir()]

    def _report(self, report: IndexReport) -> None:
        if self.on_report is not None:
            self.on_report(report)


def not_watchable(exc: OSError) -> str:
    """Why a folder is polled instead of watched, as a person can act on it."""
    if exc.errno == errno.ENOSPC:
        return (
            "the system's limit of watched folders is reached; raise it with "
            "`sudo sysctl fs.inotify.max_user_watches=524288`"
        )
    if exc.errno == errno.EMFILE:
        return (
            "the system's limit of file watchers is reached; raise it with "
            "`sudo sysctl fs.inotify.max_user_instances=1024`"
        )
    return f"it cannot be watched ({exc.strerror or exc})"


class OverflowListener(logging.Filter):
    """watchdog only logs when the kernel drops events (its queue overflowed): listen for it.
    A filter, not a handler, so that the record still goes wherever it went before."""

    _LOGGER = "watchdog.observers.inotify"

    def __init__(self, on_overflow: Callable[[], None]):
        super().__init__()
        self.on_overflow = on_overflow

    def filter(self, record: logging.LogRecord) -> bool:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()
        return True

    def attach(self) -> None:
        logging.getLogger(self._LOGGER).addFilter(self)

    def detach(self) -> None:
        logging.getLogger(self._LOGGER).removeFilter(self)
