"""Settings shared by every command: where the data lives, which models, which device.

Each setting comes from a command-line option, else its environment variable, else the
settings file in the data folder (what the page's Settings saved), else its default. What
each setting is called on each surface is in search/settings_table.py; this module resolves
their values. The API keys are read when a model is loaded and kept nowhere else; a database
URL is never saved in the settings file (it may hold a password).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import platformdirs

from search import defaults
from search.errors import FathomError
from search.models.reference import ModelRef
from search.settings_table import (
    BY_NAME, DEFAULT_EMBEDDING_MODEL, DEFAULT_MAX_PASSAGES, DEFAULT_RERANKER_MODEL, DEVICES, FORMATS, SAVED,
    Setting,
)
from search.wording import mark
from storage import POSTGRESQL_SCHEMES, database_name

__all__ = ["DEFAULT_EMBEDDING_MODEL", "DEFAULT_RERANKER_MODEL", "DEVICES", "FORMATS", "SAVED", "Settings"]

DATABASE_NAME = "fathom.db"
DEFAULT_MAX_FILE_MB = defaults.MAX_FILE_MB
DEFAULT_REMOTE_TIMEOUT = defaults.REMOTE_TIMEOUT_S  # seconds for one request to a model server
DEFAULT_REMOTE_REQUESTS = defaults.REMOTE_REQUESTS  # requests in flight to one model server
SETTINGS_NAME = "settings.json"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    embedding_model: str
    reranker_model: str | None
    device: str = "auto"
    dim: int | None = None
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    max_passages: int = DEFAULT_MAX_PASSAGES  # a file is indexed up to this many passages
    rerank_top: int | None = None  # files the reranker reads; None: the search default
    # Models on another machine: the base URL of an OpenAI-compatible server (None: run here),
    # the model's name being the one the server knows it by.
    embedding_url: str | None = None
    reranker_url: str | None = None
    query_format: str | None = None  # qwen3 or plain; None: from the model's name
    reranker_format: str | None = None  # qwen3 or plain; None: from the reranker's name
    # What cuts files into chunks when the model's own tokenizer is not on this machine (a
    # model served under a name of its own): a local folder or a Hub name; None: the model's.
    tokenizer: str | None = None
    remote_timeout: float = DEFAULT_REMOTE_TIMEOUT
    remote_requests: int = DEFAULT_REMOTE_REQUESTS
    database_url: str | None = None  # a PostgreSQL database (None: the SQLite file in data_dir)
    # The server URLs set outside the page (an option or the environment): the only servers the
    # API key is sent to. A URL saved from the page's Settings never gets it.
    embedding_key_url: str | None = None
    reranker_key_url: str | None = None

    @property
    def database(self) -> Path | str:
        """Where the index is: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.data_dir / DATABASE_NAME

    @property
    def database_name(self) -> str:
        """The database as it may be shown: never with a password."""
        return database_name(self.database)

    @property
    def embedding_key(self) -> str:
        """The embedding model as the index records it: a local model by its name or path, a
        model on a server by its name there and the server's URL."""
        return remote_key(self.embedding_model, self.embedding_url)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * defaults.MB)

    @classmethod
    def resolve(cls, **options: Any) -> "Settings":
        """Options (keyword arguments named as the settings are, None: not given) win over
        environment variables, which win over the settings file, which wins over defaults."""
        unknown = set(options) - set(BY_NAME)
        if unknown:
            raise TypeError(f"not settings: {', '.join(sorted(unknown))}")
        data = Path(_data_dir(options)).expanduser()
        saved = saved_settings(data)

        def given(name: str) -> Any:
            return _given(BY_NAME[name], options, os.environ, saved)[0]

        embedder, reranker = given("embedding_model"), given("reranker_model")
        device = str(given("device")).lower()
        if device not in DEVICES:
            raise FathomError(f"Unknown device {device!r}: choose one of {', '.join(DEVICES)}.")
        # the servers set outside the page (an option or the environment) are the only ones
        # the API key is sent to; a URL saved from the page's Settings never gets it
        outside = {kind: _given(BY_NAME[kind], options, os.environ, {})[0] for kind in ("embedding_url", "reranker_url")}
        embedding_server = server_url(given("embedding_url"), mark("embedding_url"))
        reranker_server = server_url(given("reranker_url"), mark("reranker_url"))
        cutter = given("tokenizer")
        return cls(
            data_dir=data,
            # a model on a server goes by the name the server knows, never a local path
            embedding_model=embedder if embedding_server else model_id(embedder),
            reranker_model=None if reranker.lower() == "none" else reranker if reranker_server else model_id(reranker),
            device=device,
            dim=_value("dim", options, saved),
            max_file_mb=_value("max_file_mb", options, saved),
            max_passages=_value("max_passages", options, saved),
            rerank_top=saved.get("rerank_top"),
            embedding_url=embedding_server,
            reranker_url=reranker_server,
            query_format=_format(given("query_format"), mark("query_format")),
            reranker_format=_format(given("reranker_format"), mark("reranker_format")),
            remote_timeout=_value("remote_timeout", {}, {}),
            remote_requests=_value("remote_requests", {}, {}),
            database_url=postgres_url(given("database_url")),
            tokenizer=model_id(cutter) if cutter else None,
            embedding_key_url=embedding_server if outside["embedding_url"] else None,
            reranker_key_url=reranker_server if outside["reranker_url"] else None,
        )


