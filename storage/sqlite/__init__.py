"""The SQLite backend: one file, sqlite-vec for vectors, FTS5 for words.

- connection.py: the driver (sqlite3, else sqlean.py), connections with sqlite-vec loaded,
  the reader pool.
- migrations.py: the numbered schema migrations.
- base.py: transactions, readers and snapshots, errors, meta, row counts.
- writes.py, reads.py: folders, files, chunks and their file-level rows (file_evidence.py).
- meaning.py: the vectors of chunks waiting for them stored.
- vectors.py: exact KNN (sqlite-vec) and the coarse path over binary codes (coarse.py).
- keywords.py: FTS5 BM25 over chunks and files, common terms pruned.
- dialect.py: how its SQL differs where both backends' logic is the same (storage/dialect.py).
- upkeep.py: integrity, repair, vacuum, backup.
- store.py: SQLiteStore, the class they make up, with the mixins both stores share
  (storage/common/: reads by name, the chunks waiting for vectors, what `status` counts).
"""
from storage.sqlite.connection import connect
from storage.sqlite.store import SQLiteStore, Store

__all__ = ["SQLiteStore", "Store", "connect"]
