"""The live index: what keeps the indexed folders searchable while Fathom runs, for the page
and `index --watch` alike (they only show it).

- service.py: `LiveIndex`: the watcher, the catch-up and folder work in a words thread;
- meaning_thread.py: the meaning phase in a thread of its own, with its two lanes;
- view.py: where it all stands, for the page and the terminal.
"""
from __future__ import annotations

from search.live.service import Cancelled, LiveIndex, LoadsOnItsOwn, Models
from search.live.view import FolderView, LibraryView

__all__ = ["Cancelled", "FolderView", "LibraryView", "LiveIndex", "LoadsOnItsOwn", "Models"]
