"""The SQLite store: one class, put together from one mixin per concern.

Mixins over one SQLite database rather than separate objects: every part shares the same
writer connection, its lock, the reader pool and the caches (codes, row counts), and calls the
others' plumbing (a write asks for the embedding space, a search for the row counts). As
methods of one class they keep their bodies and their callers' `store.x` as they were; each
module holds one concern, and `SQLiteBase` (base.py) is the only state they share.
"""
from __future__ import annotations

from storage.common.stats import Stats
from storage.sqlite.keywords import KeywordSearch
from storage.sqlite.meaning import Meaning
from storage.sqlite.reads import Reads
from storage.sqlite.upkeep import Upkeep
from storage.sqlite.vectors import VectorSearch
from storage.sqlite.writes import Writes


class SQLiteStore(Writes, Meaning, Reads, VectorSearch, KeywordSearch, Upkeep, Stats):
    """Folders, files, chunks, their vectors and their words, in one SQLite file (WAL mode):
    sqlite-vec for vectors, binary codes for large indexes, FTS5 for words. It implements
    storage.IndexStore."""


Store = SQLiteStore  # the name tests and benches knew it by
