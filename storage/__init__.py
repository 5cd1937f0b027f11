"""Fathom's storage: the only package that speaks SQL.

The rest of Fathom sees one interface, `IndexStore` (interface.py), the dataclasses it takes
and returns (records.py) and two errors (errors.py); `open_store` picks the backend: SQLite
(storage/sqlite/, the default: one file holds folders, files, chunks, an FTS5 index of their
words and a sqlite-vec table of their vectors) or PostgreSQL (storage/postgres/: one database
for a team, pgvector and tsvector). What both do alike is written once: their SQL's common
ground in dialect.py, the mixins they share in common/, query rewriting in fts.py and
file_text.py.
"""
from __future__ import annotations

from pathlib import Path

from storage.errors import FolderRemoved, StorageError
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
    KeywordMatch,
    PendingChunk,
    PendingWork,
    StoredChunk,
    WordQuery,
)
from storage.postgres.connection import SCHEMES as POSTGRESQL_SCHEMES
from storage.postgres.connection import is_postgres_url, safe_url
from storage.sqlite import SQLiteStore, Store


def open_store(location: Path | str) -> IndexStore:
    """The store at `location`: a PostgreSQL URL (postgresql://...; psycopg and pgvector needed,
    the `postgres` extra), else the path of a SQLite file."""
    if is_postgres_url(location):
        from storage.postgres import PostgresStore

        return PostgresStore(str(location))
    return SQLiteStore(location)


def database_name(location: Path | str) -> str:
    """The database as it may be shown: a SQLite file's path, a PostgreSQL URL without its password."""
    return safe_url(str(location)) if is_postgres_url(location) else str(location)


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
    "KeywordMatch",
    "PendingChunk",
    "PendingWork",
    "SQLiteStore",
    "POSTGRESQL_SCHEMES",
    "StorageError",
    "StoredChunk",
    "Store",
    "WordQuery",
    "database_name",
    "open_store",
]
