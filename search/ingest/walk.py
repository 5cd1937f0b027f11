"""Find the files under a folder that Fathom indexes, skipping what nobody searches:
hidden folders, version control, dependencies, virtualenvs, build and cache folders, and
whatever the folder's own `.gitignore` files exclude."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pathspec

from search.ingest.extract import is_supported

SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "bower_components", "__pycache__", ".venv",
        "venv", "env", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache",
        "site-packages", "build", "dist", "target", "out", ".gradle", ".idea", ".vscode",
        ".next", ".nuxt", "coverage", "htmlcov", ".terraform", "Pods", "DerivedData",
    }
)


@dataclass
class Walk:
    """Files found under a folder, what was left out by rule, and folders that could not
    be read (with why)."""

    files: list[Path] = field(default_factory=list)
    ignored: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def skipped_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info")


def is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


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
    if root is not None and root in folder.parents:
        for ancestor in [root, *(p for p in reversed(folder.parents) if root in p.parents)]:
            ignores.load(ancestor)

    def on_error(exc: OSError) -> None:
        result.unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    # followlinks=False: a symlink loop cannot make the walk go round forever.
    for root, dirs, names in os.walk(folder, onerror=on_error, followlinks=False):
        here = Path(root)
        if ".gitignore" in names:
            ignores.load(here)
        kept = []
        for name in sorted(dirs):
            path = here / name
            if skipped_dir(name) or is_virtualenv(path) or ignores.ignored(path, is_dir=True):
                result.ignored += 1
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or not is_supported(path):
                continue
            if ignores.ignored(path, is_dir=False) or _links_outside(path, folder):
                result.ignored += 1
                continue
            result.files.append(path)
    return result


def wanted(path: Path, folder: Path, is_dir: bool = False) -> bool:
    """Would `walk(folder)` pick this file (or enter this folder)? For single paths that the
    watcher reports."""
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return False
    dirs = rel.parts if is_dir else rel.parts[:-1]
    if any(skipped_dir(part) for part in dirs):
        return False
    if not is_dir and (path.name.startswith(".") or not is_supported(path)):
        return False
    if _links_outside(path, folder):
        return False
    ignores = GitIgnores()
    ignores.load(folder)
    for i in range(1, len(dirs) + 1):
        parent = folder.joinpath(*dirs[:i])
        if is_virtualenv(parent) or ignores.ignored(parent, is_dir=True):
            return False
        ignores.load(parent)
    return is_dir or not ignores.ignored(path, is_dir=False)


def _links_outside(path: Path, folder: Path) -> bool:
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a broken link or a link loop
        return True
