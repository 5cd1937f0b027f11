"""The Library tab: add a folder, the progress, the folders (re-index or remove one, each asked
first) and the files not indexed; and its events (folder_actions.py does the work)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import gradio as gr

from search.page import folder_actions, render
from search.page.runtime import Runtime
from search.page.state import PageState
from search.page.widgets import html

REINDEX_QUESTION = (
    "<b>Read every file of {folder} again?</b> Passages whose text did not change keep their vectors: only "
    "what changed is embedded again. Search finds the current version meanwhile."
)
REMOVE_QUESTION = "<b>Remove {folder}?</b> Its files leave the index (the files themselves stay where they are)."


@dataclass
class LibraryTab:
    path: Any
    add: Any
    added: Any
    progress: Any
    folders: Any
    actions: Any  # the row of the chosen folder and its buttons
    chosen: Any
    reindex: Any
    remove: Any
    confirm_reindex: Any
    reindex_words: Any
    yes_reindex: Any
    no_reindex: Any
    confirm_remove: Any
    confirm_words: Any
    yes_remove: Any
    no_remove: Any
    folder_message: Any
    problems_box: Any
    problems: Any


def build(first: PageState) -> LibraryTab:
    """The tab's components, built inside its `gr.Tab`."""
    with gr.Row(elem_id="fathom-add-row"):
        path = gr.Textbox(label="Add a folder", placeholder="~/Documents", scale=6, elem_id="fathom-folder-path",
                          info="The path of a folder on this computer; Fathom indexes it and keeps watching it.")
        add = gr.Button("Add folder", variant="primary", scale=0, min_width=130, elem_id="fathom-add")
    added = gr.HTML(visible=False, elem_id="fathom-added")
    progress = gr.HTML(first.progress, elem_id="fathom-progress")
    folders = gr.HTML(first.folders, elem_id="fathom-folders")
    with gr.Row(equal_height=True, elem_id="fathom-folder-actions", visible=False) as actions:
        chosen = gr.Dropdown(list(first.folder_choices), value=None, label="Folder", scale=4, elem_id="fathom-chosen")
        reindex = gr.Button("Re-index", scale=0, min_width=130, elem_id="fathom-reindex")
        remove = gr.Button("Remove", variant="stop", scale=0, min_width=110, elem_id="fathom-remove")
    with gr.Row(visible=False, equal_height=True, elem_id="fathom-confirm-reindex") as confirm_reindex:
        reindex_words = gr.HTML()
        yes_reindex = gr.Button("Re-index it", variant="primary", scale=0, min_width=120, elem_id="fathom-reindex-yes")
        no_reindex = gr.Button("Cancel", scale=0, min_width=110)
    with gr.Row(visible=False, equal_height=True, elem_id="fathom-confirm-remove") as confirm_remove:
        confirm_words = gr.HTML()
        yes_remove = gr.Button("Remove it", variant="stop", scale=0, min_width=120)
        no_remove = gr.Button("Keep it", scale=0, min_width=110)
    folder_message = gr.HTML(visible=False, elem_id="fathom-folder-message")
    with gr.Accordion(first.problems_label, open=False, elem_id="fathom-problems") as problems_box:
        problems = gr.HTML(first.problems)
    return LibraryTab(
        path=path, add=add, added=added, progress=progress, folders=folders, actions=actions, chosen=chosen,
        reindex=reindex, remove=remove, confirm_reindex=confirm_reindex, reindex_words=reindex_words,
        yes_reindex=yes_reindex, no_reindex=no_reindex, confirm_remove=confirm_remove, confirm_words=confirm_words,
        yes_remove=yes_remove, no_remove=no_remove, folder_message=folder_message, problems_box=problems_box,
        problems=problems,
    )


def wire(rt: Runtime, tab: LibraryTab) -> None:
    """Add a folder (the button or Enter); Re-index and Remove, each asked first."""

    # The functions' names are the page's API names (`/do_add`...): scripts call them.
    def do_add(text: str) -> tuple[Any, Any]:
        ok, words = folder_actions.add_folder(rt, text)
        return html(words), ("" if ok else gr.skip())

    def ask_reindex(chosen_path: str | None) -> list[Any]:
        return ask(chosen_path, REINDEX_QUESTION)

    def ask_remove(chosen_path: str | None) -> list[Any]:
        return ask(chosen_path, REMOVE_QUESTION)

    tab.add.click(do_add, tab.path, [tab.added, tab.path])
    tab.path.submit(do_add, tab.path, [tab.added, tab.path])

    tab.reindex.click(ask_reindex, tab.chosen, [tab.confirm_reindex, tab.reindex_words, tab.folder_message])
    tab.yes_reindex.click(
        lambda p: [gr.Row(visible=False), html(folder_actions.reindex_folder(rt, p))],
        tab.chosen,
        [tab.confirm_reindex, tab.folder_message],
    )
    tab.no_reindex.click(lambda: gr.Row(visible=False), None, tab.confirm_reindex)

    tab.remove.click(ask_remove, tab.chosen, [tab.confirm_remove, tab.confirm_words, tab.folder_message])
    tab.yes_remove.click(
        lambda p: [gr.Row(visible=False), html(folder_actions.remove_folder(rt, p)), gr.Dropdown(value=None)],
        tab.chosen,
        [tab.confirm_remove, tab.folder_message, tab.chosen],
    )
    tab.no_remove.click(lambda: gr.Row(visible=False), None, tab.confirm_remove)


def ask(chosen_path: str | None, question: str) -> list[Any]:
    """The confirming row, its question about the chosen folder, and no message; or why not."""
    if not chosen_path:
        return [gr.Row(visible=False), "", html(render.message("Choose an indexed folder first", "", "error"))]
    words = question.format(folder=escape(render.pretty_path(chosen_path)))
    return [gr.Row(visible=True), f'<div class="fathom-confirm">{words}</div>', html("")]
