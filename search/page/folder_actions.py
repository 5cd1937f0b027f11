"""What the Library tab does: add a folder, re-index one, remove one. Plain functions of the
runtime and the fields' values, returning HTML (library_tab.py wires them to Gradio)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from search.errors import FathomError
from search.page import render
from search.page.runtime import Runtime
from storage import StorageError


def add_folder(rt: Runtime, text: str) -> tuple[bool, str]:
    """Check a typed folder path and start indexing it; (added, message as HTML)."""
    raw = (text or "").strip().strip('"').strip("'")
    problem = _unusable(raw)
    if problem is not None:
        return False, problem
    folder = Path(raw).expanduser().resolve()
    known = rt.engine.folders()
    if folder in known:
        return False, render.message(
            f"{render.pretty_path(str(folder))} is already indexed",
            "Choose it below and press Re-index to index it again from scratch.",
        )
    for other in known:
        if other in folder.parents:
            return False, render.message(
                f"{render.pretty_path(str(folder))} is inside {render.pretty_path(str(other))}",
                "That folder is indexed already, with everything in it.",
            )
    try:
        rt.library.add(folder)
    except (FathomError, StorageError) as exc:
        return False, render.message("Cannot add this folder", str(exc), "error")
    later = "as they are embedded" if rt.loader.ready else "once the model is loaded and they are embedded"
    return True, render.message(
        f"Added {render.pretty_path(str(folder))}",
        f"Fathom is reading it now: each file is searchable by its words at once, by meaning {later}.",
        "success",
    )


def _unusable(raw: str) -> str | None:
    """Why a typed path cannot be added (HTML), or None when it is a folder Fathom can read."""
    if not raw:
        return render.message("Type the path of a folder first", "For example ~/Documents or /home/you/notes.", "error")
    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        return render.message(
            f"{raw} is not a full path",
            "Give the whole path, starting with / (or ~ for your home folder), e.g. ~/Documents.",
            "error",
        )
    if not folder.exists():
        return render.message(f"No folder at {raw}", "Check the spelling: the path is on the computer that runs Fathom.", "error")
    if not folder.is_dir():
        return render.message(f"{raw} is a file, not a folder", "Give the folder that holds it.", "error")
    if not os.access(folder, os.R_OK | os.X_OK):
        return render.message(
            f"Fathom cannot read {raw}",
            "Its permissions do not let this user open it: change them, or run Fathom as a user who can.",
            "error",
        )
    return None


def reindex_folder(rt: Runtime, path: str | None) -> str:
    return _on_folder(rt, path, "Re-index", rt.library.reindex, "Re-indexing",
                      "Its files are read again; only passages whose text changed are embedded again.")


def remove_folder(rt: Runtime, path: str | None) -> str:
    return _on_folder(rt, path, "Remove", rt.library.remove, "Removed",
                      "Its files leave the index; the files themselves are not touched.")


def _on_folder(rt: Runtime, path: str | None, button: str, act: Callable[[Path], object], done: str, words: str) -> str:
    """Do `act` to the indexed folder chosen in the list (HTML: what was done, or why not)."""
    folder = _known_folder(rt, path)
    if folder is None:
        return render.message("Choose an indexed folder first", f"Pick one in the list, then press {button}.", "error")
    act(folder)
    return render.message(f"{done} {render.pretty_path(str(folder))}", words, "success")


def _known_folder(rt: Runtime, path: str | None) -> Path | None:
    if not path:
        return None
    wanted = Path(path)
    return next((f for f in rt.engine.folders() if f == wanted), None)
