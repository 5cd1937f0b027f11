"""The Search tab: the search bar, its options and filters, the result cards; and its events
(search_actions.py does the work)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from search.page import card_actions, render, result_list, search_actions, search_state
from search.page.runtime import Runtime
from search.page.search_actions import SearchForm, SearchView
from search.page.state import PageState
from search.page.widgets import focus_js, html, is_local
from search.query import has_words

FOLDER_FILTER_CHOICES = [("All folders", "")]

# After a card's Download: click the new copy's link (not one clicked before), once it is there.
CLICK_DOWNLOAD_JS = """() => {
  let tries = 0;
  const click = () => {
    const link = document.querySelector('#fathom-file a[download]');
    if (link && link.href !== window.fathomDownloaded) { window.fathomDownloaded = link.href; link.click(); }
    else if (!link && ++tries < 30) setTimeout(click, 100);
  };
  setTimeout(click, 30);
}"""

# After a search: its parameters into the address bar (a new history entry, so Back goes back;
# none when the address says it already), and the query into the recent searches (page.js).
REMEMBER_JS = "(address, q) => { window.fathomRemember && window.fathomRemember(address, q); }"


@dataclass
class SearchTab:
    welcome: Any
    to_library: Any
    query: Any
    go: Any
    task: Any
    rerank: Any
    sort: Any
    task_note: Any
    filters_box: Any
    folder: Any
    types: Any
    glob: Any
    after: Any
    before: Any
    mode: Any
    instruction: Any
    show_scores: Any
    summary: Any
    message: Any
    listing: Any
    file: Any
    more: Any
    url: Any  # the search as URL parameters
    results: Any  # State: the results shown, as Result.to_json()
    shown_count: Any  # State: how many are shown ("Show more" adds to it)
    previews: Any  # State: card number -> its open preview (HTML)
    touched: Any  # State: the person set the rerank switch, so the poller leaves it alone

    @property
    def form(self) -> list[Any]:
        """The fields a search is made of, in SearchForm's order (see `asked`), then Show scores."""
        return [self.query, self.task, self.instruction, self.rerank, self.mode, self.folder, self.types,
                self.glob, self.after, self.before, self.sort, self.show_scores]

    @property
    def filters(self) -> list[Any]:
        return [self.folder, self.types, self.glob, self.after, self.before]

    @property
    def shown(self) -> list[Any]:
        """What a search changes."""
        return [self.results, self.summary, self.message, self.more, self.shown_count, self.previews, self.url,
                self.listing, self.file]


def build(first: PageState) -> SearchTab:
    """The tab's components, built inside its `gr.Tab`."""
    welcome = gr.HTML(render.welcome(), visible=False, elem_id="fathom-welcome")
    to_library = gr.Button("Add a folder", variant="primary", visible=False, elem_id="fathom-to-library")
    with gr.Row(elem_id="fathom-searchbar", equal_height=True):
        query = gr.Textbox(
            show_label=False,
            placeholder="What are you looking for? e.g. the warranty for the dishwasher",
            autofocus=True,
            container=False,
            scale=6,
            elem_id="fathom-query",
        )
        go = gr.Button("Search", variant="primary", scale=0, min_width=110, elem_id="fathom-go")
    with gr.Row(elem_id="fathom-options", equal_height=True):
        task = gr.Dropdown(
            search_actions.task_choices(), value="question", label="Task", scale=3, elem_id="fathom-task"
        )
        rerank = gr.Checkbox(value=False, label="Rerank", info=first.rerank_info, scale=2, elem_id="fathom-rerank")
        sort = gr.Radio(search_state.SORT_CHOICES, value="relevance", label="Order", scale=2, elem_id="fathom-sort")
    task_note = gr.HTML(visible=False, elem_id="fathom-task-note")
    gr.HTML('<div id="fathom-recent-list" class="fathom-recent"></div>', elem_id="fathom-recent")
    filters = _filters()
    summary = gr.HTML(visible=False, elem_id="fathom-summary")
    message = gr.HTML(visible=False, elem_id="fathom-message")
    listing = gr.HTML("", elem_id="fathom-results", js_on_load=result_list.CLICKS_JS, padding=False, container=False)
    file = gr.File(visible=False, interactive=False, show_label=False, elem_id="fathom-file", elem_classes="fathom-file")
    more = gr.Button("Show more", visible=False, elem_id="fathom-more")
    url = gr.Textbox(visible=False, elem_id="fathom-url")
    return SearchTab(
        welcome=welcome, to_library=to_library, query=query, go=go, task=task, rerank=rerank, sort=sort,
        task_note=task_note, **filters, summary=summary, message=message, listing=listing, file=file, more=more,
        url=url, results=gr.State([]), shown_count=gr.State(search_actions.RESULTS), previews=gr.State({}),
        touched=gr.State(False),
    )


