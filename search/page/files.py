"""Which files the page may hand to a browser: only files Fathom indexed, inside a folder it
indexes, after every symlink and `..` is followed. Anything else gets nothing, whatever path
a crafted request carries: the page may be shared, and a share link reaches the internet.

No Gradio here, so the check is tested on its own.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

KEEP_COPIES = 20  # copies handed out recently; older ones are deleted


def servable_file(
    path: str | Path | None,
    folders: Iterable[str | Path],
    is_indexed: Callable[[str], bool],
) -> Path | None:
    """The real path of an indexed file inside an indexed folder, else None.

    `path` must be absolute (a relative one would be read against the server's own folder);
    it is resolved with every symlink followed, and the real file must lie inside the real
    path of one of `folders`. The path as given must also be a file that Fathom indexed,
    which leaves out what indexing skipped on purpose (hidden files such as `.env`, `.git`).
    """
    if path is None:
        return None
    text = str(path)
    if not text or "\x00" in text:
        return None
    given = Path(text)
    if not given.is_absolute():
        return None
    try:
        real = given.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    if not real.is_file():
        return None
    if not any(_inside(real, folder) for folder in folders):
        return None
    if not is_indexed(text):
        return None
    return real


def _inside(real: Path, folder: str | Path) -> bool:
    try:
        root = Path(folder).resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return real == root or root in real.parents


class FileCopies:
    """Copies of files handed to the browser, in a private temporary folder.

    Gradio serves a file an event returns only from its temporary folders, so the page
    copies the checked file there; the real folders are never opened to the web server.
    """

    def __init__(self, keep: int = KEEP_COPIES):
        self.root = Path(tempfile.mkdtemp(prefix="fathom-files-"))
        self.keep = keep
        self._count = 0
        self._lock = threading.Lock()

    def copy(self, real: Path) -> Path:
        with self._lock:
            self._count += 1
            slot = self.root / str(self._count)
            stale = self.root / str(self._count - self.keep)
        shutil.rmtree(stale, ignore_errors=True)
        slot.mkdir()
        target = slot / real.name
        shutil.copyfile(real, target)
        return target

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
