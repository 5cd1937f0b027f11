"""Which files the page may hand to a browser: only files Fathom indexed, inside a folder it
indexes, after every symlink and `..` is followed. Anything else gets nothing, whatever path
a crafted request carries: the page may be shared, and a share link reaches the internet.

No Gradio here, so the check is tested on its own.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from search.ingest.walk import why_ignored

KEEP_COPIES = 20  # copies handed out recently; older ones are deleted
RUNS_FOLDER = "page-files"  # in the data folder: one private folder per running page
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def servable_file(
    path: str | Path | None,
    folders: Iterable[str | Path],
    is_indexed: Callable[[str], bool],
) -> Path | None:
    """The real path of an indexed file inside an indexed folder, else None.

    `path` must be absolute (a relative one would be read against the server's own folder);
    it is resolved with every symlink followed, and the real file must lie inside the real
    path of one of `folders`. The path as given must also be a file that Fathom indexed,
    which leaves out what indexing skipped on purpose (hidden files such as `.env`, `.git`),
    and the real file must be one indexing would read too: a link to `.env` indexed before
    Fathom judged links by their target gets nothing either.
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
    roots = [root for root in map(_real_folder, folders) if root is not None and (real == root or root in real.parents)]
    if not roots:
        return None
    if all(why_ignored(real, root) is not None for root in roots):
        return None
    if not is_indexed(text):
        return None
    return real


def _real_folder(folder: str | Path) -> Path | None:
    try:
        return Path(folder).resolve(strict=True)
    except (OSError, RuntimeError):
        return None


class FileCopies:
    """Copies of files handed to the browser, in a folder of Fathom's own that only this user
    can enter: `<data folder>/page-files/<process>-<random>`, mode 0700, each copy 0600.

    Gradio serves a file an event returns only from its cache folder, and copies it there
    when it lies elsewhere (readable by everyone, under the system's temporary folder, kept
    after the page stops). The page points Gradio's cache at this folder (GRADIO_TEMP_DIR),
    so Gradio serves these copies as they are and keeps its own files here too. The real
    folders are never opened to the web server. The folder goes when the page stops, and
    what a run that did not stop cleanly left goes at the next start.
    """

    def __init__(self, data_dir: str | Path, keep: int = KEEP_COPIES):
        self.root = private_folder(Path(data_dir) / RUNS_FOLDER)
        self.keep = keep
        self._count = 0
        self._lock = threading.Lock()

    def copy(self, real: Path) -> Path:
        with self._lock:
            self._count += 1
            slot = self.root / str(self._count)
            stale = self.root / str(self._count - self.keep)
        shutil.rmtree(stale, ignore_errors=True)
        with open(real, "rb") as source:
            _private_dir(slot)
            target = slot / real.name
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(target, flags, PRIVATE_FILE), "wb") as out:
                shutil.copyfileobj(source, out)
        return target

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.parent.rmdir()  # only when no other run of Fathom is using it
        except OSError:
            pass


def private_folder(parent: Path) -> Path:
    """A new folder for this run under `parent` (both 0700), after removing the folders of
    runs that are over."""
    _private_dir(parent, parents=True)
    for leftover in parent.iterdir():
        owner = leftover.name.split("-", 1)[0]
        if owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))  # 0700 by mkdtemp


def _private_dir(path: Path, parents: bool = False) -> None:
    path.mkdir(mode=PRIVATE_DIR, parents=parents, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)  # also when it was there already, or the umask took bits off


def _running(pid: int) -> bool:
    """Whether the process that made a folder still runs (and may still hand out its files)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # no cheap, harmless check there: a folder left behind is stale
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
