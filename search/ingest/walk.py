"""Find the files under a folder that Fathom reads, and say why each of the others is left
out: the folders and formats that are never indexed (search/ingest/rules.py), whatever the
folder's own `.gitignore` files exclude, links that lead outside the folder, and links to a
file that would be left out itself (`visible.txt -> .env` is never read, as `.env` is not)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pathspec

from search.ingest.rules import file_reason, folder_reason, inside_never_indexed

__all__ = ["GitIgnores", "Walk", "walk", "wanted", "why_ignored"]
GITIGNORED = "excluded by a .gitignore"
LINK_OUTSIDE = "a link to outside the folder"
LINKED_FOLDER = "a link to a folder (links to folders are not followed)"
LINK_TO_IGNORED = "a link to a file that is never read"


@dataclass
class Walk:
    """Files found under a folder, what was left out by rule (path, reason, is it a folder),
    and folders that could not be read (with why). A folder left out is one entry: its
    contents are neither walked nor counted."""

    files: list[Path] = field(default_factory=list)
    ignored: list[tuple[str, str, bool]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


class GitIgnores:
    """The `.gitignore` rules in force below a folder, each applied relative to its own dir."""

    def __init__(self) -> None:
        self._specs: dict[Path, pathspec.PathSpec] = {}

    def load(self, directory: Path) -> None:
        ignore = directory / ".gitignore"
        try:
            mtime = ignore.stat().st_mtime_ns
        except OSError:
            return
        spec = _parse_gitignore(str(ignore), mtime)
        if spec is not None:
            self._specs[directory] = spec

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for directory, spec in self._specs.items():
            if directory in path.parents:
                rel = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
        return False


@lru_cache(maxsize=1024)
def _parse_gitignore(path: str, mtime_ns: int) -> pathspec.PathSpec | None:
    """Parsed once per version of the file: the watcher asks about many paths in a burst."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())
    except OSError:
        return None


def walk(folder: Path, root: Path | None = None) -> Walk:
    """Files under `folder`; when it lies inside an indexed `root`, the `.gitignore` files
    between the two apply too."""
    result = Walk()
    ignores = GitIgnores()
    base = root if root is not None else folder
    if root is not None and root in folder.parents:
        for ancestor in [root, *(p for p in reversed(folder.parents) if root in p.parents)]:
            ignores.load(ancestor)

    def on_error(exc: OSError) -> None:
        result.unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    # followlinks=False: a symlink loop cannot make the walk go round forever.
    for here_name, dirs, names in os.walk(folder, onerror=on_error, followlinks=False):
        here = Path(here_name)
        if ".gitignore" in names:
            ignores.load(here)
        kept = []
        for name in sorted(dirs):
            path = here / name
            why = (
                folder_reason(name, path)
                or (GITIGNORED if ignores.ignored(path, is_dir=True) else None)
                or (LINKED_FOLDER if path.is_symlink() else None)
            )
            if why:
                result.ignored.append((str(path), why, True))
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            why = (
                file_reason(name)
                or (GITIGNORED if ignores.ignored(path, is_dir=False) else None)
                or (LINK_OUTSIDE if _links_outside(path, base) else None)
                or _link_target_ignored(path, base)
            )
            if why:
                result.ignored.append((str(path), why, False))
            else:
                result.files.append(path)
    return result


def why_ignored(path: Path, folder: Path, is_dir: bool = False) -> str | None:
    """Why `walk(folder)` would leave out this file (or not enter this folder), None when it
    would take it. For single paths that the watcher reports."""
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return "outside the folder"
    why = inside_never_indexed(path, folder, is_dir)
    if why:
        return why
    if not is_dir:
        why = file_reason(path.name)
        if why:
            return why
    if _links_outside(path, folder):
        return LINK_OUTSIDE
    why = _link_target_ignored(path, folder)
    if why:
        return why
    dirs = rel.parts if is_dir else rel.parts[:-1]
    ignores = GitIgnores()
    ignores.load(folder)
    for i in range(1, len(dirs) + 1):
        parent = folder.joinpath(*dirs[:i])
        if ignores.ignored(parent, is_dir=True):
            return GITIGNORED
        ignores.load(parent)
    if not is_dir and ignores.ignored(path, is_dir=False):
        return GITIGNORED
    return None


def wanted(path: Path, folder: Path, is_dir: bool = False) -> bool:
    """Would `walk(folder)` pick this file (or enter this folder)?"""
    return why_ignored(path, folder, is_dir) is None


def _link_target_ignored(path: Path, folder: Path) -> str | None:
    """Why the file a link inside the folder leads to is left out (a hidden file, a key, a
    file a `.gitignore` excludes, one inside `.git`...), or None: the rules hold for what is
    read, not only for the name it is reached by."""
    if not path.is_symlink():
        return None
    try:
        target, root = path.resolve(strict=True), folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return LINK_OUTSIDE  # broken, or a loop: nothing to read
    why = why_ignored(target, root)  # the target is no link: this goes no further
    return f"{LINK_TO_IGNORED} ({target.relative_to(root)}: {why})" if why else None


def _links_outside(path: Path, folder: Path) -> bool:
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a broken link or a link loop
        return True
