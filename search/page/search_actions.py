"""What the Search tab does: a search, "more like this", the cards, a file's download copy.
Plain functions of the runtime and the form's values, returning plain data and HTML; the tab
(search_tab.py) wires them to Gradio, and tests call them with no browser and no Gradio."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from search.errors import FathomError, IndexMismatchError, NotIndexedError
from search.filters import make_filter
from search.page import card_actions, render
from search.page.runtime import Runtime
from search.page.search_state import DATE_POOL, PAGE_SIZE, by_date, check_folder
from search.presets import presets
from search.query import DEFAULT_RERANK_TOP, MODES, SearchOptions, has_words
from storage import StorageError, WordQuery

RESULTS = PAGE_SIZE  # results a search shows at first ("Show more" adds as many again)
COUNT_UP_TO = 1000  # files with the query's words, counted for the summary up to this many
MODE_CHOICES = [("Meaning and words", "hybrid"), ("Meaning only", "vector"), ("Exact words", "keyword")]


@dataclass(frozen=True)
class SearchForm:
    query: str = ""
    task: str | None = "question"
    instruction: str = ""
    rerank: bool = False
    mode: str = "hybrid"
    folder: str = ""
    types: str = ""
    path_glob: str = ""
    after: str = ""
    before: str = ""
    sort: str = "relevance"  # or "date": the newest of the best matches first
    count: int = RESULTS  # how many results to show


@dataclass
class SearchView:
    results: list[dict[str, Any]] = field(default_factory=list)  # Result.to_json(), best first
    summary: str = ""  # HTML: how many, how fast, and what was left out (e.g. reranking)
    message: str = ""  # HTML: the empty state or the error, when there are no results
    more: bool = False  # whether "Show more" may find more


def task_choices() -> list[tuple[str, str]]:
    return [(p.label, p.name) for p in presets().values()]


def search(rt: Runtime, form: SearchForm) -> SearchView:
    if not has_words(form.query):
        if not rt.engine.folders():
            return SearchView(message=_no_folders())
        return SearchView(message=render.message(
            "Type what you are looking for and press Enter",
            "Ask in your own words: a question, a description of a file, or a passage you remember.",
        ))
    return _run(rt, form.query, form, like=None)


def more_like_this(rt: Runtime, path: str, form: SearchForm) -> SearchView:
    """Files like an indexed one (which is left out), under the same filters."""
    return _run(rt, None, form, like=path)


def _run(rt: Runtime, query: str | None, form: SearchForm, like: str | None) -> SearchView:
    engine, loader = rt.engine, rt.loader
    if not engine.folders():
        return SearchView(message=_no_folders())
    try:
        options, notes = _options(rt, form)
        began = time.perf_counter()
        parsed = None
        if like is not None:
            query, options = engine.more_like_this(like, options)
        else:
            parsed = engine.understand(query or "", options)  # "phrases", -words, misspellings
        results = engine.search(parsed if parsed is not None else query or "", options)
        matching = _with_words(rt, parsed.words_query, options) if parsed is not None else None
        elapsed = (time.perf_counter() - began) * 1000
    except NotIndexedError:
        return SearchView(message=_not_ready(rt))
    except IndexMismatchError:
        return SearchView(message=render.message(
            "The index is being rebuilt for the new model",
            "Files come back into search as they are embedded again: see Library for the progress.",
        ))
    except (FathomError, StorageError) as exc:
        return SearchView(message=render.message("That search did not work", str(exc), "error"))
    payload = [r.to_json() for r in results]
    more = len(payload) >= options.k
    if form.sort == "date":
        payload = by_date(payload)[: form.count]
        more = False  # the newest of the best DATE_POOL: the order would change with more
    name = Path(like).name if like else None
    weak = bool(results) and options.mode == "hybrid" and not any(r.strong for r in results)
    waiting = rt.library.view().waiting
    waiting_files = waiting.files if waiting is not None and options.mode != "keyword" else 0
    corrected = (parsed.searched, parsed.typed_instead, parsed.text) if parsed and parsed.searched else None
    view = SearchView(payload, render.summary(len(payload), elapsed, notes, like=name, matching=matching,
                                              newest=form.sort == "date", weak=weak, waiting=waiting_files,
                                              corrected=corrected), more=more)
    if not payload:
        view.message = _no_results(rt, form, loader, phrases=bool(parsed and parsed.phrases))
        if parsed is not None and parsed.excluded and not parsed.words and not parsed.phrases:
            view.message = render.message(
                "Nothing to look for: every word has a minus",
                "A minus leaves out the files that hold a word: add a word to search for, e.g. lamp -harbor.",
            )
    return view


def _options(rt: Runtime, form: SearchForm) -> tuple[SearchOptions, list[str]]:
    loader, settings, notes = rt.loader, rt.settings, []
    mode = form.mode if form.mode in MODES else "hybrid"
    if mode != "keyword" and not loader.ready:
        mode = "keyword"
        if loader.failed:
            notes.append("The embedding model did not load (see Settings): these files match your words only.")
        else:
            notes.append("The model is still loading: these files match your words; search again soon for matches by meaning.")
    rerank = bool(form.rerank) and settings.reranker_model is not None
    if rerank and not loader.reranker_ready:
        rerank = False
        notes.append(
            "Not reranked: the reranker did not load (see Settings)." if loader.view().reranker == "failed"
            else "Not reranked: the reranker is still loading."
        )
    filters = make_filter(
        check_folder(form.folder, rt.engine.folders()),
        [form.types] if form.types else [],
        form.path_glob.strip() or None,
        form.after,
        form.before,
        after_name="Modified after",
        before_name="Modified before",
    )
    options = SearchOptions(
        k=max(form.count, DATE_POOL) if form.sort == "date" else form.count,
        mode=mode,
        task=form.task or None,
        instruction=form.instruction.strip() or None,
        rerank=rerank,
        rerank_top=settings.rerank_top or DEFAULT_RERANK_TOP,
        filters=filters,
    )
    return options, notes


def _with_words(rt: Runtime, query: str | WordQuery, options: SearchOptions) -> int | None:
    """How many files hold the query's words (under the filters), up to COUNT_UP_TO; None in
    a search by meaning only, where every file is near or far, none "matching"."""
    if options.mode == "vector":
        return None
    store = rt.engine.store
    match = store.keyword_match(query, "files")
    return len(store.keyword_files(match, COUNT_UP_TO, options.filters)) if match else 0


def _no_folders() -> str:
    return render.message(
        "There is nothing to search yet",
        "Add a folder first: open Library, type the path of a folder and press Add folder.",
    )


def _not_ready(rt: Runtime) -> str:
    view = rt.library.view()
    if view.busy:
        return render.message(
            "Fathom is still indexing your folders",
            "Nothing is searchable yet: results appear as soon as the first files are indexed (progress in Library).",
        )
    return render.message("Nothing is indexed yet", "Add a folder in Library, then search here.")


def _no_results(rt: Runtime, form: SearchForm, loader: Any, phrases: bool = False) -> str:
    filtered = any((form.folder, form.types, form.path_glob.strip(), form.after.strip(), form.before.strip()))
    if filtered:
        return render.message(
            "No files match with these filters",
            "Loosen or clear the filters (folder, type, name, dates), or try other words.",
        )
    if rt.library.view().busy:
        return render.message(
            "No files match yet",
            "Fathom is still indexing: try again when it is done, or with other words.",
        )
    if form.mode == "keyword" or not loader.ready:
        meaning = "search by meaning (Meaning and words)" + ("" if loader.ready else " once the model is loaded")
        if phrases:
            return render.message(
                "No file has this exact phrase",
                f"Take the quotes off to find its words anywhere in a file, or {meaning}.",
            )
        return render.message("No file has these words", f"Try other words, or {meaning}.")
    return render.message(
        "No files match",
        "Try other words or a longer description of what the file says, or add the folder that holds it in Library.",
    )


def cards(results: list[dict[str, Any]], show_scores: bool) -> list[str]:
    return [render.card(result, rank, show_scores) for rank, result in enumerate(results, 1)]


def open_file(rt: Runtime, path: str | None) -> tuple[Path | None, str]:
    """A copy of an indexed file to hand to the browser, or why there is none (a sentence the
    page shows as HTML: a file's name is escaped). Only files Fathom indexed inside an indexed
    folder are ever handed out (see files.py)."""
    try:
        real = card_actions.indexed_file(rt, path)
    except StorageError as exc:
        return None, escape(render.from_below(str(exc)))
    if real is None:
        return None, card_actions.NOT_OPENABLE
    try:
        return rt.files.copy(real), ""
    except OSError as exc:
        return None, escape(f"Cannot read {real.name}: {exc.strerror or exc}.")


