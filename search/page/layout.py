"""The page's components and how they are wired to handlers.py. The only module of Fathom
that imports Gradio (with __init__.serve, which imports this one)."""
from __future__ import annotations

import os
import webbrowser
from functools import partial
from html import escape
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves this computer

import gradio as gr  # noqa: E402

from search.config import DEVICES  # noqa: E402
from search.errors import FathomError  # noqa: E402
from search.page import guard, handlers, render, search_state  # noqa: E402
from search.page.access import LoginAttempts, host_names, is_loopback  # noqa: E402
from search.page import card_actions, result_list  # noqa: E402
from search.page.open_file import local_person  # noqa: E402
from search.page.runtime import Runtime  # noqa: E402
from search.page.token import QUERY_NAME  # noqa: E402

ASSETS = Path(__file__).resolve().parents[2] / "assets"
TICK_SECONDS = 1.0
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
DEEP = gr.themes.Color(
    c50="#eef6f8", c100="#d6e9ee", c200="#b0d4de", c300="#80b8c8", c400="#4f98ad",
    c500="#2f7c93", c600="#24667b", c700="#1e5465", c800="#1a4554", c900="#163a46", c950="#0c232b",
    name="fathom",
)


def theme() -> gr.themes.Base:
    """Calm and quiet: deep-water blue on slate, the computer's own fonts (no web fonts are
    fetched: the page works offline and tells nobody it was opened)."""
    return gr.themes.Base(
        primary_hue=DEEP,
        secondary_hue=DEEP,
        neutral_hue=gr.themes.colors.slate,
        font=SYSTEM_FONTS,
        font_mono=MONO_FONTS,
        radius_size=gr.themes.sizes.radius_md,
    ).set(
        body_background_fill="#f5f7f8",
        body_background_fill_dark="#0e1418",
        block_background_fill="white",
        block_background_fill_dark="#151d22",
        block_border_width="1px",
        block_shadow="none",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_background_fill_dark="*primary_500",
        button_primary_text_color="white",
        button_large_radius="*radius_md",
        input_background_fill="*neutral_50",
        input_background_fill_dark="#10171b",
        input_border_width="1px",
        input_border_color="*neutral_200",
        input_border_color_dark="*neutral_700",
        input_border_color_focus="*primary_400",
        color_accent_soft="*primary_50",
    )


def _asset(name: str) -> str:
    try:
        return (ASSETS / name).read_text(encoding="utf-8")
    except OSError:
        return ""


def header_html() -> str:
    return (
        '<div class="fathom-brand">'
        f'<span class="fathom-logo" aria-hidden="true">{_asset("logo.svg")}</span>'
        '<div><div class="fathom-title">Fathom</div>'
        '<div class="fathom-tagline">Search your own files by meaning, on your own machine</div></div>'
        "</div>"
    )


def build(rt: Runtime) -> gr.Blocks:
    # What the page carries before anyone signed in (Gradio's login page describes the page's
    # API, with the fields' choices and values) must say nothing of this computer: no folder,
    # model path, data folder or setting. All of that comes with the first `load`, after login.
    first = handlers.blank_state()
    folder_filter_choices = [("All folders", "")]
    with gr.Blocks(title="Fathom", analytics_enabled=False, delete_cache=(3600, 3600)) as page:
        cache = gr.State({})  # what the timer last sent to this page: unchanged parts are skipped
        touched = gr.State(False)  # the person set the rerank switch: leave it alone
        results = gr.State([])
        shown_count = gr.State(handlers.RESULTS)  # "Show more" adds to it
        previews = gr.State({})  # card number -> its open preview (HTML)

        with gr.Row(elem_id="fathom-header", equal_height=True):
            gr.HTML(header_html(), scale=3, min_width=240, elem_id="fathom-brand")
            pill = gr.HTML(first.pill, scale=2, min_width=200, elem_id="fathom-pill-box")

        with gr.Tabs(selected="search", elem_id="fathom-tabs") as tabs:
            # -- search ----------------------------------------------------------------------------
            with gr.Tab("Search", id="search", elem_id="fathom-search-tab"):
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
                        handlers.task_choices(), value="question", label="Task", scale=3, elem_id="fathom-task"
                    )
                    rerank = gr.Checkbox(
                        value=False, label="Rerank", info=first.rerank_info, scale=2, elem_id="fathom-rerank"
                    )
                    sort = gr.Radio(search_state.SORT_CHOICES, value="relevance", label="Order", scale=2,
                                    elem_id="fathom-sort")
                task_note = gr.HTML(visible=False, elem_id="fathom-task-note")
                recent = gr.HTML('<div id="fathom-recent-list" class="fathom-recent"></div>', elem_id="fathom-recent")
                with gr.Accordion(search_state.filters_label([]), open=False, elem_id="fathom-filters") as filters_box:
                    with gr.Row():
                        folder = gr.Dropdown(
                            folder_filter_choices, value="", label="Folder", allow_custom_value=True,
                            info="An indexed folder, or type one inside it (~/Documents/taxes).",
                            elem_id="fathom-filter-folder",
                        )
                        types = gr.Textbox(label="File types", placeholder="md, pdf", elem_id="fathom-filter-types")
                        glob = gr.Textbox(label="File name", placeholder="invoice* or */2024/*", elem_id="fathom-filter-glob")
                    with gr.Row():
                        after = gr.Textbox(label="Modified after", placeholder="2024-05-31, or 30d ago", elem_id="fathom-filter-after")
                        before = gr.Textbox(label="Modified before", placeholder="2024-12-31, or 1y ago", elem_id="fathom-filter-before")
                        mode = gr.Radio(handlers.MODE_CHOICES, value="hybrid", label="Match", elem_id="fathom-mode")
                    with gr.Row():
                        instruction = gr.Textbox(
                            label="Your own instruction",
                            placeholder="Given a bug report, retrieve the code that causes it",
                            info="Replaces the task: tells the Qwen3 model what a good match is.",
                            scale=4,
                            elem_id="fathom-instruction",
                        )
                        show_scores = gr.Checkbox(value=False, label="Show scores", scale=1, elem_id="fathom-scores")
                summary = gr.HTML(visible=False, elem_id="fathom-summary")
                message = gr.HTML(visible=False, elem_id="fathom-message")
                listing = gr.HTML("", elem_id="fathom-results", js_on_load=result_list.CLICKS_JS,
                                  padding=False, container=False)
                file = gr.File(visible=False, interactive=False, show_label=False, elem_id="fathom-file",
                               elem_classes="fathom-file")
                more = gr.Button("Show more", visible=False, elem_id="fathom-more")
                url = gr.Textbox(visible=False, elem_id="fathom-url")  # the search as URL parameters

            # -- library -----------------------------------------------------------------------------
            with gr.Tab("Library", id="library", elem_id="fathom-library-tab"):
                with gr.Row(elem_id="fathom-add-row"):
                    path = gr.Textbox(
                        label="Add a folder",
                        placeholder="~/Documents",
                        info="The path of a folder on this computer; Fathom indexes it and keeps watching it.",
                        scale=6,
                        elem_id="fathom-folder-path",
                    )
                    add = gr.Button("Add folder", variant="primary", scale=0, min_width=130, elem_id="fathom-add")
                added = gr.HTML(visible=False, elem_id="fathom-added")
                progress = gr.HTML(first.progress, elem_id="fathom-progress")
                folders = gr.HTML(first.folders, elem_id="fathom-folders")
                with gr.Row(equal_height=True, elem_id="fathom-folder-actions", visible=False) as actions:
                    chosen = gr.Dropdown(
                        list(first.folder_choices), value=None, label="Folder", scale=4, elem_id="fathom-chosen"
                    )
                    reindex = gr.Button("Re-index", scale=0, min_width=130, elem_id="fathom-reindex")
                    remove = gr.Button("Remove", variant="stop", scale=0, min_width=110, elem_id="fathom-remove")
                with gr.Row(visible=False, equal_height=True, elem_id="fathom-confirm-reindex") as confirm_reindex:
                    reindex_words = gr.HTML()
                    yes_reindex = gr.Button("Re-index it", variant="primary", scale=0, min_width=120,
                                            elem_id="fathom-reindex-yes")
                    no_reindex = gr.Button("Cancel", scale=0, min_width=110)
                with gr.Row(visible=False, equal_height=True, elem_id="fathom-confirm-remove") as confirm_remove:
                    confirm_words = gr.HTML()
                    yes_remove = gr.Button("Remove it", variant="stop", scale=0, min_width=120)
                    no_remove = gr.Button("Keep it", scale=0, min_width=110)
                folder_message = gr.HTML(visible=False, elem_id="fathom-folder-message")
                with gr.Accordion(first.problems_label, open=False, elem_id="fathom-problems") as problems_box:
                    problems = gr.HTML(first.problems)

            # -- settings -----------------------------------------------------------------------------
            with gr.Tab("Settings", id="settings", elem_id="fathom-settings-tab"):
                models = gr.HTML(first.models, elem_id="fathom-models")
                values = handlers.blank_settings()
                with gr.Row():
                    embedding = gr.Dropdown(
                        handlers.model_choices("embedding", values["embedding_model"], installed=False),
                        value=values["embedding_model"],
                        allow_custom_value=True,
                        label="Embedding model",
                        info=handlers.EMBEDDING_INFO,
                        elem_id="fathom-embedding",
                    )
                    reranker = gr.Dropdown(
                        handlers.model_choices("reranker", values["reranker_model"]),
                        value=values["reranker_model"],
                        allow_custom_value=True,
                        label="Reranker",
                        info="Reorders the best files by reading them with the query; `none` turns it off.",
                        elem_id="fathom-reranker",
                    )
                with gr.Row():
                    device = gr.Dropdown(list(DEVICES), value=values["device"], label="Device",
                                         info="auto: a CUDA GPU, then Apple MPS, then the CPU.", elem_id="fathom-device")
                    dim = gr.Number(
                        value=values["dim"],
                        label="Dimension",
                        info="Empty: the model's full width. Qwen3 models can be cut smaller (e.g. 512) "
                        "for a smaller index; a change rebuilds it.",
                        precision=0,
                        minimum=0,
                        elem_id="fathom-dim",
                    )
                    depth = gr.Slider(1, 50, value=values["rerank_top"], step=1, label="Rerank depth",
                                      info="How many of the best files the reranker reads.", elem_id="fathom-depth")
                with gr.Accordion("Models on another machine", open=False, elem_id="fathom-servers"):
                    with gr.Row():
                        embedding_url = gr.Textbox(
                            value=values["embedding_url"],
                            label="Embedding server",
                            placeholder="http://gpu-box:8000/v1",
                            info="The base URL of an OpenAI-compatible server (vLLM, TEI, Infinity, Ollama...); "
                            "the embedding model is then its name there. Empty: the model runs here. "
                            "An API key comes from FATHOM_API_KEY, never from this page.",
                            elem_id="fathom-embedding-url",
                        )
                        query_format = gr.Dropdown(
                            handlers.FORMAT_CHOICES, value=values["query_format"], label="Query format",
                            info="Qwen3: queries get Qwen3-Embedding's instruction; plain: sent as typed.",
                            elem_id="fathom-query-format",
                        )
                    with gr.Row():
                        reranker_url = gr.Textbox(
                            value=values["reranker_url"],
                            label="Reranker server",
                            placeholder="http://gpu-box:8001/v1",
                            info="A server with a rerank API (POST /rerank); the reranker is then its name there.",
                            elem_id="fathom-reranker-url",
                        )
                        reranker_format = gr.Dropdown(
                            handlers.FORMAT_CHOICES, value=values["reranker_format"], label="Reranker prompt",
                            info="Qwen3: Qwen3-Reranker's prompt with the task; plain: query and passages as they are.",
                            elem_id="fathom-reranker-format",
                        )
                with gr.Row():
                    save = gr.Button("Save settings", variant="primary", scale=0, min_width=160, elem_id="fathom-save")
                saved = gr.HTML(visible=False, elem_id="fathom-saved")
                with gr.Row(visible=False, elem_id="fathom-confirm-rebuild") as confirm_rebuild:
                    rebuild = gr.Button("Rebuild the index", variant="primary", scale=0, min_width=170)
                    keep = gr.Button("Cancel", scale=0, min_width=110)
                facts = gr.HTML("", elem_id="fathom-facts")

        timer = gr.Timer(TICK_SECONDS)

        # -- search events -------------------------------------------------------------------------
        form = [query, task, instruction, rerank, mode, folder, types, glob, after, before, sort]
        shown = [results, summary, message, more, shown_count, previews, url, listing, file]

        def search_form(values: tuple[Any, ...], count: int = handlers.RESULTS) -> handlers.SearchForm:
            q, t, ins, rr, m, fo, ty, gl, af, be, so = values
            return handlers.SearchForm(
                q or "", t, ins or "", bool(rr), m or "hybrid", fo or "", ty or "", gl or "", af or "", be or "",
                so or "relevance", count,
            )

        def listed(found: list[dict[str, Any]], scores: bool, local: bool, open_previews: dict[Any, str]) -> str:
            return result_list.result_list(handlers.cards(found, scores), local,
                                           {int(k): v for k, v in (open_previews or {}).items()})

        def show(view: handlers.SearchView, scores: bool, asked: handlers.SearchForm, local: bool,
                 like: bool = False) -> list[Any]:
            can_more = view.more and asked.count < search_state.MAX_RESULTS
            address = "" if like or view.message else search_state.url_query(asked)
            return [view.results, _html(view.summary), _html(view.message), gr.Button(visible=can_more),
                    asked.count, {}, address, listed(view.results, scores, local, {}), gr.File(value=None, visible=False)]

        def do_search(request: gr.Request, *values: Any) -> list[Any]:
            *fields, scores = values
            asked = search_form(tuple(fields))
            return show(handlers.search(rt, asked), scores, asked, _is_local(request))

        def do_more(request: gr.Request, count: int, *values: Any) -> list[Any]:
            *fields, scores = values
            asked = search_form(tuple(fields), min(search_state.MAX_RESULTS, int(count or 0) + search_state.PAGE_SIZE))
            return show(handlers.search(rt, asked), scores, asked, _is_local(request))

        def on_card(event: gr.EventData, request: gr.Request, found: list[dict[str, Any]],
                    open_previews: dict[Any, str], *values: Any) -> list[Any]:
            """A click on a card's button: which one and which card come with the event."""
            out: list[Any] = [gr.skip()] * len(shown)
            hit = result_list.clicked(getattr(event, "_data", None), found or [])
            if hit is None:
                return out
            action, i = hit
            *fields, scores = values
            local = _is_local(request)
            if action == "like":
                asked = search_form(tuple(fields))
                return show(handlers.more_like_this(rt, found[i]["path"], asked), scores, asked, local, like=True)
            if action == "preview":  # a second click closes it
                now_open = {int(k): v for k, v in (open_previews or {}).items()}
                if now_open.pop(i, None) is None:
                    now_open[i] = card_actions.preview_of(rt, found[i])
                out[shown.index(previews)] = now_open
                out[shown.index(listing)] = listed(found, scores, local, now_open)
            elif action in ("open", "folder"):
                ok, words = card_actions.open_on_desktop(rt, found[i], folder=action == "folder", local=local)
                (gr.Info if ok else gr.Warning)(words)
            elif action == "get":
                copy, problem = handlers.open_file(rt, found[i]["path"])
                if copy is None:
                    gr.Warning(problem)
                out[shown.index(file)] = gr.File(value=str(copy) if copy else None, visible=copy is not None)
            return out

        def do_scores(request: gr.Request, found: list[dict[str, Any]], scores: bool, open_previews: dict[Any, str]) -> str:
            return listed(found, scores, _is_local(request), open_previews)

        def from_url(request: gr.Request) -> list[Any]:
            """The search the page's address asks for (`?q=...&mode=...`), into the form."""
            asked = search_state.form_from_url(dict(request.query_params), handlers.SearchForm())
            return [asked.query, asked.mode, asked.sort, asked.folder, asked.types, asked.path_glob, asked.after,
                    asked.before]

        def search_from_url(request: gr.Request, *values: Any) -> list[Any]:
            if not handlers.has_words(values[0] or ""):
                return [gr.skip()] * len(shown)
            return do_search(request, *values)

        search_options = dict(outputs=shown, show_progress="minimal", concurrency_limit=4)
        asked_by = form + [show_scores]
        for trigger in (query.submit, go.click):
            trigger(do_search, asked_by, **search_options).then(None, [url, query], js=REMEMBER_JS)
        sort.input(search_from_url, asked_by, **search_options).then(None, [url, query], js=REMEMBER_JS)
        more.click(do_more, [shown_count] + form + [show_scores], **search_options).then(
            None, [url, query], js=REMEMBER_JS)
        page.load(from_url, None, [query, mode, sort, folder, types, glob, after, before], show_progress="hidden").then(
            search_from_url, asked_by, **search_options)
        show_scores.change(do_scores, [results, show_scores, previews], listing, show_progress="hidden")
        listing.click(on_card, [results, previews] + form + [show_scores], shown, show_progress="hidden",
                      concurrency_limit=4, api_visibility="private").then(None, js=CLICK_DOWNLOAD_JS)
        rerank.input(lambda: True, None, touched, show_progress="hidden")
        gr.on(
            [folder.change, types.change, glob.change, after.change, before.change],
            lambda *v: gr.Accordion(label=search_state.filters_label(search_state.active_filters(*v))),
            [folder, types, glob, after, before],
            filters_box,
            show_progress="hidden",
            api_visibility="private",
        )
        to_library.click(lambda: gr.Tabs(selected="library"), None, tabs, js=_focus_js("fathom-folder-path"))

        # -- library events ------------------------------------------------------------------------
        def do_add(text: str) -> tuple[str, Any]:
            ok, words = handlers.add_folder(rt, text)
            return _html(words), ("" if ok else gr.skip())

        add.click(do_add, path, [added, path])
        path.submit(do_add, path, [added, path])
        def ask_reindex(chosen_path: str | None) -> list[Any]:
            if not chosen_path:
                return [gr.Row(visible=False), "", _html(render.message("Choose an indexed folder first", "", "error"))]
            words = (
                f"<b>Read every file of {escape(render.pretty_path(chosen_path))} again?</b> Passages whose text "
                "did not change keep their vectors: only what changed is embedded again. Search finds the "
                "current version meanwhile."
            )
            return [gr.Row(visible=True), f'<div class="fathom-confirm">{words}</div>', _html("")]

        reindex.click(ask_reindex, chosen, [confirm_reindex, reindex_words, folder_message])
        yes_reindex.click(
            lambda p: [gr.Row(visible=False), _html(handlers.reindex_folder(rt, p))],
            chosen,
            [confirm_reindex, folder_message],
        )
        no_reindex.click(lambda: gr.Row(visible=False), None, confirm_reindex)

        def ask_remove(chosen_path: str | None) -> list[Any]:
            if not chosen_path:
                return [gr.Row(visible=False), "", _html(render.message("Choose an indexed folder first", "", "error"))]
            words = (
                f"<b>Remove {escape(render.pretty_path(chosen_path))}?</b> Its files leave the index "
                "(the files themselves stay where they are)."
            )
            return [gr.Row(visible=True), f'<div class="fathom-confirm">{words}</div>', _html("")]

        remove.click(ask_remove, chosen, [confirm_remove, confirm_words, folder_message])
        yes_remove.click(
            lambda p: [gr.Row(visible=False), _html(handlers.remove_folder(rt, p)), gr.Dropdown(value=None)],
            chosen,
            [confirm_remove, folder_message, chosen],
        )
        no_remove.click(lambda: gr.Row(visible=False), None, confirm_remove)

        # -- settings events -----------------------------------------------------------------------
        def do_save(confirmed: bool, *values: Any) -> list[Any]:
            outcome = handlers.save(rt, handlers.SettingsForm(*values), confirmed=confirmed)
            return [_html(outcome.message), gr.Row(visible=outcome.confirm)]

        settings_form = [embedding, reranker, device, dim, depth, embedding_url, query_format, reranker_url,
                         reranker_format]
        save.click(partial(do_save, False), settings_form, [saved, confirm_rebuild])
        rebuild.click(partial(do_save, True), settings_form, [saved, confirm_rebuild])
        keep.click(
            lambda: [_html(render.message("Nothing changed", "The index keeps its model.")), gr.Row(visible=False)],
            None,
            [saved, confirm_rebuild],
        )

        # -- what changes by itself: models loading, indexing, folders ------------------------------
        polled = [pill, progress, folders, problems, problems_box, models, chosen, folder, actions,
                  welcome, to_library, rerank, task, instruction, task_note, cache]

        def tick(seen: dict[str, Any], person_set_rerank: bool, chosen_now: str | None, folder_now: str | None) -> list[Any]:
            state = handlers.page_state(rt)
            seen = dict(seen or {})

            def fresh(key: str, value: Any) -> bool:
                if seen.get(key) == value:
                    return False
                seen[key] = value
                return True

            choices = [list(c) for c in state.folder_choices]
            paths = [c[1] for c in choices]
            out: list[Any] = [
                state.pill if fresh("pill", state.pill) else gr.skip(),
                state.progress if fresh("progress", state.progress) else gr.skip(),
                state.folders if fresh("folders", state.folders) else gr.skip(),
                state.problems if fresh("problems", state.problems) else gr.skip(),
                gr.Accordion(label=state.problems_label) if fresh("problems_label", state.problems_label) else gr.skip(),
                state.models if fresh("models", state.models) else gr.skip(),
            ]
            if fresh("choices", choices):
                out.append(gr.Dropdown(choices=[tuple(c) for c in choices], value=chosen_now if chosen_now in paths else None))
                out.append(gr.Dropdown(
                    choices=[("All folders", "")] + [tuple(c) for c in choices],
                    value=folder_now or "",  # an indexed folder, or one typed inside it
                ))
            else:
                out += [gr.skip(), gr.skip()]
            if fresh("has_folders", state.has_folders):
                out += [gr.Row(visible=state.has_folders), gr.HTML(visible=not state.has_folders),
                        gr.Button(visible=not state.has_folders)]
            else:
                out += [gr.skip()] * 3
            rerank_update: dict[str, Any] = {}
            if fresh("rerank_info", state.rerank_info):
                rerank_update["info"] = state.rerank_info
            if state.rerank_default is not None and not person_set_rerank and fresh("rerank_default", state.rerank_default):
                rerank_update["value"] = state.rerank_default
            out.append(gr.Checkbox(**rerank_update) if rerank_update else gr.skip())
            if fresh("tasks", state.tasks_note):  # a model that takes no instructions: no Task control, and why
                out += [gr.Dropdown(visible=state.tasks), gr.Textbox(visible=state.tasks),
                        gr.HTML(value=state.tasks_note, visible=not state.tasks)]
            else:
                out += [gr.skip(), gr.skip(), gr.skip()]
            out.append(seen)
            return out

        timer.tick(
            tick,
            [cache, touched, chosen, folder],
            polled,
            show_progress="hidden",
            concurrency_limit=None,
            api_visibility="private",
        )

        def on_load(seen: dict[str, Any], person_set_rerank: bool, chosen_now: str | None, folder_now: str | None) -> list[Any]:
            values = handlers.settings_values(rt)
            return tick(seen, person_set_rerank, chosen_now, folder_now) + [
                gr.Dropdown(choices=handlers.model_choices("embedding", values["embedding_model"]), value=values["embedding_model"]),
                gr.Dropdown(choices=handlers.model_choices("reranker", values["reranker_model"]), value=values["reranker_model"]),
                values["device"],
                values["dim"],
                values["rerank_top"],
                values["embedding_url"],
                values["query_format"],
                values["reranker_url"],
                values["reranker_format"],
                handlers.settings_facts(rt),
            ]

        page.load(
            on_load,
            [cache, touched, chosen, folder],
            polled + [embedding, reranker, device, dim, depth, embedding_url, query_format, reranker_url,
                      reranker_format, facts],
            show_progress="hidden",
        )
    return page


def _is_local(request: gr.Request | None) -> bool:
    """Whether the person is at this computer (Open and Open folder are for them only)."""
    if request is None:
        return False
    client = request.client.host if request.client else None
    return local_person(client, request.headers.get("host"), request.headers)


def _html(value: str) -> Any:
    """An HTML piece that takes no room when it is empty."""
    return gr.HTML(value=value, visible=bool(value))


def _focus_js(elem_id: str) -> str:
    return f"() => {{ setTimeout(() => document.querySelector('#{elem_id} textarea, #{elem_id} input')?.focus(), 150); }}"


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

AUTH_MESSAGE = (
    "Fathom: sign in to search these files. Each wrong password makes the next answer slower, "
    "and many in a row pause signing in for a while."
)


def launch_page(
    page: gr.Blocks,
    rt: Runtime,
    auth: Any = None,
    open_browser: bool = False,
    allowed_hosts: Sequence[str] = (),
    attempts: LoginAttempts | None = None,
    **extra: Any,
) -> None:
    """Serve the page; returns once it is up.

    Fathom's checks (guard.py) go into the app Gradio builds, through `launch(app_kwargs=...)`:
    only `launch` makes the share link, so mounting the page into an app of our own would
    lose `--share`. Files are served only from the private folder of download copies
    (`allowed_paths` is given, so GRADIO_ALLOWED_PATHS is never read, and the guard refuses
    anything else); uploads are off; no file-serving workers run beside the guarded server."""
    serving = rt.serving
    names = host_names(serving.host, allowed_hosts)  # live: the share link's name joins it
    tunnel: list[str] = []
    gate = guard.TokenGate.Settings(rt.token, serving.port, passwords=bool(auth))
    attempts = attempts or LoginAttempts()
    checks = guard.middleware(names, rt.files.root, attempts, tunnel, gate)
    page.vibe_mode = False  # whatever GRADIO_VIBE_MODE said when Gradio was imported (see open_page)
    app_kwargs: dict[str, Any] = {"middleware": checks}
    if serving.mcp:  # the agents' tools (agent_route.py)
        from search.page.agent_route import agent_route

        route, app_kwargs["lifespan"] = agent_route(rt, auth, attempts, tunnel, rt.token, serving.port)
        # after the Host and Origin checks, before the token gate: it takes the token or a password
        checks.insert(next(i for i, check in enumerate(checks) if check.cls is guard.TokenGate), route)
    try:
        page.launch(
            server_name=serving.host,
            server_port=serving.port,
            share=serving.share,
            auth=auth,
            auth_message=AUTH_MESSAGE if auth else None,
            inbrowser=False,  # Fathom opens its own address, with the token
            prevent_thread_lock=True,
            quiet=True,
            show_error=False,
            footer_links=[],
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            run_history=False,  # would keep every search's results in the browser
            allowed_paths=[str(rt.files.root)],
            max_file_size=0,
            num_workers=0,
            app_kwargs=app_kwargs,
            theme=theme(),
            css=_asset("style.css"),
            js=_asset("page.js") or None,
            favicon_path=str(ASSETS / "logo.svg") if (ASSETS / "logo.svg").is_file() else None,
            **extra,
        )
    except OSError as exc:
        if "port" in str(exc).lower():
            raise FathomError(
                f"Port {serving.port} is taken: is Fathom already running? Open "
                f"http://{serving.host}:{serving.port}, or start it with --port and another number."
            ) from None
        raise
    gate.launched = True  # from now on, Gradio's startup route needs the token too
    address = f"http://{serving.host}:{serving.port}/"
    if not auth:  # with passwords, the sign-in form; without, the token opens the page
        address += f"?{QUERY_NAME}={rt.token}"
    print(f"Fathom is running at {address} (Ctrl-C stops it).", flush=True)
    if open_browser:
        webbrowser.open(address)
    if serving.share:
        share_host = urlsplit(page.share_url).hostname if page.share_url else None
        if share_host:
            names.append(share_host.lower())
            tunnel.append(share_host.lower())
            print(f"Share link (password required): {page.share_url}", flush=True)
        else:
            print("No share link: Gradio could not make one (is this computer online?). "
                  "The page runs on this computer only.", flush=True)
    if serving.share or not is_loopback(serving.host) or allowed_hosts:
        print(f"It answers to: {', '.join(names)} (add a name with --allowed-host NAME).", flush=True)
