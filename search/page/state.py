"""What the page polls: the header's pill, the Library's progress, folders and problems, the
models' panel and the search controls that depend on them, as one PageState (poller.py sends
what changed each second)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from search.config import Settings
from search.engine import CPU_RERANK_SECONDS
from search.page import render, render_library
from search.page.loader import short_name
from search.page.runtime import Runtime
from search.page.settings_actions import small_offline_model
from search.query import DEFAULT_RERANK_TOP

MEASURED_RERANKER = "Qwen3-Reranker-0.6B"  # the reranker search.engine.CPU_RERANK_SECONDS is for
# -- what the page polls -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    pill: str
    progress: str
    folders: str
    problems: str
    problems_label: str
    models: str
    folder_choices: tuple[tuple[str, str], ...]
    has_folders: bool
    rerank_info: str
    rerank_default: bool | None  # None until the device is known
    tasks: bool = True  # whether the Task and instruction controls mean anything
    tasks_note: str = ""  # HTML: why they are hidden, when they are


def page_state(rt: Runtime) -> PageState:
    loader, library = rt.loader.view(), rt.library.view()
    choices = tuple((render.pretty_path(f.path), f.path) for f in library.folders)
    info, default = rerank_hint(rt, loader)
    tasks = tasks_matter(loader)
    return PageState(
        pill=render.pill(loader, library),
        progress=render_library.progress(library, loader),
        folders=render_library.folders_table(library),
        problems=render_library.problems(library),
        problems_label=render_library.problems_label(library),
        models=render.model_panel(loader, rt.settings),
        folder_choices=choices,
        has_folders=bool(choices),
        rerank_info=info,
        rerank_default=default,
        tasks=tasks,
        tasks_note="" if tasks else tasks_note(rt.settings),
    )


def tasks_matter(loader: Any) -> bool:
    """A task or instruction guides Qwen3 models; an embedder that takes none (a plain sentence
    encoder) ignores it, and so does everything when no reranker that reads it is ready."""
    return loader.instructions is not False or loader.reranker == "ready"


def tasks_note(settings: Settings) -> str:
    """Why there is no Task control: the embedding model reads no instruction, and no
    reranker that would is ready."""
    name = "all-MiniLM-L6-v2" if settings.embedding_model == small_offline_model() else short_name(settings.embedding_model)
    return (
        '<div class="fathom-task-note fathom-muted">'
        f"<b>No Task choice:</b> {escape(name)} reads no task instructions (Qwen3 models and rerankers do).</div>"
    )


def blank_state() -> PageState:
    """What the page shows before its first `load`: nothing of this computer (no folder, model
    or setting), since Gradio's login page describes the page as it was built."""
    return PageState(
        pill=render.starting_pill(),
        progress="",
        folders="",
        problems="",
        problems_label=render_library.problems_label(None),
        models="",
        folder_choices=(),
        has_folders=False,
        rerank_info="Reads the best files again for a more precise order.",
        rerank_default=None,
    )


def rerank_hint(rt: Runtime, loader: Any) -> tuple[str, bool | None]:
    """The rerank switch's words (with its cost on a CPU) and its default once known: on for
    a GPU, off for a CPU, where it costs seconds per search. `loader`: the models' view."""
    settings = rt.settings
    if settings.reranker_model is None:
        return "No reranker is set: choose one in Settings.", False
    top = settings.rerank_top or DEFAULT_RERANK_TOP
    if loader.reranker == "failed":
        return "The reranker did not load (see Settings).", False
    if loader.reranker != "ready":
        return f"Reads the best {top} files again for a more precise order (the reranker is loading).", None
    if (loader.reranker_device or loader.device).startswith("cpu"):
        if short_name(settings.reranker_model) == MEASURED_RERANKER:  # the one CPU_RERANK_SECONDS was measured with
            return (f"Reads the best {top} files again for a more precise order: about "
                    f"{top * CPU_RERANK_SECONDS:.0f} s per search on this CPU.", False)
        return (f"Reads the best {top} files again for a more precise order. On a CPU it takes a while: "
                "the summary says how long each search took.", False)
    return f"Reads the best {top} files again for a more precise order.", True

