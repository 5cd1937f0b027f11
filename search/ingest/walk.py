"""Find the files under a folder that Fathom indexes, skipping what nobody searches."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from search.ingest.extract import is_supported

SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", "site-packages",
        "build", "dist", "target", ".idea", ".vscode",
    }
)


@dataclass
class Walk:
    """Files found under a folder, and the folders that could not be read (with why)."""

    files: list[Path] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def walk(folder: Path) -> Walk:
    result = Walk()

    def on_error(exc: OSError) -> None:
        result.unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    for root, dirs, names in os.walk(folder, onerror=on_error, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(d))
        for name in sorted(names):
            path = Path(root, name)
            if name.startswith(".") or not is_supported(path):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(folder):
                continue
            result.files.append(path)
    return result


def _skipped_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info")


def iter_folder_files(folder: Path) -> Iterator[Path]:
    yield from walk(folder).files
