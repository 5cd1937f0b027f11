"""Open SQLite connections that have sqlite-vec and FTS5 loaded.

Python's own `sqlite3` is often built without `enable_load_extension` (Debian's pyenv builds,
macOS system Python). Then we fall back to `sqlean` (sqlean.py), a drop-in `sqlite3` module
that can load extensions. Everything above this module uses the DB-API and never knows which.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlite_vec


class StorageError(Exception):
    """Something about the database itself went wrong (driver, disk, corruption)."""


def _driver() -> ModuleType:
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import sqlean
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise StorageError(
            "This Python's sqlite3 cannot load extensions and sqlean.py is not installed: "
            "run `pip install sqlean.py`."
        ) from exc
    return sqlean


def driver_name() -> str:
    return _driver().__name__


def operational_errors() -> tuple[type[BaseException], ...]:
    """The OperationalError classes of both drivers, for callers that catch them."""
    errors: list[type[BaseException]] = [sqlite3.OperationalError]
    driver = _driver()
    if driver is not sqlite3:
        errors.append(driver.OperationalError)
    return tuple(errors)


def connect(path: Path | str, *, timeout: float = 30.0) -> Any:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    driver = _driver()
    try:
        conn = driver.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    except driver.OperationalError as exc:
        raise StorageError(f"Cannot open the database at {path}: {exc}") from exc
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
    except Exception as exc:
        conn.close()
        raise StorageError(f"Cannot load the sqlite-vec extension: {exc}") from exc
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn
