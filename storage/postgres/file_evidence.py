"""What a file says as a whole, in PostgreSQL: the file-level rows search fuses per file (as
storage/sqlite/file_evidence.py does in SQLite).

- `file_words`: one tsvector per file: its name (weight A), the folders it sits in inside its
  indexed folder (B), its title (C) and its whole text (D); BM25 weighs the columns as FTS5
  does (FILE_WEIGHTS), and the name columns alone say what a file is about. `titled` holds
  the name, folders and title again (A-C), small, for ranking.
- `file_vectors`: the file's opening (its first chunk's vector) and summary (the mean of its
  chunks' unit vectors), as pgvector vectors.

Written with the file's chunks, in the same transaction; rebuilt from the stored chunks alone.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from storage.file_text import joined_text, name_fields, title_from_context
from storage.fts import searchable_text
from storage.postgres.words import tsvector
from storage.sqlite.file_evidence import FILE_WEIGHTS, NAME_WEIGHTS

COLUMNS = "ABCD"  # name, folders, title, text
FILE_LETTER_WEIGHTS = dict(zip(COLUMNS, FILE_WEIGHTS))
NAME_LETTER_WEIGHTS = {letter: w for letter, w in zip(COLUMNS, NAME_WEIGHTS) if w}
NAME_LETTERS = "".join(NAME_LETTER_WEIGHTS)


def write_rows(conn: Any, file_id: int, path: str, folder: str, title: str, body: str, vectors: np.ndarray | None) -> None:
    """The file-level rows of one file (its old ones must be gone). `vectors`: its chunks'
    float vectors in order, or None when it has no embeddings yet."""
    name, folders = name_fields(path, folder)
    literal, count = tsvector([(name, "A"), (folders, "B"), (searchable_text(title), "C"), (searchable_text(body), "D")])
    conn.execute(
        "INSERT INTO file_words(file_id, keywords, titled, words) "
        "VALUES (%s, %s::tsvector, ts_filter(%s::tsvector, '{a,b,c}'), %s)",
        (file_id, literal, literal, count),
    )
    remember_words(conn, literal)
    if vectors is not None and len(vectors):
        write_vectors(conn, file_id, vectors)


def remember_words(conn: Any, literal: str) -> None:
    """The words of a tsvector into `vocabulary` (misspelled query words are matched to them),
    in byte order, so that two writers adding the same new words never wait on each other in
    a cycle."""
    conn.execute(
        'INSERT INTO vocabulary(word) SELECT lexeme COLLATE "C" FROM unnest(%s::tsvector) ORDER BY 1 '
        "ON CONFLICT DO NOTHING",
        (literal,),
    )


def write_vectors(conn: Any, file_id: int, chunks: np.ndarray) -> None:
    """The opening (first chunk) and summary (mean of the unit vectors) of a file."""
    unit = chunks.astype(np.float32)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    conn.execute(
        "INSERT INTO file_vectors(file_id, opening, summary) VALUES (%s, %s, %s) "
        "ON CONFLICT (file_id) DO UPDATE SET opening = excluded.opening, summary = excluded.summary",
        (file_id, chunks[0].astype(np.float32), unit.mean(axis=0).astype(np.float32)),
    )


def chunk_vectors(conn: Any, file_id: int) -> np.ndarray | None:
    """A file's chunk vectors in order, or None unless every chunk has one."""
    rows = conn.execute(
        "SELECT v.embedding FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_id = c.id "
        "WHERE c.file_id = %s ORDER BY c.ordinal",
        (file_id,),
    ).fetchall()
    if not rows or any(row[0] is None for row in rows):
        return None
    return np.stack([as_numpy(row[0]) for row in rows])


def as_numpy(value: Any) -> np.ndarray:
    """A vector as pgvector's adapter hands it back (a Vector, or an array), as float32."""
    return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, dtype=np.float32)


def rename(conn: Any, file_ids: Sequence[int]) -> None:
    """Moved files: their name and folders words (A, B) follow their new path; the title and
    text keep theirs."""
    for file_id in file_ids:
        row = conn.execute(
            "SELECT f.path, d.path FROM files f JOIN folders d ON d.id = f.folder_id WHERE f.id = %s", (file_id,)
        ).fetchone()
        if row is None:
            continue
        literal, count = tsvector(list(zip(name_fields(*row), "AB")))
        conn.execute(
            "UPDATE file_words SET keywords = %s::tsvector || ts_filter(keywords, '{c,d}'), "
            "titled = %s::tsvector || ts_filter(titled, '{c}'), words = words + %s - "
            "COALESCE((SELECT SUM(cardinality(u.positions)) FROM unnest(ts_filter(keywords, '{a,b}')) u), 0) "
            "WHERE file_id = %s",
            (literal, literal, count, file_id),
        )
        remember_words(conn, literal)


def rebuild(conn: Any, file_ids: Sequence[int], with_vectors: bool) -> int:
    """File-level rows from what is stored: the text joined back from the chunks (without
    their overlaps), the title from the first chunk's context, the vectors from the chunks'
    (`with_vectors`: when the file is embedded). Returns how many files got rows."""
    done = 0
    for file_id in file_ids:
        row = conn.execute(
            "SELECT f.path, d.path, f.embedded FROM files f JOIN folders d ON d.id = f.folder_id "
            "WHERE f.id = %s AND f.status = 'indexed'",
            (file_id,),
        ).fetchone()
        if row is None:
            continue
        chunks = conn.execute(
            'SELECT start, "end", text, context FROM chunks WHERE file_id = %s ORDER BY ordinal', (file_id,)
        ).fetchall()
        if not chunks:
            continue
        conn.execute("DELETE FROM file_words WHERE file_id = %s", (file_id,))
        body = joined_text([(start, end, text) for start, end, text, _ in chunks])
        write_rows(conn, file_id, row[0], row[1], title_from_context(chunks[0][3], row[0]), body, None)
        if with_vectors and row[2]:
            vectors = chunk_vectors(conn, file_id)
            if vectors is not None:
                write_vectors(conn, file_id, vectors)
        done += 1
    return done
