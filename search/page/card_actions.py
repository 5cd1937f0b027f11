"""What a result card's Open, Open folder and Preview buttons do: plain functions of the
runtime and the result (as Result.to_json() gave it), returning HTML, like search_actions.py.
Only files Fathom indexed, inside an indexed folder, are ever opened or previewed."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from search.page import render
from search.page.files import servable_file
from search.page.open_file import Desktop, Opening, launch, open_command, passage_line
from search.page.preview import preview
from search.page.runtime import Runtime
from storage import StorageError

NOT_HERE = (
    "Open works for a person at the computer that runs Fathom: from here, use Download."
)


NOT_OPENABLE = (
    "This file cannot be opened: it is no longer an indexed file in one of your folders "
    "(moved, deleted, or its folder was removed)."
)


def indexed_file(rt: Runtime, path: str | None) -> Path | None:
    """The real path of a file Fathom indexed inside an indexed folder (see files.py), else
    None; StorageError when the index cannot be read."""
    store = rt.engine.store

    def indexed(text: str) -> bool:
        record = store.file_record(text)
        return record is not None and record.status == "indexed"

    return servable_file(path, [f.path for f in store.folders()], indexed)


def opening_for(rt: Runtime, result: dict[str, Any], folder: bool, desktop: Desktop) -> tuple[Opening | None, str]:
    """The command that opens a result's file (or its folder) at its passage, or why not."""
    try:
        real = indexed_file(rt, result.get("path"))
    except StorageError:
        real = None
    if real is None:
        return None, NOT_OPENABLE
    line = None if folder else passage_line(real, int(result.get("start") or 0), result.get("text") or "")
    page = None if folder else result.get("page")
    return open_command(str(real), desktop, folder=folder, page=page, line=line), ""


def open_on_desktop(
    rt: Runtime,
    result: dict[str, Any],
    folder: bool,
    local: bool,
    desktop: Desktop | None = None,
    run: Callable[[Opening], str] = launch,
) -> tuple[bool, str]:
    """Open the file (or its folder) on this computer; (opened, a sentence that says what
    happened, plain text for a toast)."""
    if not local:
        return False, NOT_HERE
    opening, problem = opening_for(rt, result, folder, desktop or Desktop())
    if opening is None:
        return False, problem
    if opening.problem:
        return False, opening.problem
    failed = run(opening)
    if failed:
        return False, failed
    name = Path(opening.target).name or opening.target
    what = f"Opened the folder {render.pretty_path(opening.target)}" if folder else f"Opened {name}"
    return True, " ".join(w for w in (f"{what} {opening.at}".strip() + ".", opening.missed) if w)


def preview_of(rt: Runtime, result: dict[str, Any]) -> str:
    """The passage among its neighbours in its document (see preview.py)."""
    path = result.get("path") or ""
    try:
        chunks = rt.engine.store.file_chunks(path)
    except StorageError as exc:
        return render.message("No preview", str(exc), "error")
    try:
        real = indexed_file(rt, path)
    except StorageError:
        real = None
    start, end = int(result.get("start") or 0), int(result.get("end") or 0)
    line = passage_line(real, start, result.get("text") or "") if real is not None else None
    return preview(path, chunks, start, end, result.get("page"), line)
