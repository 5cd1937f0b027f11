"""What changes by itself (models loading, indexing, folders), sent to the page each second
and at its `load`: only the parts that changed since this page last got them (state.py says
what they are)."""
from __future__ import annotations

from typing import Any

import gradio as gr

from search.page import settings_tab, state
from search.page.runtime import Runtime
from search.page.library_tab import LibraryTab
from search.page.search_tab import FOLDER_FILTER_CHOICES, SearchTab
from search.page.settings_tab import SettingsTab

TICK_SECONDS = 1.0


class Poller:
    def __init__(self, rt: Runtime, pill: Any, search: SearchTab, library: LibraryTab, settings: SettingsTab):
        self.rt, self.pill, self.search, self.library, self.settings = rt, pill, search, library, settings
        self.cache = gr.State({})  # what this page last got: unchanged parts are left alone

    @property
    def inputs(self) -> list[Any]:
        return [self.cache, self.search.touched, self.library.chosen, self.search.folder]

    @property
    def outputs(self) -> list[Any]:
        search, library = self.search, self.library
        return [self.pill, library.progress, library.folders, library.problems, library.problems_box,
                self.settings.models, library.chosen, search.folder, library.actions, search.welcome,
                search.to_library, search.rerank, search.task, search.instruction, search.task_note, self.cache]

    def wire(self, page: gr.Blocks) -> None:
        timer = gr.Timer(TICK_SECONDS)
        timer.tick(self.tick, self.inputs, self.outputs, show_progress="hidden", concurrency_limit=None,
                   api_visibility="private")
        settings = [*self.settings.fields.values(), self.settings.facts]
        page.load(self.on_load, self.inputs, self.outputs + settings, show_progress="hidden")

    def tick(self, seen: dict[str, Any], person_set_rerank: bool, chosen_now: str | None,
             folder_now: str | None) -> Any:
        return self.changes(seen, person_set_rerank, chosen_now, folder_now) or gr.skip()

    def on_load(self, seen: dict[str, Any], person_set_rerank: bool, chosen_now: str | None,
                folder_now: str | None) -> dict[Any, Any]:
        # The first of the changes, and the Settings tab's values: nothing of this computer is
        # in the page before it is loaded, after signing in. (No docstring: it would be the
        # page's API description of this function.)
        return {**self.changes(seen, person_set_rerank, chosen_now, folder_now),
                **settings_tab.loaded(self.rt, self.settings)}

    def changes(self, seen: dict[str, Any], person_set_rerank: bool, chosen_now: str | None,
                folder_now: str | None) -> dict[Any, Any]:
        """Each output whose part of the page's state changed since `seen`, with the new `seen`."""
        now = state.page_state(self.rt)
        seen = dict(seen or {})

        def fresh(key: str, value: Any) -> bool:
            if seen.get(key) == value:
                return False
            seen[key] = value
            return True

        search, library = self.search, self.library
        out: dict[Any, Any] = {}
        for key, component in (("pill", self.pill), ("progress", library.progress), ("folders", library.folders),
                               ("problems", library.problems), ("models", self.settings.models)):
            if fresh(key, getattr(now, key)):
                out[component] = getattr(now, key)
        if fresh("problems_label", now.problems_label):
            out[library.problems_box] = gr.Accordion(label=now.problems_label)
        choices = [list(c) for c in now.folder_choices]
        if fresh("choices", choices):
            paths = [c[1] for c in choices]
            out[library.chosen] = gr.Dropdown(choices=[tuple(c) for c in choices],
                                              value=chosen_now if chosen_now in paths else None)
            out[search.folder] = gr.Dropdown(
                choices=FOLDER_FILTER_CHOICES + [tuple(c) for c in choices],
                value=folder_now or "",  # an indexed folder, or one typed inside it
            )
        if fresh("has_folders", now.has_folders):
            out[library.actions] = gr.Row(visible=now.has_folders)
            out[search.welcome] = gr.HTML(visible=not now.has_folders)
            out[search.to_library] = gr.Button(visible=not now.has_folders)
        rerank: dict[str, Any] = {}
        if fresh("rerank_info", now.rerank_info):
            rerank["info"] = now.rerank_info
        if now.rerank_default is not None and not person_set_rerank and fresh("rerank_default", now.rerank_default):
            rerank["value"] = now.rerank_default
        if rerank:
            out[search.rerank] = gr.Checkbox(**rerank)
        if fresh("tasks", now.tasks_note):  # a model that takes no instructions: no Task control, and why
            out[search.task] = gr.Dropdown(visible=now.tasks)
            out[search.instruction] = gr.Textbox(visible=now.tasks)
            out[search.task_note] = gr.HTML(value=now.tasks_note, visible=not now.tasks)
        if out:
            out[self.cache] = seen
        return out
