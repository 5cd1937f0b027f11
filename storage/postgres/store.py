"""The PostgreSQL store: one class, put together from one mixin per concern, as the SQLite
store is (storage/sqlite/store.py says why mixins)."""
from __future__ import annotations

from storage.common.stats import Stats
from storage.postgres.keywords import KeywordSearch
from storage.postgres.meaning import Meaning
from storage.postgres.reads import Reads
from storage.postgres.upkeep import Upkeep
from storage.postgres.vectors import VectorSearch
from storage.postgres.writes import Writes


class PostgresStore(Writes, Meaning, Reads, VectorSearch, KeywordSearch, Upkeep, Stats):
    """Folders, files, chunks, their vectors and their words in one PostgreSQL database that
    several Fathom processes (on several machines) may write and search at once: pgvector for
    vectors (HNSW, cosine), tsvectors with a GIN index for words, BM25 as FTS5 ranks them. It
    implements storage.IndexStore."""
