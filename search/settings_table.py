"""Every setting of Fathom, once: its name, type, default, command-line flag, environment
variable, whether the page's Settings save it, its field there, and its help.

The CLI's options (search/cli/parser.py), the resolution from the environment and the
settings file (search/config.py), the page's Settings and the channel's "same models" check
are all read from this table; tests/test_settings_table.py walks it to prove each surface has
each row. The environment variables are a public interface: their names live here only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from search import defaults

DEVICES = ("auto", "cpu", "cuda", "mps")
FORMATS = ("qwen3", "plain")  # how a model on a server takes queries (or rerank prompts)
DEFAULT_EMBEDDING_MODEL = "Qwen/Qwen3-Embedding-0.6B"
DEFAULT_RERANKER_MODEL = "Qwen/Qwen3-Reranker-0.6B"
DEFAULT_MAX_PASSAGES = defaults.MAX_PASSAGES  # per file; why this many: search/defaults.py
DEFAULT_HOST = "127.0.0.1"  # serve: this computer only, unless told otherwise
DEFAULT_PORT = 7860

# Where a row's flag is taken: by every command, by `serve` (and the bare command), by `search`.
EVERY, SERVE, SEARCH = "every", "serve", "search"


@dataclass(frozen=True)
class Setting:
    name: str  # the attribute of search.config.Settings, and the key in settings.json
    kind: Callable[[str], Any]  # str, int, float or bool
    default: Any
    help: str
    flag: str | None = None  # e.g. "--embedding-model"; None: not an option
    env: str | None = None  # e.g. "FATHOM_EMBEDDING_MODEL"; None: no variable
    saved: bool = False  # the page's Settings save it in settings.json
    page: str | None = None  # its field's label in the page's Settings
    scope: str = EVERY  # which commands take the flag
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    same: bool = False  # must match for a running Fathom to answer a caller's search
    repeat: bool = False  # the flag may be given several times (action "append")


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str, None, "where the index lives (env FATHOM_DATA_DIR; default: your user data folder)",
            flag="--data-dir", env="FATHOM_DATA_DIR", metavar="DIR"),
    Setting("database_url", str, None,
            "keep the index in this PostgreSQL database, e.g. postgresql://user@host/fathom (env "
            "FATHOM_DATABASE_URL; default: a SQLite file in the data folder). The password: PGPASSWORD or ~/.pgpass",
            flag="--database", env="FATHOM_DATABASE_URL", metavar="URL"),
    Setting("embedding_model", str, DEFAULT_EMBEDDING_MODEL,
            f"hub name or local folder (env FATHOM_EMBEDDING_MODEL; default {DEFAULT_EMBEDDING_MODEL})",
            flag="--embedding-model", env="FATHOM_EMBEDDING_MODEL", saved=True, page="Embedding model",
            metavar="NAME_OR_PATH", same=True),
    Setting("reranker_model", str, DEFAULT_RERANKER_MODEL,
            f"hub name, local folder or `none` (env FATHOM_RERANKER_MODEL; default {DEFAULT_RERANKER_MODEL})",
            flag="--reranker-model", env="FATHOM_RERANKER_MODEL", saved=True, page="Reranker",
            metavar="NAME_OR_PATH", same=True),
    Setting("device", str, "auto", "env FATHOM_DEVICE; default auto", flag="--device", env="FATHOM_DEVICE",
            saved=True, page="Device", choices=DEVICES, same=True),
    Setting("dim", int, None, "smaller embedding dimension (Matryoshka) for Qwen3 models (env FATHOM_DIM)",
            flag="--dim", env="FATHOM_DIM", saved=True, page="Dimension", metavar="N", same=True),
    Setting("max_file_mb", float, defaults.MAX_FILE_MB,
            f"skip files larger than this (env FATHOM_MAX_FILE_MB; default {defaults.MAX_FILE_MB:g})",
            flag="--max-file-size", env="FATHOM_MAX_FILE_MB", metavar="MB"),
    Setting("max_passages", int, DEFAULT_MAX_PASSAGES,
            "index at most this many passages of one file; a file cut there is listed by `status` (env "
            f"FATHOM_MAX_PASSAGES; default {DEFAULT_MAX_PASSAGES})",
            flag="--max-passages", env="FATHOM_MAX_PASSAGES", metavar="N"),
    Setting("embedding_url", str, None,
            "embed on an OpenAI-compatible server, e.g. http://gpu-box:8000/v1; --embedding-model is then "
            "the model's name there (env FATHOM_EMBEDDING_URL; `none`: here). Key: env FATHOM_API_KEY",
            flag="--embedding-url", env="FATHOM_EMBEDDING_URL", saved=True, page="Embedding server",
            metavar="URL", same=True),
    Setting("reranker_url", str, None,
            "rerank on a server with a rerank API (env FATHOM_RERANKER_URL; `none`: here)",
            flag="--reranker-url", env="FATHOM_RERANKER_URL", saved=True, page="Reranker server",
            metavar="URL", same=True),
    Setting("tokenizer", str, None,
            "cut files into chunks in this tokenizer's tokens (a folder or hub name), for a model on a server "
            "under a name this computer does not know (env FATHOM_TOKENIZER)",
            flag="--tokenizer", env="FATHOM_TOKENIZER", metavar="NAME_OR_PATH"),
    Setting("query_format", str, None,
            "whether the embedding server's model takes Qwen3's instruction format for queries (env "
            "FATHOM_QUERY_FORMAT; default: qwen3 when its name says Qwen3-Embedding)",
            flag="--query-format", env="FATHOM_QUERY_FORMAT", saved=True, page="Query format",
            choices=FORMATS, same=True),
    Setting("reranker_format", str, None,
            "whether the reranker server's model takes Qwen3-Reranker's prompt (env FATHOM_RERANKER_FORMAT; "
            "default: qwen3 when its name says Qwen3-Reranker)",
            flag="--reranker-format", env="FATHOM_RERANKER_FORMAT", saved=True, page="Reranker prompt",
            choices=FORMATS, same=True),
    Setting("rerank_top", int, None, "how many of the best files to rerank (default "
            f"{defaults.RERANK_TOP}, or the rerank depth "
            "saved in Settings)", flag="--rerank-top", saved=True, page="Rerank depth", scope=SEARCH, metavar="N"),
    Setting("remote_timeout", float, defaults.REMOTE_TIMEOUT_S, "seconds for one request to a model server",
            env="FATHOM_REMOTE_TIMEOUT"),
    Setting("remote_requests", int, defaults.REMOTE_REQUESTS, "requests in flight to one model server",
            env="FATHOM_REMOTE_REQUESTS"),
    Setting("api_key", str, None, "the key sent to both model servers", env="FATHOM_API_KEY"),
    Setting("embedding_api_key", str, None, "the key sent to the embedding server",
            env="FATHOM_EMBEDDING_API_KEY"),
    Setting("reranker_api_key", str, None, "the key sent to the reranker server", env="FATHOM_RERANKER_API_KEY"),
    # -- the page ---------------------------------------------------------------------------
    Setting("host", str, DEFAULT_HOST, f"address to listen on (default {DEFAULT_HOST}: this computer only; any "
            "other needs a password of 12 characters or more)", flag="--host", scope=SERVE, metavar="ADDRESS"),
    Setting("port", int, DEFAULT_PORT, f"port to listen on (default {DEFAULT_PORT})", flag="--port", scope=SERVE,
            metavar="N"),
    Setting("share", bool, False, "also make a public Gradio share link (needs a password of 12 characters or "
            "more: --auth-file, FATHOM_AUTH or --auth)", flag="--share", scope=SERVE),
    Setting("auth", str, None, "ask for this user and password (repeatable). Other users of this computer can "
            "read it in `ps`: prefer FATHOM_AUTH=USER:PASSWORD or --auth-file", flag="--auth", env="FATHOM_AUTH",
            scope=SERVE, metavar="USER:PASSWORD", repeat=True),
    Setting("auth_file", str, None, "users and passwords, one USER:PASSWORD a line (keep it private: chmod 600)",
            flag="--auth-file", scope=SERVE, metavar="FILE"),
    Setting("allowed_host", str, None, "also answer requests for this host name, e.g. mybox.lan (repeatable; env "
            "FATHOM_ALLOWED_HOSTS, comma-separated); any other name is refused", flag="--allowed-host",
            env="FATHOM_ALLOWED_HOSTS", scope=SERVE, metavar="NAME", repeat=True),
    Setting("no_browser", bool, False, "don't open the page in a browser (it opens when run from a terminal); "
            "open the address Fathom prints: it carries the page's token (page-token in the data folder, or env "
            "FATHOM_TOKEN)", flag="--no-browser", scope=SERVE),
    Setting("mcp", bool, False, "also serve Fathom's read-only tools to AI agents (MCP over Streamable HTTP) at "
            "/mcp, behind the page's own checks, token and password", flag="--mcp", scope=SERVE),
    Setting("token", str, None, "the page's token (default: a random one kept in page-token in the data folder)",
            env="FATHOM_TOKEN"),
)


@dataclass(frozen=True)
class SearchOption:
    """A choice made for one search, as each edge names it (for messages that mention it)."""

    flag: str
    page: str  # the control on the page's Search tab
    mcp: str | None = None  # the MCP tools' argument, None: the tools have none


SEARCH_OPTIONS = {
    "k": SearchOption("-k", "Show more", "k"),
    "mode": SearchOption("--mode", "Match", "mode"),
    "task": SearchOption("--task", "Task", "task"),
    "instruction": SearchOption("--instruction", "Your own instruction", "instruction"),
    "rerank": SearchOption("--rerank", "Rerank"),
    "like": SearchOption("--like", "More like this", "similar"),
    "folder": SearchOption("--folder", "Folder", "folder"),
    "type": SearchOption("--type", "File types", "file_types"),
    "path": SearchOption("--path", "File name"),
    "after": SearchOption("--after", "Modified after", "modified_after"),
    "before": SearchOption("--before", "Modified before", "modified_before"),
}

BY_NAME = {row.name: row for row in SETTINGS}
SAVED = tuple(row.name for row in SETTINGS if row.saved)  # what settings.json may hold
SAME = tuple(row.name for row in SETTINGS if row.same)  # the channel adds the database's name


def setting(name: str) -> Setting:
    return BY_NAME[name]


def env_name(name: str) -> str:
    """The environment variable of a setting, e.g. env_name("token") == "FATHOM_TOKEN"."""
    variable = BY_NAME[name].env
    if variable is None:
        raise KeyError(f"{name} has no environment variable")
    return variable
