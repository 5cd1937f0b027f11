"""Fathom's storage: the only package that speaks SQL.

The rest of Fathom sees one interface, `IndexStore` (interface.py), the dataclasses it takes
and returns (records.py) and two errors (errors.py); `open_store` picks the backend. Today
that is SQLite (storage/sqlite/): one file holds folders, files, chunks, an FTS5 index of
their words and a sqlite-vec table of their vectors. Query rewriting shared by any backend
is in fts.py and file_text.py.
"""
from __future__ import annotations

from pathlib import Path

from storage.errors import FolderRemoved, StorageError
from storage.fts import fts_query
from storage.interface import IndexStore
from storage.records import (
    ChunkFilter,
    ChunkHit,
    ChunkRow,
    EmbeddingSpace,
    FileRecord,
    Folder,
    IgnoredPath,
    IndexStats,
    PendingChunk,
    PendingWork,
)
from storage.sqlite import SQLiteStore, Store

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def open_store(location: Path | str) -> IndexStore:
    """The store at `location`: a PostgreSQL URL, else the path of a SQLite file."""
    if str(location).lower().startswith(POSTGRESQL_SCHEMES):
        # issue 16: the PostgreSQL backend goes here. The URL may hold a password: never echo it.
        raise StorageError(
            "This Fathom cannot use a PostgreSQL database yet: leave out the postgresql:// URL "
            "to keep the index in a SQLite file in the data folder."
        )
    return SQLiteStore(location)


__all__ = [
    "ChunkFilter",
    "ChunkHit",
    "ChunkRow",
    "EmbeddingSpace",
    "FileRecord",
    "Folder",
    "FolderRemoved",
    "IgnoredPath",
    "IndexStats",
    "IndexStore",
    "PendingChunk",
    "PendingWork",
    "SQLiteStore",
    "StorageError",
    "Store",
    "fts_query",
    "open_store",
]