def _filters() -> dict[str, Any]:
    with gr.Accordion(search_state.filters_label([]), open=False, elem_id="fathom-filters") as filters_box:
        with gr.Row():
            folder = gr.Dropdown(
                FOLDER_FILTER_CHOICES, value="", label="Folder", allow_custom_value=True,
                info="An indexed folder, or type one inside it (~/Documents/taxes).",
                elem_id="fathom-filter-folder",
            )
            types = gr.Textbox(label="File types", placeholder="md, pdf", elem_id="fathom-filter-types")
            glob = gr.Textbox(label="File name", placeholder="invoice* or */2024/*", elem_id="fathom-filter-glob")
        with gr.Row():
            after = gr.Textbox(label="Modified after", placeholder="2024-05-31, or 30d ago", elem_id="fathom-filter-after")
            before = gr.Textbox(label="Modified before", placeholder="2024-12-31, or 1y ago", elem_id="fathom-filter-before")
            mode = gr.Radio(search_actions.MODE_CHOICES, value="hybrid", label="Match", elem_id="fathom-mode")
        with gr.Row():
            instruction = gr.Textbox(
                label="Your own instruction",
                placeholder="Given a bug report, retrieve the code that causes it",
                info="Replaces the task: tells the Qwen3 model what a good match is.",
                scale=4,
                elem_id="fathom-instruction",
            )
            show_scores = gr.Checkbox(value=False, label="Show scores", scale=1, elem_id="fathom-scores")
    return dict(filters_box=filters_box, folder=folder, types=types, glob=glob, after=after, before=before,
                mode=mode, instruction=instruction, show_scores=show_scores)


def wire(page: gr.Blocks, rt: Runtime, tab: SearchTab, tabs: gr.Tabs) -> None:
    """The tab's events: a search (Enter, the button, the order, the page's address), Show
    more, a card's buttons, Show scores, the filters' label, and the way to the Library."""
    events = SearchEvents(rt, tab)
    searching = dict(outputs=tab.shown, show_progress="minimal", concurrency_limit=4)
    for trigger in (tab.query.submit, tab.go.click):
        trigger(events.do_search, tab.form, **searching).then(None, [tab.url, tab.query], js=REMEMBER_JS)
    tab.sort.input(events.search_from_url, tab.form, **searching).then(None, [tab.url, tab.query], js=REMEMBER_JS)
    tab.more.click(events.do_more, [tab.shown_count] + tab.form, **searching).then(
        None, [tab.url, tab.query], js=REMEMBER_JS)
    page.load(events.from_url, None, [tab.query, tab.mode, tab.sort, *tab.filters], show_progress="hidden").then(
        events.search_from_url, tab.form, **searching)
    tab.show_scores.change(events.do_scores, [tab.results, tab.show_scores, tab.previews], tab.listing,
                           show_progress="hidden")
    tab.listing.click(events.on_card, [tab.results, tab.previews] + tab.form, tab.shown, show_progress="hidden",
                      concurrency_limit=4, api_visibility="private").then(None, js=CLICK_DOWNLOAD_JS)
    tab.rerank.input(lambda: True, None, tab.touched, show_progress="hidden")
    gr.on(
        [f.change for f in tab.filters],
        lambda *v: gr.Accordion(label=search_state.filters_label(search_state.active_filters(*v))),
        tab.filters,
        tab.filters_box,
        show_progress="hidden",
        api_visibility="private",
    )
    tab.to_library.click(lambda: gr.Tabs(selected="library"), None, tabs, js=focus_js("fathom-folder-path"))


