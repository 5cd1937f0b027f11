"""Where the agents' tools find the index and the models: in the page's own process (its
engine and model loader, swapped when its settings change), or in the process of the stdio
server an agent starts, which opens the index itself and loads the embedding model in the
background, so that no tool call ever waits for a model."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Protocol

from search.config import Settings
from search.page.loader import ModelLoader


class Backend(Protocol):
    settings: Settings
    asks_running_fathom: bool  # try a running Fathom's socket first (it has its models loaded)
    where: str  # whose models answer, as words: "the page", "this server"

    def engine(self) -> Any: ...

    def loader(self, start: bool = True) -> ModelLoader | None:
        """The model loader; with `start`, loading begins if it has not (None: not started)."""

    def close(self) -> None: ...


class PageBackend:
    """The page's runtime: the tools search with the page's engine and loaded models."""

    asks_running_fathom = False
    where = "the page"

    def __init__(self, runtime: Any):
        self.runtime = runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def engine(self) -> Any:
        return self.runtime.engine

    def loader(self, start: bool = True) -> ModelLoader | None:
        return self.runtime.loader

    def close(self) -> None:
        pass  # the page closes its own


class AgentModelLoader(ModelLoader):
    """The page's loader, less a reranker that would run on this CPU: there it costs seconds a
    search, so an agent's searches never use it (and its gigabytes are not loaded for nothing)."""

    def _reranker_wanted(self) -> bool:
        return not self.engine.reranks_on_cpu()


class ProcessBackend:
    """The index opened in this process, and the models loaded here on a background thread."""

    asks_running_fathom = True
    where = "this server"

    def __init__(self, settings: Settings):
        self.settings = replace(settings)
        self._engine: Any = None
        self._loader: ModelLoader | None = None
        self._lock = threading.Lock()

    def engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                from search.engine import Engine

                self._engine = Engine(self.settings)
            return self._engine

    def loader(self, start: bool = True) -> ModelLoader | None:
        if self._loader is None and start:
            engine = self.engine()
            with self._lock:
                if self._loader is None:
                    self._loader = AgentModelLoader(engine).start()
        return self._loader

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
