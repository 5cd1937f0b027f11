"""The page: its header and three tabs (search_tab, library_tab, settings_tab), each building
and wiring its own components, and the poller that keeps them current. Gradio is imported
only below this module (and launch.py), when `serve` runs."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves this computer

import gradio as gr  # noqa: E402

from search.page import settings_actions, state  # noqa: E402
from search.page.poller import Poller  # noqa: E402
from search.page.runtime import Runtime  # noqa: E402
from search.page import library_tab, search_tab, settings_tab  # noqa: E402
from search.page.theme import asset  # noqa: E402


def header_html() -> str:
    return (
        '<div class="fathom-brand">'
        f'<span class="fathom-logo" aria-hidden="true">{asset("logo.svg")}</span>'
        '<div><div class="fathom-title">Fathom</div>'
        '<div class="fathom-tagline">Search your own files by meaning, on your own machine</div></div>'
        "</div>"
    )


def build(rt: Runtime) -> gr.Blocks:
    """The whole page for `rt`, wired.

    What the page carries before anyone signed in (Gradio's login page describes the page's
    API, with the fields' choices and values) must say nothing of this computer: no folder,
    model path, data folder or setting. All of that comes with the first `load`, after login."""
    first = state.blank_state()
    with gr.Blocks(title="Fathom", analytics_enabled=False, delete_cache=(3600, 3600)) as page:
        with gr.Row(elem_id="fathom-header", equal_height=True):
            gr.HTML(header_html(), scale=3, min_width=240, elem_id="fathom-brand")
            pill = gr.HTML(first.pill, scale=2, min_width=200, elem_id="fathom-pill-box")
        with gr.Tabs(selected="search", elem_id="fathom-tabs") as tabs:
            with gr.Tab("Search", id="search", elem_id="fathom-search-tab"):
                searching = search_tab.build(first)
            with gr.Tab("Library", id="library", elem_id="fathom-library-tab"):
                library = library_tab.build(first)
            with gr.Tab("Settings", id="settings", elem_id="fathom-settings-tab"):
                settings = settings_tab.build(first, settings_actions.blank_settings())
        search_tab.wire(page, rt, searching, tabs)
        library_tab.wire(rt, library)
        settings_tab.wire(rt, settings)
        Poller(rt, pill, searching, library, settings).wire(page)
    return page
