"""The meaning phase of a live index (search/live/service.py): a thread that, once the model is
loaded, embeds whatever waits, again each time it is woken, in two lanes: the files the
watcher just wrote go before the catch-up."""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from search.errors import FathomError
from search.ingest.progress import Progress
from storage import StorageError

log = logging.getLogger(__name__)
LANE_PATHS = 1000  # files the person changed that go first, the newest kept
RETRY_SECONDS = 30.0  # a meaning phase stopped by a server or model error is tried again


class MeaningWorker:
    def __init__(
        self,
        engine: Any,
        loader: Any,
        on_embedded: Callable[[Any], None] | None = None,
        on_counts: Callable[[], None] = lambda: None,
    ):
        self.engine = engine
        self.loader = loader  # whether the model is loaded (live_index.Models)
        self.on_embedded = on_embedded  # each run (a MeaningReport)
        self.on_counts = on_counts  # the index's counts changed
        self.progress: Progress | None = None  # of the run going on, or the last one
        self.error: str | None = None  # why the last run stopped (the files keep their words)
        self.running = False
        self._lane: dict[str, None] = {}  # paths the watcher wrote, oldest first
        self._lane_lock = threading.Lock()
        self._wake = threading.Event()  # something may wait for its vectors
        self._wake.set()  # at start: what an earlier run left
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fathom-meaning", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop (join it with `join`)."""
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        """Something was written: embed what waits."""
        self._wake.set()

    def put_first(self, written: Iterable[str]) -> None:
        """These files, just written by the watcher, go before any other (the newest first)."""
        with self._lane_lock:
            for path in written:
                self._lane.pop(path, None)
                self._lane[path] = None
            for path in list(self._lane)[: max(0, len(self._lane) - LANE_PATHS)]:
                del self._lane[path]

    def idle(self) -> bool:
        return not self.running and not self._wake.is_set() and self.engine.store.pending_work().chunks == 0

    def shown(self) -> dict[str, Any]:
        """Its fields of a LibraryView: the run going on, and why the last one stopped."""
        progress = self.progress
        going = progress is not None and self.running and progress.phase == "meaning"
        return {"embedding": progress.to_json() if going else None, "embed_error": self.error}

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.loader.ready or not self._wake.wait(0.5):
                self._stop.wait(0.2)
                continue
            self._wake.clear()
            self.running = True
            try:
                self._embed()
            except (FathomError, StorageError) as exc:
                self.error = str(exc)
                self._stop.wait(RETRY_SECONDS)  # a server that is down: try again a little later
                self._wake.set()
            except Exception as exc:  # the worker must outlive one bad run
                log.exception("embedding failed")
                self.error = f"Embedding stopped: {exc.__class__.__name__}: {exc}"
            finally:
                self.running = False
                self.on_counts()

    def _embed(self) -> None:
        self.progress = Progress()
        embedded = self.engine.embed(self.progress, stop=self._stop, first=self._first)
        self.error = None
        if embedded.failed:
            self.on_counts()
        if self.on_embedded is not None:
            self.on_embedded(embedded)

    def _first(self) -> list[str]:
        """The lane that goes first: files the watcher wrote, newest first."""
        with self._lane_lock:
            return list(reversed(self._lane))
