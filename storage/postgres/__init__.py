"""The PostgreSQL backend: one database that several Fathom processes, on several machines, index
into and search at once; pgvector for vectors, tsvector for words. It mirrors storage/sqlite/
room by room:

- connection.py: psycopg 3, its connection pool, pgvector's types; the URL without its password.
- migrations.py: the numbered schema migrations (and the pgvector extension).
- base.py: transactions (retried when chosen as a deadlock's victim), errors, meta, counts.
- writes.py, reads.py: folders, files, chunks and their file-level rows (file_evidence.py).
- meaning.py: the vectors of chunks waiting for them stored.
- vectors.py: exact KNN for a small index, pgvector's HNSW index for a large one.
- words.py, keywords.py: tsvectors fed the same words as FTS5, ranked by FTS5's BM25.
- dialect.py: how its SQL differs where both backends' logic is the same (storage/dialect.py).
- upkeep.py: integrity and repair (backups: pg_dump).
- store.py: PostgresStore, the class they make up, with the mixins both stores share (storage/common/).
"""
from __future__ import annotations

from typing import Any

from storage.postgres.connection import is_postgres_url, safe_url

__all__ = ["PostgresStore", "is_postgres_url", "safe_url"]


def __getattr__(name: str) -> Any:
    """PostgresStore on first use: `storage` reads URLs with connection.py, and a Fathom that
    keeps its index in SQLite never loads the rest of this package (nor psycopg)."""
    if name == "PostgresStore":
        from storage.postgres.store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
