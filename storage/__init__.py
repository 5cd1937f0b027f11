"""Fathom's storage: the only package that speaks SQL.

One SQLite file holds folders, files, chunks, an FTS5 index over chunk text and a sqlite-vec
`vec0` table of embeddings. Callers get dataclasses back, never rows.
"""
from storage.connection import StorageError, connect
from storage.fts import fts_query
from storage.store import (
    ChunkFilter,
    ChunkHit,
    ChunkRow,
    EmbeddingSpace,
    FileRecord,
    Folder,
    FolderRemoved,
    IgnoredPath,
    IndexStats,
    Store,
)

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
    "StorageError",
    "Store",
    "connect",
    "fts_query",
]
