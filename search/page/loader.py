"""Load the models on a background thread, so the page paints at once and says how the
loading goes (which model, how long, how much is downloaded) or why it failed."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.errors import FathomError, ModelServerError
from search.models.reference import ModelRef

WAITING, LOADING, READY, FAILED = "waiting", "loading", "ready", "failed"
SERVER_RETRY_SECONDS = 30.0  # a model server that could not be used is tried again this often


@dataclass(frozen=True)
class LoaderView:
    state: str  # waiting, loading, ready or failed (the embedder; search needs it)
    stage: str  # what is happening, as words
    seconds: float  # since loading began
    downloaded: int  # bytes downloaded from the Hub so far (0 for local folders and cached models)
    device: str  # e.g. "cpu float32", once the embedder is loaded
    error: str | None  # why the embedder failed, and what to do
    reranker: str  # "none", "waiting", "loading", "ready" or "failed"
    reranker_error: str | None
    instructions: bool | None = None  # whether the embedder takes instructions; None until loaded
    reranker_device: str = ""  # where the reranker runs, once loaded (it may differ from the embedder)


# The fields of a LoaderView the loader keeps as they are shown (as `_state`, `_stage`...).
_KEPT_AS_SHOWN = ("state", "stage", "device", "error", "reranker", "reranker_error", "instructions", "reranker_device")


class ModelLoader:
    def __init__(self, engine: Any):
        self.engine = engine
        self.embedder = threading.Event()  # set once the embedder is loaded, or has failed
        self._state = WAITING
        self._stage = "Waiting to load the models"
        self._reranker = "none" if engine.settings.reranker_model is None else WAITING
        self._error: str | None = None
        self._reranker_error: str | None = None
        self._device = ""
        self._reranker_device = ""
        self._instructions: bool | None = None
        self._began = time.monotonic()
        self._downloading: str | None = None
        self._cached = 0  # bytes of the model being loaded that were cached before
        self._thread = threading.Thread(target=self._run, name="fathom-models", daemon=True)

    def start(self) -> "ModelLoader":
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def ready(self) -> bool:
        return self._state == READY

    @property
    def failed(self) -> bool:
        return self._state == FAILED

    @property
    def reranker_ready(self) -> bool:
        return self._reranker == READY

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the embedder; True when it loaded."""
        self.embedder.wait(timeout)
        return self.ready

    def view(self) -> LoaderView:
        name = self._downloading
        downloaded = max(0, _cache_bytes(name) - self._cached) if name else 0
        kept = {field: getattr(self, "_" + field) for field in _KEPT_AS_SHOWN}
        return LoaderView(seconds=time.monotonic() - self._began, downloaded=downloaded, **kept)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        settings = self.engine.settings
        self._began = time.monotonic()
        self._state = LOADING
        self._stage = _loading_words("embedding model", settings.embedding_model, settings.embedding_url)
        if not settings.embedding_url:
            self._watch_download(settings.embedding_model)
        try:
            embedder = self._embedder()
            placement = getattr(embedder, "placement", None)
            self._device = placement.describe() if placement is not None else ""
            self._instructions = bool(getattr(embedder, "takes_instructions", True))
        except FathomError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # a broken model folder can raise anything; say which
            self._fail(f"Cannot load the embedding model {settings.embedding_model}: {exc}")
            return
        finally:
            self._downloading = None
        self._state = READY
        self.embedder.set()
        if settings.reranker_model is None or not self._reranker_wanted():
            self._reranker = "none"
            self._stage = "Ready"
            return
        self._reranker = LOADING
        self._stage = _loading_words("reranker", settings.reranker_model, settings.reranker_url)
        if not settings.reranker_url:
            self._watch_download(settings.reranker_model)
        try:
            placement = getattr(self.engine.reranker(), "placement", None)
            self._reranker_device = placement.describe() if placement is not None else ""
            self._reranker = READY
        except Exception as exc:  # searching works without it; say so
            self._reranker = FAILED
            self._reranker_error = str(exc) if isinstance(exc, FathomError) else (
                f"Cannot load the reranker {settings.reranker_model}: {exc}"
            )
        finally:
            self._downloading = None
        self._stage = "Ready"

    def _reranker_wanted(self) -> bool:
        """Whether to load the reranker once the embedder is loaded (the page always does)."""
        return True

    def _embedder(self) -> Any:
        """The embedder; a model server that cannot be used now is tried again until it can
        (the page says so meanwhile), or until these settings are replaced."""
        while True:
            try:
                return self.engine.embedder(self._index_dimension())
            except ModelServerError as exc:
                if self.engine.closed:
                    raise
                self._fail(f"{exc} Fathom tries again every {SERVER_RETRY_SECONDS:g} s.")
            deadline = time.monotonic() + SERVER_RETRY_SECONDS
            while time.monotonic() < deadline and not self.engine.closed:
                time.sleep(min(0.5, SERVER_RETRY_SECONDS))
            if self.engine.closed:
                raise ModelServerError(self._error or "The model server could not be used.")
            settings = self.engine.settings
            self._state, self._error = LOADING, None
            self._stage = _loading_words("embedding model", settings.embedding_model, settings.embedding_url)

    def _watch_download(self, model: str) -> None:
        name = _hub_name(model)
        self._cached = _cache_bytes(name) if name else 0
        self._downloading = name

    def _fail(self, message: str) -> None:
        self._error = message
        self._state = FAILED
        self._stage = "The embedding model could not be loaded"
        if self._reranker != "none":
            self._reranker = WAITING
        self.embedder.set()

    def _index_dimension(self) -> int | None:
        """The dimension the index was built with, when it was built with this model: the
        embedder must produce the same width (as Engine.indexer chooses it)."""
        settings = self.engine.settings
        if settings.dim:
            return settings.dim
        space = self.engine.store.embedding_space()
        return space.dimension if space and space.model == settings.embedding_key else None


def _loading_words(what: str, model: str, url: str | None) -> str:
    if url:
        return f"Connecting to the {what} {model} at {url}"
    return f"Loading the {what} {short_name(model)}"


def short_name(model: str) -> str:
    """Qwen/Qwen3-Embedding-0.6B -> Qwen3-Embedding-0.6B; a local folder -> its last two
    parts (model folders are often called just `model`)."""
    parts = model.rstrip("/").split("/")
    if _hub_name(model) is not None:
        return parts[-1]
    return "/".join(parts[-2:]).lstrip("/") or model


def _hub_name(model: str) -> str | None:
    return model if ModelRef.parse(model).kind == "hub" else None


def _cache_bytes(name: str) -> int:
    """Bytes of a Hub model in the local cache, partial downloads included."""
    try:
        from huggingface_hub import constants

        folder = Path(constants.HF_HUB_CACHE) / ("models--" + name.replace("/", "--")) / "blobs"
        return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    except (OSError, ImportError):
        return 0
