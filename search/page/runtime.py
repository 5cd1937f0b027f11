"""What one running page holds: the settings, the engine, its model loader and its library
worker. New settings build a new set; the old one is wound down in the background, so
a settings change never blocks the page."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from search.config import Settings
from search.page.files import FileCopies
from search.live import LiveIndex
from search.page.loader import ModelLoader
from search.page.token import carries_token, page_token


@dataclass(frozen=True)
class Serving:
    """How the page is served: the settings page and the download button say so."""

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: bool = False
    sources: dict[str, str] = field(default_factory=dict)  # config.setting_sources() at start
    mcp: bool = False  # the agents' tools at /mcp (search/page/agent_route.py)


class Runtime:
    def __init__(self, settings: Settings, serving: Serving | None = None, embedder: Any = None):
        from search.engine import Engine

        self.serving = serving or Serving()
        self._lock = threading.Lock()
        self._retiring = threading.Lock()  # one retirement at a time, in order
        self.settings = settings
        self.engine = Engine(settings)
        if embedder is not None:  # tests hand in a model they already loaded
            self.engine._embedder = embedder
        self.loader = ModelLoader(self.engine)
        self.library = LiveIndex(self.engine, self.loader)
        self.files = FileCopies(settings.data_dir)  # private: <data folder>/page-files/...
        self._started = False
        self.channel: Any = None
        self._token: str | None = None

    @property
    def token(self) -> str:
        """The page's token (token.py): the token variable's, or the one kept in the data folder."""
        if self._token is None:
            self._token = page_token(self.settings.data_dir)
        return self._token

    def carries_token(self, scope: Mapping[str, Any]) -> bool:
        """Whether an ASGI request to this page carries its token (bearer, cookie or address)."""
        return carries_token(scope, self.token, self.serving.port)

    def start(self) -> "Runtime":
        from search.channel import Channel

        self._started = True
        self.loader.start()
        self.library.start()
        # Terminal searches are answered here, with the models this page has loaded.
        self.channel = Channel(self._ready_engine, self.settings.data_dir, "page").start()
        return self

    def _ready_engine(self) -> Any:
        """The engine, once its embedder is loaded (a terminal search must not wait on a page
        that is still loading: it is declined and searches in its own process)."""
        return self.engine if self.loader.ready else None

    def apply(self, settings: Settings) -> None:
        """Run with new settings from now on: load the models they name and bring the index
        in line (a new embedding model or dimension re-embeds every folder)."""
        from search.engine import Engine

        with self._lock:
            old = (self.engine, self.loader, self.library)
            self.settings = settings
            self.engine = Engine(settings)
            self.loader = ModelLoader(self.engine)
            self.library = LiveIndex(self.engine, self.loader)
            if self._started:
                self.loader.start()
        threading.Thread(target=self._retire, args=old, name="fathom-retire", daemon=True).start()

    def _retire(self, engine: Any, loader: Any, library: Any) -> None:
        """Stop the old worker (between two files), then start the new one: never two
        indexers writing the same folders, and the old models are let go."""
        with self._retiring:
            library.stop()
            engine.close()  # a model still loading for it is dropped when it is done
            with self._lock:
                if self._started:
                    self.library.start()

    def close(self) -> None:
        with self._lock:
            self._started = False
        if self.channel is not None:
            self.channel.stop()
        self.library.stop()
        self.engine.close()
        self.files.close()
