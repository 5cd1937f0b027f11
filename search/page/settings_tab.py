"""The Settings tab: a field for each setting the page saves (settings_table.SAVED), labelled
with the row's `page` words, then Save, the question before a rebuild, and where things are;
and its events (settings_actions.py does the work)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import gradio as gr

from search.page import render, settings_actions
from search.page.runtime import Runtime
from search.page.settings_actions import EMBEDDING_INFO, FORMAT_CHOICES, SettingsForm, model_choices
from search.page.state import PageState
from search.page.widgets import html
from search.settings_table import DEVICES, env_name, setting

# Each saved setting's field: the component and what it says beside its label and value.
FIELDS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "embedding_model": (gr.Dropdown, dict(allow_custom_value=True, info=EMBEDDING_INFO, elem_id="fathom-embedding")),
    "reranker_model": (gr.Dropdown, dict(
        allow_custom_value=True, info="Reorders the best files by reading them with the query; `none` turns it off.",
        elem_id="fathom-reranker",
    )),
    "device": (gr.Dropdown, dict(choices=list(DEVICES), info="auto: a CUDA GPU, then Apple MPS, then the CPU.",
                                 elem_id="fathom-device")),
    "dim": (gr.Number, dict(
        info="Empty: the model's full width. Qwen3 models can be cut smaller (e.g. 512) for a smaller index; a "
        "change rebuilds it.", precision=0, minimum=0, elem_id="fathom-dim",
    )),
    "rerank_top": (gr.Slider, dict(minimum=1, maximum=50, step=1, info="How many of the best files the reranker reads.",
                                   elem_id="fathom-depth")),
    "embedding_url": (gr.Textbox, dict(
        placeholder="http://gpu-box:8000/v1",
        info="The base URL of an OpenAI-compatible server (vLLM, TEI, Infinity, Ollama...); the embedding model is "
        "then its name there. Empty: the model runs here. "
        f"An API key comes from {env_name('api_key')}, never from this page.",
        elem_id="fathom-embedding-url",
    )),
    "query_format": (gr.Dropdown, dict(
        choices=FORMAT_CHOICES, info="Qwen3: queries get Qwen3-Embedding's instruction; plain: sent as typed.",
        elem_id="fathom-query-format",
    )),
    "reranker_url": (gr.Textbox, dict(
        placeholder="http://gpu-box:8001/v1",
        info="A server with a rerank API (POST /rerank); the reranker is then its name there.",
        elem_id="fathom-reranker-url",
    )),
    "reranker_format": (gr.Dropdown, dict(
        choices=FORMAT_CHOICES,
        info="Qwen3: Qwen3-Reranker's prompt with the task; plain: query and passages as they are.",
        elem_id="fathom-reranker-format",
    )),
}
# Where each saved setting's field stands (every row of settings_table.SAVED has one): the
# order of the fields is also the order of the save function's arguments in the page's API.
ROWS = (("embedding_model", "reranker_model"), ("device", "dim", "rerank_top"))
SERVER_ROWS = (("embedding_url", "query_format"), ("reranker_url", "reranker_format"))  # "Models on another machine"
MODELS = {"embedding_model": "embedding", "reranker_model": "reranker"}  # fields whose choices are models


@dataclass
class SettingsTab:
    models: Any  # what the models are doing
    fields: dict[str, Any]  # setting name -> its field, in the page's order (ROWS, then SERVER_ROWS)
    save: Any
    saved: Any
    confirm_rebuild: Any
    rebuild: Any
    keep: Any
    facts: Any  # where things are, how the page is served


def build(first: PageState, values: dict[str, Any]) -> SettingsTab:
    """The tab's components, built inside its `gr.Tab`, with these values (nothing of this
    computer before the first `load`: see settings_actions.blank_settings)."""
    models = gr.HTML(first.models, elem_id="fathom-models")
    made: dict[str, Any] = {}
    for row in ROWS:
        with gr.Row():
            made.update((name, field(name, values[name])) for name in row)
    with gr.Accordion("Models on another machine", open=False, elem_id="fathom-servers"):
        for row in SERVER_ROWS:
            with gr.Row():
                made.update((name, field(name, values[name])) for name in row)
    with gr.Row():
        save = gr.Button("Save settings", variant="primary", scale=0, min_width=160, elem_id="fathom-save")
    saved = gr.HTML(visible=False, elem_id="fathom-saved")
    with gr.Row(visible=False, elem_id="fathom-confirm-rebuild") as confirm_rebuild:
        rebuild = gr.Button("Rebuild the index", variant="primary", scale=0, min_width=170)
        keep = gr.Button("Cancel", scale=0, min_width=110)
    facts = gr.HTML("", elem_id="fathom-facts")
    return SettingsTab(models=models, fields=made, save=save, saved=saved,
                       confirm_rebuild=confirm_rebuild, rebuild=rebuild, keep=keep, facts=facts)


def field(name: str, value: Any) -> Any:
    """The field of a saved setting, labelled as settings_table says. A model's choices leave
    out the small offline model's folder until `load` (a path of this computer)."""
    make, options = FIELDS[name]
    if name in MODELS:
        options = {**options, "choices": model_choices(MODELS[name], value, installed=False)}
    return make(value=value, label=label(name), **options)


def label(name: str) -> str:
    """A saved setting's label: its `page` words in settings_table."""
    return str(setting(name).page)


def wire(rt: Runtime, tab: SettingsTab) -> None:
    """Save (asking before a rebuild), Rebuild the index, Cancel."""

    def save(confirmed: bool, *values: Any) -> list[Any]:
        outcome = settings_actions.save(rt, SettingsForm(**dict(zip(tab.fields, values))), confirmed=confirmed)
        return [html(outcome.message), gr.Row(visible=outcome.confirm)]

    form = list(tab.fields.values())
    tab.save.click(partial(save, False), form, [tab.saved, tab.confirm_rebuild])
    tab.rebuild.click(partial(save, True), form, [tab.saved, tab.confirm_rebuild])
    tab.keep.click(
        lambda: [html(render.message("Nothing changed", "The index keeps its model.")), gr.Row(visible=False)],
        None,
        [tab.saved, tab.confirm_rebuild],
    )


def loaded(rt: Runtime, tab: SettingsTab) -> dict[Any, Any]:
    """The fields' values (and the models to choose from) and the facts, at the page's `load`."""
    values = settings_actions.settings_values(rt)
    updates: dict[Any, Any] = {
        component: gr.Dropdown(choices=model_choices(MODELS[name], values[name]), value=values[name])
        if name in MODELS else values[name]
        for name, component in tab.fields.items()
    }
    updates[tab.facts] = settings_actions.settings_facts(rt)
    return updates
