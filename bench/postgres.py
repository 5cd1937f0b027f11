"""A database of its own for a benchmark's PostgreSQL run, and loading it as pg_restore does.

A URL for a server on this machine, from PyPI's pgserver (PostgreSQL with pgvector):

    python -c "import pgserver; print(pgserver.get_server('/tmp/fathom-pg', cleanup_mode=None).get_uri())"
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A new, empty database `name` on the server of `url` (whose user may create databases),
    dropped after; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def hnsw_built_after(store: Any) -> Iterator[dict[str, float]]:
    """Rows first, then the HNSW index in one build, as pg_restore loads a dump (pgvector 0.6
    inserts into a 1024-dimension HNSW index at ~115 chunks/s here), with memory enough for
    the graph of a million: a build that runs out of it goes on disk, far slower. Yields a dict
    that gets the build's seconds."""
    from storage.postgres.writes import HNSW

    with store._pool.connection() as conn:
        conn.execute("DROP INDEX chunk_vectors_hnsw")
    took: dict[str, float] = {}
    yield took
    with store._pool.connection() as conn:
        conn.execute("SET maintenance_work_mem = '8GB'")
        start = time.perf_counter()
        conn.execute(f"CREATE INDEX chunk_vectors_hnsw ON chunk_vectors USING hnsw (embedding vector_cosine_ops) {HNSW}")
        took["hnsw_build_s"] = time.perf_counter() - start
