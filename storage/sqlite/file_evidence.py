"""What a file says as a whole, in SQLite: the file-level rows search fuses per file.

- `files_fts`: one keyword row per file: its name, the folders it sits in (inside its indexed
  folder), its title and its whole text, so BM25 sees the file's length and every occurrence of
  a word, as a search engine over whole documents does; and the name columns alone say what a
  file is about (`passport.md`, `tar.1`, `date_parser.py`).
- `file_vectors`: the file's opening (the vector of its first chunk: title and first window,
  as the embedder saw it) and a summary (the mean of its chunks' vectors), as int8 copies.

All three are written with the file's chunks, in the same transaction, and can be rebuilt from
the stored chunks and their codes alone (no model runs): that is how an older index gets them.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from storage.file_text import joined_text, name_fields, title_from_context
from storage.fts import searchable_text
from storage.sqlite.coarse import int8_copy

# BM25 column weights (name, folders, title, text), tuned with bench/quality.py: a word in a
# file's name or title says more than one in its text. The names alone: the text weighs 0.
FILE_WEIGHTS = (10.0, 3.0, 5.0, 1.0)
NAME_WEIGHTS = (1.0, 1.0, 1.0, 0.0)
NAME_COLUMNS = "{name folders title}"


def write_rows(
    conn: Any, file_id: int, path: str, folder: str, title: str, body: str, vectors: Sequence[bytes]
) -> None:
    """The file-level rows of one file (its old ones must be gone). `vectors` are its chunks'
    float32 vectors in order, or none when it has no embeddings yet."""
    name, folders = name_fields(path, folder)
    conn.execute(
        "INSERT INTO files_fts(rowid, name, folders, title, body) VALUES (?, ?, ?, ?, ?)",
        (file_id, name, folders, searchable_text(title), searchable_text(body)),
    )
    if vectors:
        matrix = np.frombuffer(b"".join(vectors), dtype=np.float32).reshape(len(vectors), -1)
        write_vectors(conn, file_id, matrix[0], matrix)


def write_vectors(conn: Any, file_id: int, opening: np.ndarray, chunks: np.ndarray) -> None:
    """`chunks` may be int8 copies (each with its own scale): they are made unit length first."""
    unit = chunks.astype(np.float32)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    summary = unit.mean(axis=0)
    conn.execute(
        "INSERT INTO file_vectors(file_id, opening, summary) VALUES (?, ?, ?)",
        (file_id, int8_copy(opening.astype(np.float32).tobytes()), int8_copy(summary.astype(np.float32).tobytes())),
    )


def delete_rows(conn: Any, file_ids: Iterable[int]) -> None:
    ids = [(i,) for i in file_ids]
    conn.executemany("DELETE FROM files_fts WHERE rowid = ?", ids)
    conn.executemany("DELETE FROM file_vectors WHERE file_id = ?", ids)


def rename(conn: Any, file_ids: Iterable[int]) -> None:
    """Moved files: their name and folders words follow their new path."""
    for file_id in file_ids:
        row = conn.execute(
            "SELECT f.path, d.path FROM files f JOIN folders d ON d.id = f.folder_id WHERE f.id = ?", (file_id,)
        ).fetchone()
        if row is not None:
            name, folders = name_fields(*row)
            conn.execute("UPDATE files_fts SET name = ?, folders = ? WHERE rowid = ?", (name, folders, file_id))


def rebuild(conn: Any, file_ids: Sequence[int]) -> int:
    """File-level rows from what is stored: the text joined back from the chunks (without
    their overlaps), the title from the first chunk's context, the vectors from the chunks'
    int8 codes. Returns how many files got rows."""
    done = 0
    for file_id in file_ids:
        row = conn.execute(
            "SELECT f.path, d.path FROM files f JOIN folders d ON d.id = f.folder_id "
            "WHERE f.id = ? AND f.status = 'indexed'",
            (file_id,),
        ).fetchone()
        if row is None:
            continue
        chunks = conn.execute(
            "SELECT c.start, c.end, c.text, c.context, k.q8 FROM chunks c "
            "LEFT JOIN chunk_codes k ON k.id = c.id WHERE c.file_id = ? ORDER BY c.ordinal",
            (file_id,),
        ).fetchall()
        if not chunks:
            continue
        delete_rows(conn, [file_id])
        body = joined_text([(start, end, text) for start, end, text, _, _ in chunks])
        write_rows(conn, file_id, row[0], row[1], title_from_context(chunks[0][3], row[0]), body, [])
        codes = [q8 for *_, q8 in chunks]
        if all(codes):
            matrix = np.frombuffer(b"".join(codes), dtype=np.int8).reshape(len(codes), -1)
            write_vectors(conn, file_id, matrix[0], matrix)
        done += 1
    return done
