"""A file as a whole, from its path and its chunks: the words of its name and folders, its text
without the chunks' overlaps, its title. Plain text, for any backend's file-level rows."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Sequence

from storage.fts import searchable_text


def name_fields(path: str, folder: str) -> tuple[str, str]:
    """The file name and the folders between the indexed folder and the file, as words."""
    file = PurePosixPath(path)
    try:
        inside = file.parent.relative_to(folder)
        folders = " ".join(inside.parts)
    except ValueError:
        folders = ""
    return searchable_text(file.name), searchable_text(folders)


def joined_text(chunks: Sequence[tuple[int, int, str]]) -> str:
    """A file's text from its chunks (start, end, text) in order, each overlap taken once."""
    parts, reached = [], 0
    for start, end, text in chunks:
        if end <= reached:
            continue
        parts.append(text[max(0, reached - start) :] if start < reached else text)
        reached = end
    return "\n".join(parts)


def title_from_context(context: str, path: str) -> str:
    """The title part of a chunk's context ("Title › Section"): the document's title, else its
    first section (the context names the file when there is no title)."""
    parts = context.split(" › ")
    if parts and parts[0] == PurePosixPath(path).name:
        parts = parts[1:]
    return parts[0] if parts else ""
