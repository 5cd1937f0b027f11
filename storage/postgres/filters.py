"""A ChunkFilter as PostgreSQL subqueries, with SQLite's meaning: a folder is a range of paths
(byte order, see migrations.py), extensions match in any case (SQLite's LIKE), and a glob is
SQLite's GLOB (case-sensitive; `*`, `?`, `[...]`, `[^...]`) made a regular expression; without a
"/" it matches the file name only."""
from __future__ import annotations

import re
from typing import Any

from storage.dialect import below
from storage.records import ChunkFilter

_FILE_NAME = "substring(f.path from '[^/]*$')"


def chunk_ids_sql(only: ChunkFilter) -> tuple[str, list[Any]]:
    """A subquery of the chunk ids that pass, and its parameters."""
    clause, params = _where(only)
    return f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE {clause}", params


def file_ids_sql(only: ChunkFilter) -> tuple[str, list[Any]]:
    """A subquery of the file ids that pass, and its parameters."""
    clause, params = _where(only)
    return f"SELECT f.id FROM files f WHERE {clause}", params


def glob_regex(glob: str) -> str:
    """SQLite's GLOB pattern as an anchored regular expression."""
    out, i = ["^"], 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = i + 1
            j += glob[j : j + 1] == "^"
            j += glob[j : j + 1] == "]"  # a "]" first in the set is one of its characters
            end = glob.find("]", j)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = glob[i + 1 : end]
                negate = body.startswith("^")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + "$"


def _where(only: ChunkFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if only.folder:
        where.append("f.path >= %s AND f.path < %s")
        params += below(only.folder)
    if only.extensions:
        where.append("(" + " OR ".join("f.path ILIKE %s" for _ in only.extensions) + ")")
        params += ["%" + ext.replace("%", "").replace("_", "").replace("\\", "") for ext in only.extensions]
    if only.path_glob:
        glob = only.path_glob
        if "/" in glob:
            where.append("f.path ~ %s")
            params.append(glob_regex(glob if glob.startswith(("/", "*")) else "*/" + glob))
        else:  # the file name only: a * must not cross "/" into folder names
            where.append(f"{_FILE_NAME} ~ %s")
            params.append(glob_regex(glob))
    if only.modified_after_ns is not None:
        where.append("f.mtime_ns >= %s")
        params.append(only.modified_after_ns)
    if only.modified_before_ns is not None:
        where.append("f.mtime_ns < %s")
        params.append(only.modified_before_ns)
    return " AND ".join(where) or "TRUE", params
