"""watchdog's Linux observer, without watches inside folders that are never indexed.

A recursive inotify watch is one kernel watch per folder, and watchdog walks the whole tree to
place them: a home folder's node_modules, .git and virtualenvs can hold more folders than
everything a person wants searched, and fill the system's limit of watches. This observer
leaves those out (the one rule of search/ingest/rules.py, which the walk follows too), below
the watched folder only. It leans on watchdog 7's InotifyWatchGroup; with any other watchdog, or another
system, `make_observer` returns watchdog's own observer.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from watchdog.observers import Observer

from search.ingest.rules import folder_reason


def make_observer() -> Any:
    try:
        from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup
    except ImportError:  # not Linux, or a watchdog without these classes
        return Observer()
    if Observer is not InotifyObserver or not hasattr(InotifyWatchGroup, "_add_all_callbacks"):
        return Observer()

    def never_indexed(folder: bytes) -> bool:
        path = Path(os.fsdecode(folder))
        return folder_reason(path.name, path) is not None

    class PrunedWatchGroup(InotifyWatchGroup):
        def _add_all_callbacks(self, path: bytes) -> None:
            if path != self.path and never_indexed(path):
                return  # e.g. a node_modules created inside a watched folder
            self._add_callback(path)
            if not (self.is_recursive and os.path.isdir(path)):
                return
            for root, dirnames, _ in os.walk(path, followlinks=self.follow_symlink):
                dirnames[:] = [d for d in dirnames if not never_indexed(os.path.join(root, d))]
                for dirname in dirnames:
                    full_path = os.path.join(root, dirname)
                    if self.follow_symlink or not os.path.islink(full_path):
                        self._add_callback(full_path)

    class PrunedEmitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            self._inotify = PrunedWatchGroup(
                self._inotify_fd,
                os.fsencode(self.watch.path),
                is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(),
                follow_symlink=self.watch.follow_symlink,
            )

    observer = InotifyObserver()
    if getattr(observer, "_emitter_class", None) is not InotifyEmitter:
        return observer
    observer._emitter_class = PrunedEmitter
    return observer
