"""Open a found file, or its folder, with this computer's own apps, at the passage where the
app can be told where: a line for an editor that takes one, a page for a PDF viewer that takes
one. Only for a person sitting at this computer (`local_person`): opening a file on the machine
that runs Fathom means nothing to someone behind a share link or on another computer.

The command is built by one function (`open_command`) of the platform's facts (`Desktop`), so
tests check the command Fathom would run without opening a desktop. No Gradio here.
"""
from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from search.ingest.extract import CONTAINER_EXTENSIONS, HTML_EXTENSIONS, NOTEBOOK_EXTENSIONS, decode_text
from search.page.access import is_loopback

# Editors that open a file at a line, and how; terminal editors (vim, nano) are left out: Fathom
# runs without a terminal to show them in.
EDITOR_LINE_ARGS: dict[str, Callable[[str, int], list[str]]] = {
    **{name: (lambda path, line: ["-g", f"{path}:{line}"]) for name in ("code", "code-insiders", "codium", "cursor")},
    **{name: (lambda path, line: [f"{path}:{line}"]) for name in ("subl", "sublime_text", "zed")},
    **{name: (lambda path, line: [f"+{line}", path]) for name in ("gedit", "gvim", "mvim", "geany", "emacs", "emacsclient", "xed", "pluma", "mousepad")},
    "kate": lambda path, line: ["--line", str(line), path],
    "gnome-text-editor": lambda path, line: [f"+{line}", path],
}
# PDF viewers that open a file at a page, by their desktop entry's name (xdg-mime's answer).
PDF_PAGE_ARGS: dict[str, Callable[[str, int], list[str]]] = {
    "org.gnome.Evince.desktop": lambda path, page: ["evince", f"--page-index={page}", path],
    "evince.desktop": lambda path, page: ["evince", f"--page-index={page}", path],
    "atril.desktop": lambda path, page: ["atril", f"--page-index={page}", path],
    "org.kde.okular.desktop": lambda path, page: ["okular", "-p", str(page), path],
    "okularApplication_pdf.desktop": lambda path, page: ["okular", "-p", str(page), path],
    "org.pwmt.zathura.desktop": lambda path, page: ["zathura", "-P", str(page), path],
    "org.pwmt.zathura-pdf-mupdf.desktop": lambda path, page: ["zathura", "-P", str(page), path],
}
_WAIT_FLAGS = {"--wait", "-w", "-nw", "--new-window"}
_NO_LINES = CONTAINER_EXTENSIONS | HTML_EXTENSIONS | NOTEBOOK_EXTENSIONS  # their text is not the file's


def _pdf_default() -> str | None:
    """The desktop entry that opens PDFs here (Linux), e.g. org.gnome.Evince.desktop."""
    try:
        done = subprocess.run(["xdg-mime", "query", "default", "application/pdf"],
                              capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


@dataclass(frozen=True)
class Desktop:
    """What the command depends on: the system, the environment ($VISUAL, $EDITOR), which
    programs are installed, and which app opens PDFs."""

    system: str = field(default_factory=platform.system)  # "Linux", "Darwin", "Windows"
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    which: Callable[[str], str | None] = shutil.which
    pdf_app: Callable[[], str | None] = _pdf_default


@dataclass(frozen=True)
class Opening:
    """How to open something: `command` to run (None on Windows: os.startfile(`target`)), what
    it honours of the passage's place (`at`: "at line 12"), and what it cannot (`missed`)."""

    target: str
    command: list[str] | None
    at: str = ""
    missed: str = ""
    problem: str = ""  # why nothing can be opened (no opener installed)


def open_command(
    path: str, desktop: Desktop, *, folder: bool = False, page: int | None = None, line: int | None = None
) -> Opening:
    """The command that opens `path` (or the folder it sits in, with it selected where the file
    manager can) at `page` or `line` where the app that opens it takes one."""
    system = desktop.system
    line = line if line and line > 1 else None  # the top: any app opens it there
    page = page if page and page > 1 else None
    if folder:
        if system == "Darwin":
            return Opening(path, ["open", "-R", path])  # Finder, with the file selected
        if system == "Windows":
            return Opening(path, ["explorer", f"/select,{path}"])
        return _opener(str(Path(path).parent), desktop)
    if line is not None:
        editor = _line_editor(desktop, path, line)
        if editor is not None:
            return Opening(path, editor, at=f"at line {line}")
    if page is not None and system == "Linux":
        app = desktop.pdf_app()
        if app in PDF_PAGE_ARGS:
            return Opening(path, PDF_PAGE_ARGS[app](path, page), at=f"at page {page}")
    opening = _opener(path, desktop)
    where = f"page {page}" if page is not None else f"line {line}" if line is not None else ""
    if where and not opening.problem:
        return Opening(opening.target, opening.command,
                       missed=f"The app that opens it starts at the top: the passage is at {where}.")
    return opening


def _opener(target: str, desktop: Desktop) -> Opening:
    if desktop.system == "Windows":
        return Opening(target, None)
    if desktop.system == "Darwin":
        return Opening(target, ["open", target])
    if desktop.which("xdg-open") is None:
        return Opening(target, None, problem="Nothing here opens files: install xdg-utils (it gives xdg-open).")
    return Opening(target, ["xdg-open", target])


def _line_editor(desktop: Desktop, path: str, line: int) -> list[str] | None:
    """$VISUAL (else $EDITOR), when it is an editor with a window that takes a line."""
    for variable in ("VISUAL", "EDITOR"):
        try:
            words = shlex.split(desktop.env.get(variable) or "")
        except ValueError:
            continue
        if not words:
            continue
        name = Path(words[0]).name.removesuffix(".exe")
        if name in EDITOR_LINE_ARGS and desktop.which(words[0]):
            return [words[0], *[w for w in words[1:] if w not in _WAIT_FLAGS], *EDITOR_LINE_ARGS[name](path, line)]
    return None


def passage_line(real: Path, start: int, passage: str) -> int | None:
    """The line (from 1) where a passage starts in a text or code file, when the file still
    holds it there; None for other formats (their text is not the file's) or a changed file."""
    if real.suffix.lower() in _NO_LINES or start < 0 or not passage:
        return None
    try:
        text = decode_text(real.read_bytes())
    except (OSError, ValueError):
        return None
    if text[start : start + len(passage)] != passage:
        return None
    return text.count("\n", 0, start) + 1


def launch(opening: Opening) -> str:
    """Run it, detached (the app outlives the request); "" or why it did not start."""
    try:
        if opening.command is None:
            os.startfile(opening.target)  # type: ignore[attr-defined]  # Windows only
        else:
            subprocess.Popen(opening.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError as exc:
        return f"{(opening.command or ['the file'])[0]} did not start: {exc.strerror or exc}."
    return ""


def local_person(client: str | None, host_header: str | None, headers: Mapping[str, str]) -> bool:
    """Whether the request comes from a browser on this computer, on a loopback address it
    typed itself: not through a share link (its tunnel connects from this computer too, so
    the Host says where it came in) and not through a proxy (X-Forwarded-For, Forwarded)."""
    if any(name.lower() in ("x-forwarded-for", "forwarded") for name in headers):
        return False
    if not client or not is_loopback(client):
        return False
    try:
        name = urlsplit("//" + (host_header or "")).hostname
    except ValueError:
        return False
    return bool(name) and is_loopback(name)