class SearchEvents:
    """The tab's handlers: each takes the form's values (`tab.form`) and answers `tab.shown`.
    Their names are the page's API names (`/do_search`...), and their docstrings the API's
    descriptions: scripts call them."""

    def __init__(self, rt: Runtime, tab: SearchTab):
        self.rt, self.tab = rt, tab

    def do_search(self, request: gr.Request, *values: Any) -> dict[Any, Any]:
        asked, scores = asked_form(values)
        return self._show(search_actions.search(self.rt, asked), scores, asked, is_local(request))

    def search_from_url(self, request: gr.Request, *values: Any) -> Any:
        # A search when the query has words (the page's address may ask for none).
        if not has_words(values[0] or ""):
            return gr.skip()
        return self.do_search(request, *values)

    def do_more(self, request: gr.Request, count: int, *values: Any) -> dict[Any, Any]:
        wanted = min(search_state.MAX_RESULTS, int(count or 0) + search_state.PAGE_SIZE)
        asked, scores = asked_form(values, wanted)
        return self._show(search_actions.search(self.rt, asked), scores, asked, is_local(request))

    def on_card(self, event: gr.EventData, request: gr.Request, found: list[dict[str, Any]],
             open_previews: dict[Any, str], *values: Any) -> Any:
        """A click on a card's button: which one and which card come with the event."""
        hit = result_list.clicked(getattr(event, "_data", None), found or [])
        if hit is None:
            return gr.skip()
        action, i = hit
        asked, scores = asked_form(values)
        local, tab = is_local(request), self.tab
        if action == "like":
            view = search_actions.more_like_this(self.rt, found[i]["path"], asked)
            return self._show(view, scores, asked, local, like=True)
        if action == "preview":  # a second click closes it
            now_open = _previews(open_previews)
            if now_open.pop(i, None) is None:
                now_open[i] = card_actions.preview_of(self.rt, found[i])
            return {tab.previews: now_open, tab.listing: listed(found, scores, local, now_open)}
        if action in ("open", "folder"):
            ok, words = card_actions.open_on_desktop(self.rt, found[i], folder=action == "folder", local=local)
            (gr.Info if ok else gr.Warning)(words)
            return gr.skip()
        if action == "get":
            copy, problem = search_actions.open_file(self.rt, found[i]["path"])
            if copy is None:
                gr.Warning(problem)
            return {tab.file: gr.File(value=str(copy) if copy else None, visible=copy is not None)}
        return gr.skip()

    def do_scores(self, request: gr.Request, found: list[dict[str, Any]], scores: bool,
               open_previews: dict[Any, str]) -> str:
        return listed(found, scores, is_local(request), open_previews)

    def from_url(self, request: gr.Request) -> list[Any]:
        """The search the page's address asks for (`?q=...&mode=...`), into the form."""
        asked = search_state.form_from_url(dict(request.query_params), SearchForm())
        return [asked.query, asked.mode, asked.sort, asked.folder, asked.types, asked.path_glob, asked.after,
                asked.before]

    def _show(self, view: SearchView, scores: bool, asked: SearchForm, local: bool,
              like: bool = False) -> dict[Any, Any]:
        tab = self.tab
        can_more = view.more and asked.count < search_state.MAX_RESULTS
        return {
            tab.results: view.results,
            tab.summary: html(view.summary),
            tab.message: html(view.message),
            tab.more: gr.Button(visible=can_more),
            tab.shown_count: asked.count,
            tab.previews: {},
            tab.url: "" if like or view.message else search_state.url_query(asked),
            tab.listing: listed(view.results, scores, local, {}),
            tab.file: gr.File(value=None, visible=False),
        }


def asked_form(values: tuple[Any, ...], count: int = search_actions.RESULTS) -> tuple[SearchForm, bool]:
    """The form's values (`SearchTab.form`) as a SearchForm, and whether to show scores."""
    q, t, ins, rr, m, fo, ty, gl, af, be, so, scores = values
    form = SearchForm(
        q or "", t, ins or "", bool(rr), m or "hybrid", fo or "", ty or "", gl or "", af or "", be or "",
        so or "relevance", count,
    )
    return form, bool(scores)


def listed(found: list[dict[str, Any]], scores: bool, local: bool, open_previews: dict[Any, str]) -> str:
    return result_list.result_list(search_actions.cards(found, scores), local, _previews(open_previews))


def _previews(open_previews: dict[Any, str] | None) -> dict[int, str]:
    return {int(k): v for k, v in (open_previews or {}).items()}
