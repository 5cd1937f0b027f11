"""What Fathom never indexes, and why: one rule, used by the walk, the watcher's event filter,
the inotify watches and the single paths the watcher reports.

The rule looks only at the part of a path *inside* the indexed folder: a folder the person chose
below `~/.config/...` or `.../build/...` is indexed like any other, while a `build` or `.git`
folder inside it is not. Folders never indexed are left out whole (their files are never
listed one by one: a node_modules can hold 40,000). Files are left out by name only when
their format is not a document (lock files, minified bundles, source maps...); every other
file is read, and kept if its content is text.
"""
from __future__ import annotations

from pathlib import Path

_FOLDER_REASONS = {
    "version control": {".git", ".hg", ".svn", ".bzr", "_darcs"},
    "dependencies": {"node_modules", "bower_components", "site-packages", "Pods"},
    "a virtualenv": {".venv", "venv", "env", ".tox", ".nox"},
    "a cache": {
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", ".gradle",
        ".terraform", ".next", ".nuxt",
    },
    "build output": {"build", "dist", "target", "out", "DerivedData", "coverage", "htmlcov"},
    "editor settings": {".idea", ".vscode"},
}
FOLDER_REASONS = {name: why for why, names in _FOLDER_REASONS.items() for name in names}

# Text files that are not documents: what a person searches is never in them, and they are
# often huge. By exact name (lock files), then by ending.
NOT_DOCUMENT_NAMES = {
    name: "a lock file (not a document)"
    for name in (
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
        "Cargo.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "uv.lock", "composer.lock",
        "Gemfile.lock", "Podfile.lock", "mix.lock", "pubspec.lock", "flake.lock", "go.sum",
        "packages.lock.json", "gradle.lockfile",
    )
}
NOT_DOCUMENT_ENDINGS = (
    (".lock", "a lock file (not a document)"),
    (".min.js", "a minified bundle (not a document)"),
    (".min.mjs", "a minified bundle (not a document)"),
    (".min.css", "a minified bundle (not a document)"),
    (".bundle.js", "a minified bundle (not a document)"),
    (".map", "a source map (not a document)"),
    (".svg", "a vector image (not a document)"),
    (".har", "a recorded browser session (a data dump, not a document)"),
    (".sql.dump", "a database dump (not a document)"),
    (".pem", "a key or certificate (kept out of the index)"),
    (".key", "a key or certificate (kept out of the index)"),
    (".crt", "a key or certificate (kept out of the index)"),
)


def folder_reason(name: str, path: Path | None = None) -> str | None:
    """Why a folder with this name (at `path`, when known) is never indexed, or None."""
    why = FOLDER_REASONS.get(name)
    if why:
        return why
    if name.endswith(".egg-info"):
        return "package metadata"
    if name.startswith("."):
        return "a hidden folder"
    if path is not None and (path / "pyvenv.cfg").is_file():
        return "a virtualenv"  # of any name
    return None


def file_reason(name: str) -> str | None:
    """Why a file with this name is never read, or None."""
    if name.startswith("."):
        return "a hidden file"
    why = NOT_DOCUMENT_NAMES.get(name)
    if why:
        return why
    lower = name.lower()
    for ending, why in NOT_DOCUMENT_ENDINGS:
        if lower.endswith(ending):
            return why
    return None


def inside_never_indexed(path: Path, root: Path, is_dir: bool = False) -> str | None:
    """Why `path` lies in (or, for a folder, is) a folder never indexed, judging only the part
    of the path below `root`; None when it does not, or lies outside `root`."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    folders = parts if is_dir else parts[:-1]
    here = root
    for name in folders:
        here = here / name
        why = folder_reason(name, here)
        if why:
            return why
    return None