def _data_dir(options: Mapping[str, Any]) -> str:
    found = _given(BY_NAME["data_dir"], options, os.environ, {})[0]
    return str(found or platformdirs.user_data_dir("fathom", False))


def _given(row: Setting, options: Mapping[str, Any], env: Mapping[str, str], saved: Mapping[str, Any]) -> tuple[Any, str]:
    """A setting's value, and where it comes from: "option", its variable's name, "settings
    file" or "default" (the table's). The one place the precedence rule is written; an empty
    value counts as not given."""
    if options.get(row.name) not in (None, ""):
        return options[row.name], "option"
    if row.env and env.get(row.env):
        return env[row.env], row.env
    if row.saved and row.name in saved:
        return saved[row.name], "settings file"
    return row.default, "default"


def _value(name: str, options: Mapping[str, Any], saved: Mapping[str, Any]) -> Any:
    """A number setting: text from the environment is checked as the row's kind, above 0."""
    row = BY_NAME[name]
    value, where = _given(row, options, os.environ, saved)
    return _number(value, where, row.kind) if where == row.env else value


def _number(text: str, variable: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise FathomError(f"{variable} must be a number, found {text!r}.") from None
    if value <= 0:
        raise FathomError(f"{variable} must be above 0, found {text!r}.")
    return value


def server_url(text: str | None, option: str) -> str | None:
    """The base URL of a model server, e.g. `http://gpu-box:8000/v1`, without a trailing `/`
    (a pasted `.../embeddings` or `.../rerank` endpoint is cut back to its base); None for
    none given, or `none` (run the model here)."""
    raw = (text or "").strip()
    if not raw or raw.lower() == "none":
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in raw):
        raise FathomError(
            f"{option}: give the base URL of an OpenAI-compatible server, like http://gpu-box:8000/v1 "
            f"(found {raw!r})."
        )
    if parts.username or parts.password:
        raise FathomError(
            f"{option}: keep the password out of the URL (it would be saved and shown): give the URL "
            f"without it, and the key in {mark('api_key')}."
        )
    if parts.query or parts.fragment:
        raise FathomError(f"{option} takes a base URL without ?query or #fragment, like http://gpu-box:8000/v1.")
    url = raw.rstrip("/")
    for endpoint in ("/embeddings", "/rerank"):
        if url.endswith(endpoint):
            url = url[: -len(endpoint)]
    return url


