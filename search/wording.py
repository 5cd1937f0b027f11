"""Messages are written once, below the edges, and worded at each edge.

Code below the CLI (storage, the models, the engine) never names a command-line flag, an
environment variable or the program: it marks what it means, and each edge (the CLI, the
page, the MCP server) puts it in its own words:

    [[dim 512]]            a setting or a search option, with a value or not: `--dim 512` in a
                           terminal, "Dimension 512 (Settings)" on the page
    [[run index FOLDER]]   something to do: "run `fathom index FOLDER`" in a terminal, "add a
                           folder on the Library tab" on the page
    [[run index|embedding_model=org/m]]
                           the same, with the settings it takes: "run `fathom index
                           --embedding-model org/m`"

`mark` and `run` write the marks; `worded(text, edge)` reads them. Storage writes the same
marks in plain text (it cannot import this module).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from search.settings_table import BY_NAME, SEARCH_OPTIONS

_MARK = re.compile(r"\[\[(\w+)(?: ([^\]]*))?\]\]")


def mark(name: str, value: object = None) -> str:
    """A setting or search option named for the edge to word, e.g. mark("dim", 512)."""
    if name not in BY_NAME and name not in SEARCH_OPTIONS:
        raise KeyError(f"{name} is neither a setting nor a search option")
    return f"[[{name}]]" if value is None else f"[[{name} {value}]]"


def run(command: str, *settings: tuple[str, object]) -> str:
    """Something for the person to do, as the CLI command that does it, with the settings it
    takes: run("index FOLDER"), run("index", ("embedding_model", "org/model"))."""
    if _action(command) is None or any(name not in BY_NAME for name, _ in settings):
        raise KeyError(f"no words for {command!r} with {settings!r}")
    return "[[run " + "|".join([command, *(f"{name}={value}" for name, value in settings)]) + "]]"


class Edge(Protocol):
    def setting(self, name: str, value: str | None) -> str: ...
    def action(self, command: str, settings: list[tuple[str, str]]) -> str: ...


def worded(text: str, edge: Edge) -> str:
    """`text` with each mark put in the edge's words."""

    def one(found: re.Match[str]) -> str:
        name, value = found.group(1), found.group(2)
        command, *given = (value or "").split("|")
        if name == "run" and _action(command) is not None:
            return edge.action(command, [tuple(pair.split("=", 1)) for pair in given])  # type: ignore[misc]
        if name in BY_NAME or name in SEARCH_OPTIONS:
            return edge.setting(name, value)
        return found.group(0)  # not a mark: a file name, say, that looks like one

    return _MARK.sub(one, text)


# Where records (a report, the status) carry text written below the edges: the strings under
# these keys, and the reason of each (path, reason) pair in these lists. Paths and names are
# left as they are, even one that looks like a mark.
REASON_KEYS = frozenset({"error", "reason", "vector_search", "query_format", "reranker_format"})
PAIR_LISTS = frozenset({"failed", "skipped", "cut", "unreadable"})


def worded_data(data: Any, edge: Edge, key: str | None = None) -> Any:
    """JSON-like data with the reasons in it worded (REASON_KEYS, PAIR_LISTS)."""
    if isinstance(data, str):
        return worded(data, edge) if key in REASON_KEYS else data
    if isinstance(data, dict):
        return {name: worded_data(value, edge, name) for name, value in data.items()}
    if isinstance(data, (list, tuple)):
        if key in PAIR_LISTS:
            return type(data)(
                type(item)((item[0], worded(item[1], edge))) if _is_pair(item) else worded_data(item, edge)
                for item in data
            )
        return type(data)(worded_data(item, edge) for item in data)
    return data


def _is_pair(item: Any) -> bool:
    return isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item)


def has_marks(text: str) -> bool:
    return bool(_MARK.search(text))


# What each command the messages ask for does, for an edge that is not a terminal: the page's
# words, and the agent's (an agent asks the person).
ACTIONS = {
    "index FOLDER": ("add a folder on the Library tab", "index a folder"),
    "index": ("index your folders again on the Library tab", "index the folders again"),
    "status": ("see the Library tab", "look at the index's status"),
    "serve": ("start Fathom's page", "start Fathom's page"),
}


def _action(command: str) -> tuple[str, str] | None:
    """The words for a command: its own, else its name's with a folder (`index ~/Documents`)
    or without (`index --retry`)."""
    name, _, rest = command.partition(" ")
    folder = f"{name} FOLDER" if rest and not rest.startswith("-") else name
    return ACTIONS.get(command) or ACTIONS.get(folder) or ACTIONS.get(name)


@dataclass(frozen=True)
class Terminal:
    """The CLI's words: flags, and commands with the program's name as it was started."""

    prog: str = "fathom"

    def setting(self, name: str, value: str | None) -> str:
        row = BY_NAME.get(name)
        flag = row.flag or row.env if row else SEARCH_OPTIONS[name].flag
        if value is None:
            return str(flag)
        return f"{flag}={value}" if row and not row.flag else f"{flag} {value}"

    def command(self, command: str) -> str:
        return f"{self.prog} {command}"

    def action(self, command: str, settings: list[tuple[str, str]]) -> str:
        flags = "".join(f" {self.setting(name, value)}" for name, value in settings)
        return f"run `{self.command(command)}{flags}`"


@dataclass(frozen=True)
class Page:
    """The page's words: its Settings fields and search controls."""

    def setting(self, name: str, value: str | None) -> str:
        row = BY_NAME.get(name)
        if row is None:
            label = SEARCH_OPTIONS[name].page
            return f"{label} {value}" if value is not None else label
        if row.page:
            return f"{row.page} {value} (Settings)" if value is not None else f"the {row.page} setting"
        where = row.env or row.flag
        return f"{where}={value}" if value is not None else str(where)

    def action(self, command: str, settings: list[tuple[str, str]]) -> str:
        return _action(command)[0] + _with(self, settings)  # type: ignore[index]


@dataclass(frozen=True)
class Agent:
    """An MCP client's words: its tools' arguments; Fathom's settings are the person's."""

    def setting(self, name: str, value: str | None) -> str:
        row = BY_NAME.get(name)
        if row is None:
            argument = SEARCH_OPTIONS[name].mcp or SEARCH_OPTIONS[name].page
            return f"{argument}={value!r}" if value is not None else f"`{argument}`"
        said = (row.page or (row.flag or row.name).lstrip("-").replace("-", " ").replace("_", " ")).lower()
        return f"the person's {said} setting" + (f" ({value})" if value is not None else "")

    def action(self, command: str, settings: list[tuple[str, str]]) -> str:
        return f"ask the person to {_action(command)[1]} with Fathom{_with(self, settings)}"  # type: ignore[index]


def _with(edge: Edge, settings: list[tuple[str, str]]) -> str:
    return " (with " + ", ".join(edge.setting(name, value) for name, value in settings) + ")" if settings else ""


TERMINAL = Terminal()
PAGE = Page()
AGENT = Agent()
