"""Open SQLite connections that have sqlite-vec and FTS5 loaded.

Python's own `sqlite3` is often built without `enable_load_extension` (Debian's pyenv builds,
macOS system Python). Then we fall back to `sqlean` (sqlean.py), a drop-in `sqlite3` module
that can load extensions. Everything above this module uses the DB-API and never knows which.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlite_vec

from storage.errors import StorageError


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
        _write_ahead(conn, driver, path, timeout)
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _write_ahead(conn: Any, driver: ModuleType, path: Path | str, timeout: float) -> None:
    """WAL mode. A new database turns to it once, under an exclusive lock, and SQLite may say
    "locked" at once, without waiting, while another process opens it too (the page and
    `index --watch` started together): try again until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except driver.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise StorageError(f"Cannot open the database at {path}: {exc}") from exc
            time.sleep(0.05)


class ReaderPool:
    """Read connections lent out one use at a time, so that their number follows how many
    reads run at once, never how many threads ever read: a page's request threads come and
    go for weeks. At most `keep` idle connections stay open."""

    def __init__(self, path: Path | str, keep: int = 4):
        self.path = path
        self.keep = keep
        self._idle: list[Any] = []
        self._lent = 0
        self._closed = False
        self._lock = threading.Lock()

    def borrow(self) -> Any:
        with self._lock:
            if self._closed:
                raise StorageError(f"The database {self.path} is closed.")
            self._lent += 1
            if self._idle:
                return self._idle.pop()
        try:
            return connect(self.path)
        except BaseException:
            with self._lock:
                self._lent -= 1
            raise

    def give_back(self, conn: Any) -> None:
        if conn.in_transaction:  # an error mid-snapshot: never lend an open read transaction
            conn.execute("ROLLBACK")
        with self._lock:
            self._lent -= 1
            if not self._closed and len(self._idle) < self.keep:
                self._idle.append(conn)
                return
        conn.close()

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or lent."""
        with self._lock:
            return len(self._idle) + self._lent

    def close(self) -> None:
        """Close the idle connections; lent ones close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