def postgres_url(text: str | None) -> str | None:
    """A PostgreSQL URL, e.g. `postgresql://fathom@db-host/fathom`; None for none given (or
    `none`: the SQLite file in the data folder). Any other text is refused, without echoing it
    whole: it may hold a password."""
    raw = (text or "").strip()
    if not raw or raw.lower() == "none":
        return None
    if not raw.lower().startswith(POSTGRESQL_SCHEMES):
        scheme = raw.partition("://")[0] if "://" in raw else "none"
        raise FathomError(
            f"{mark('database_url')} takes a PostgreSQL URL like postgresql://user@host/fathom (found a URL of scheme "
            f"{scheme!r}); leave it out to keep the index in a SQLite file in the data folder."
        )
    return raw


def remote_key(model: str, url: str | None) -> str:
    """How the index records a model: its name, and `@ URL` when it runs on a server."""
    return f"{model} @ {url}" if url else model


def api_key(kind: str) -> tuple[str | None, str]:
    """The API key for the embedding or reranker server, and where it is set, in words. Read
    from the environment when a model is loaded; never saved, printed or shown."""
    own, both = BY_NAME[f"{kind}_api_key"], BY_NAME["api_key"]
    key = os.environ.get(str(own.env)) or os.environ.get(str(both.env)) or None
    return key, f"{mark(own.name)} (or {mark(both.name)})"


def server_key(settings: "Settings", kind: str) -> tuple[str | None, str]:
    """The API key to send to the embedding or reranker server `settings` name, and where it
    is set, in words. Only a server set outside the page (an option or the environment) gets
    the key: whoever can use the page could otherwise save a URL of their own in Settings and
    receive it."""
    key, where = api_key(kind)
    url = getattr(settings, f"{kind}_url")
    if key and url and url != getattr(settings, f"{kind}_key_url"):
        option = mark(f"{kind}_url")
        return None, (f"{where}, and name this server with {option} where Fathom starts (the key is sent only to the server "
                      "named there, never to one saved from the page)")
    return key, where


def _format(text: str | None, option: str) -> str | None:
    if not text:
        return None
    value = text.strip().lower()
    if value not in FORMATS:
        raise FathomError(f"{option} takes {' or '.join(FORMATS)}, found {text!r}.")
    return value


def model_id(name_or_path: str) -> str:
    """A stable name for a model: local folders by absolute path, hub names as they are."""
    return ModelRef.parse(name_or_path).id


# -- the settings file ------------------------------------------------------------------------


def settings_file(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / SETTINGS_NAME


def saved_settings(data_dir: Path) -> dict[str, Any]:
    """What the page saved in the data folder ({} when nothing was); a value set by hand
    that makes no sense is reported with the file's name, never silently ignored."""
    path = settings_file(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise FathomError(
            f"Cannot read the settings file {path}: {exc}. Fix it or delete it (Fathom then "
            "uses its defaults)."
        ) from None
    if not isinstance(raw, dict):
        raise FathomError(f"The settings file {path} must hold a JSON object: fix it or delete it.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SAVED or value is None:
            continue  # a key from a newer version, or one set back to its default
        if BY_NAME[key].kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise FathomError(f"{key} in {path} must be a whole number above 0, found {value!r}.")
        elif not isinstance(value, str) or not value.strip():
            raise FathomError(f"{key} in {path} must be a non-empty string, found {value!r}.")
        values[key] = value
    return values


def save_settings(data_dir: Path, values: dict[str, Any]) -> Path:
    """Write these settings (None removes one) over what the file held, atomically."""
    unknown = set(values) - set(SAVED)
    if unknown:
        raise ValueError(f"not settings that can be saved: {', '.join(sorted(unknown))}")
    path = settings_file(data_dir)
    merged = {**saved_settings(data_dir), **values}
    merged = {key: merged[key] for key in SAVED if merged.get(key) is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def setting_sources(**options: Any) -> dict[str, str]:
    """Where each saved setting comes from now: "option", the variable's name, "settings
    file" or "default". The page says so when a choice it saves will not win next time."""
    saved = saved_settings(Path(_data_dir(options)).expanduser())
    return {name: _given(BY_NAME[name], options, os.environ, saved)[1] for name in SAVED}
