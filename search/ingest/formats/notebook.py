"""Text out of Jupyter notebooks: the cells people wrote, without their outputs.

Outputs are left out on purpose: they are regenerated on every run (so a re-run would
re-embed an unchanged notebook's meaning), they are often huge (training logs, printed
data frames, base64 images) and on a CPU every embedded token costs time. What a person
remembers and searches for is the prose and the code they wrote.
"""
from __future__ import annotations

import json
import re
from typing import Any

from search.errors import ExtractError
from search.ingest.formats.text import decode_text

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def read_notebook(data: bytes) -> tuple[str, str | None]:
    """(text, title): markdown, code and raw cells in order, apart by blank lines.

    The title is the notebook's metadata title if it has one, else its first markdown heading.
    """
    try:
        notebook = json.loads(decode_text(data))
    except (ValueError, RecursionError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ExtractError(f"corrupt notebook (not valid JSON{where})") from exc
    if not isinstance(notebook, dict):
        raise ExtractError("corrupt notebook (not a Jupyter notebook: no cells)")
    cells = notebook.get("cells")
    if cells is None and isinstance(notebook.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in notebook["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
    if not isinstance(cells, list):
        raise ExtractError("corrupt notebook (not a Jupyter notebook: no cells)")
    parts: list[str] = []
    title: str | None = None
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = _source(cell.get("source", cell.get("input")))
        if not source:
            continue
        parts.append(source)
        if title is None and cell.get("cell_type") == "markdown":
            match = _HEADING.search(source)
            title = match.group(1).strip() if match else None
        elif title is None and cell.get("cell_type") == "heading":  # nbformat 3
            title = " ".join(source.split())
    metadata = notebook.get("metadata")
    meta_title = metadata.get("title") if isinstance(metadata, dict) else None
    if isinstance(meta_title, str) and meta_title.strip():
        title = meta_title.strip()
    return "\n\n".join(parts), title


def _source(source: Any) -> str:
    """nbformat stores a cell's source as one string or as a list of lines."""
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source.strip() if isinstance(source, str) else ""
