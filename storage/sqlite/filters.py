"""A ChunkFilter as SQLite subqueries: the ids of the chunks, or of the files, that pass."""
from __future__ import annotations

from typing import Any

from storage.dialect import below
from storage.records import ChunkFilter

# The part of f.path after its last "/": rtrim() strips the name's characters off the end.
_FILE_NAME = "substr(f.path, length(rtrim(f.path, replace(f.path, '/', ''))) + 1)"


def chunk_ids_sql(only: ChunkFilter) -> tuple[str, list[Any]]:
    """A subquery of the chunk ids that pass, and its parameters."""
    clause, params = _where(only)
    return f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE {clause}", params


def file_ids_sql(only: ChunkFilter) -> tuple[str, list[Any]]:
    """A subquery of the file ids that pass, and its parameters."""
    clause, params = _where(only)
    return f"SELECT f.id FROM files f WHERE {clause}", params


def _where(only: ChunkFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if only.folder:
        where.append("f.path >= ? AND f.path < ?")
        params += below(only.folder)
    if only.extensions:
        where.append("(" + " OR ".join("f.path LIKE ?" for _ in only.extensions) + ")")
        params += ["%" + ext.replace("%", "").replace("_", "") for ext in only.extensions]
    if only.path_glob:
        glob = only.path_glob
        if "/" in glob:
            where.append("f.path GLOB ?")
            params.append(glob if glob.startswith(("/", "*")) else "*/" + glob)
        else:  # the file name only: GLOB's * would cross "/" into folder names
            where.append(f"{_FILE_NAME} GLOB ?")
            params.append(glob)
    if only.modified_after_ns is not None:
        where.append("f.mtime_ns >= ?")
        params.append(only.modified_after_ns)
    if only.modified_before_ns is not None:
        where.append("f.mtime_ns < ?")
        params.append(only.modified_before_ns)
    return " AND ".join(where) or "1", params
