"""The Fathom library behind the CLI and the page: one store, models loaded when needed."""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Collection, Iterator, Sequence

from search.config import Settings
from search.engine import models as engine_models, search_notes
from search.engine.index_recipe import INDEX_RECIPE, chunker_for, fitting_space, kept_dimension, model_change
from search.engine.status import Status
from search.errors import FathomError
from search.ingest.progress import Progress
from search.ingest.report import IndexReport
from search.limits import check_query
from search.query import Result, SearchOptions, has_words, search, understood
from search.models import open_embedder, open_reranker
from search.query_syntax import Query
from search.wording import run
from storage import EmbeddingSpace, open_store

LIKE_CHARS = 2000  # of a file's text, as the query for "more like this"


class Engine:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = open_store(settings.database)
        self._embedder: Any = None
        self._reranker: Any = None
        self._chunker: Any = None
        self._models_lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.store.close()
        for model in (self._embedder, self._reranker):
            if hasattr(model, "close"):  # a model on a server: its connections and threads
                model.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models ------------------------------------------------------------------------------

    @property
    def embedder_loaded(self) -> bool:
        return self._embedder is not None

    def embedder(self, dimension: int | None = None) -> Any:
        """The embedding model, loaded once (the meaning phase and searches may ask at once)."""
        with self._models_lock:
            if self._embedder is None:
                self._embedder = open_embedder(self.settings, dimension)
            return self._embedder

    def reranker(self) -> Any:
        with self._models_lock:
            if self._reranker is None:
                self._reranker = open_reranker(self.settings)
            return self._reranker

    def chunker(self) -> Any:
        """How files are cut (search/engine/index_recipe.py), known without the model's weights."""
        if self._chunker is None:
            self._chunker = chunker_for(self.settings)
        return self._chunker

    def device(self) -> str:
        """Where the models run, as words: "cpu float32", or a server, for each model."""
        return engine_models.device_words(self.settings, self._embedder)

    def reranks_on_cpu(self) -> bool:
        """Whether the reranker would run on this computer's CPU (seconds a search there)."""
        return engine_models.reranks_on_cpu(self.settings, self._embedder)

    # -- indexing: words first (no model), then meaning (vectors) ----------------------------------

    def index(
        self, paths: Sequence[str | Path], progress: Progress | None = None, **read_options: Any
    ) -> tuple[IndexReport, str | None]:
        """Both phases: `read` (`read_options`: its retry and fresh), then `embed`. A model that
        cannot be loaded raises after the words phase is written: the files are searchable by
        their words meanwhile."""
        report, notice = self.read(paths, progress, **read_options)
        embedded = self.embed(progress)
        report.chunks += embedded.chunks
        report.failed += embedded.failed
        return report, notice

    def read(
        self,
        paths: Sequence[str | Path],
        progress: Progress | None = None,
        *,
        retry: bool = False,
        fresh: Collection[Path] = (),
    ) -> tuple[IndexReport, str | None]:
        """The words phase over these folders (all known folders when none are given): new
        files, changed files, files gone, including whatever changed while Fathom was not
        running; each file searchable by its words as soon as it is written. No model is
        loaded. `retry` tries every failed and skipped file again; the folders in `fresh` are
        read again from scratch, their old results searchable until the new ones replace them.

        Returns the report and, when the embedding model changed, a sentence saying that every
        folder is embedded again."""
        folders = [folder_path(p) for p in paths] or self.folders()
        if not folders:
            raise FathomError(f"No folder to index: to give one, {run('index ~/Documents')}.")
        notice = model_change(self.store.embedding_space(), self.settings)
        if notice:  # files cut by the old model's tokenizer are cut again, in every folder
            folders += [f for f in self.folders() if f not in folders]
        report = self.words().index_folders(
            folders, progress, retry=retry, fresh=fresh, model_changed=notice is not None
        )
        if report.removed or report.updated:
            self.store.vacuum_if_worth_it()
        return report, notice

    def embed(self, progress: Progress | None = None, stop: Any = None, first: Any = None) -> Any:
        """The meaning phase: loads the embedding model (ModelLoadError if it cannot), makes the
        store's embedding space follow it, and embeds every chunk that waits; `first` gives
        the paths that go before the others (see MeaningPhase)."""
        from search.ingest.meaning import MeaningPhase

        embedder = self.index_embedder()
        self.store.set_embedding_space(EmbeddingSpace(self.settings.embedding_key, embedder.dimension, INDEX_RECIPE))
        return MeaningPhase(self.store, embedder, self.chunker().identity, first=first).run(progress, stop)

    def index_embedder(self) -> Any:
        """The embedder indexing uses: the index's own dimension unless another is asked for."""
        return self.embedder(kept_dimension(self.store.embedding_space(), self.settings))

    def words(self) -> Any:
        """The words phase's indexer (the watcher's too): it needs the tokenizer, not the model."""
        from search.ingest.indexer import Indexer

        return Indexer(
            self.store, chunker=self.chunker(), max_file_bytes=self.settings.max_file_bytes,
            max_passages=self.settings.max_passages,
        )

    def watch(self, indexer: Any, on_report: Any = None, progress: Progress | None = None) -> Any:
        """A started watcher over every indexed folder; stop it with `.stop()`."""
        from search.ingest.watcher import Watcher

        return Watcher(indexer, self.folders(), on_report=on_report, progress=progress).start()

    # -- folders -----------------------------------------------------------------------------

    def folders(self) -> list[Path]:
        return [Path(f.path) for f in self.store.folders()]

    def remove_folder(self, path: str | Path) -> int:
        """Stop indexing a folder and drop its files from the index; returns how many."""
        wanted = Path(path).expanduser().resolve()
        for folder in self.store.folders():
            if Path(folder.path) == wanted:
                return self.store.remove_folder(folder.id)
        known = ", ".join(f.path for f in self.store.folders()) or "none yet"
        raise FathomError(f"{path} is not an indexed folder (indexed: {known}).")

    # -- searching ---------------------------------------------------------------------------

    def understand(self, query: str, options: SearchOptions) -> Query:
        """The query as it will be searched: `"phrases"`, `-left out`, and its misspelled words
        corrected (`.searched` says so) unless `options.spelling` is off. No model is needed."""
        check_query(query)
        return understood(self.store, query, options)

    def search(self, query: str | Query, options: SearchOptions) -> list[Result]:
        check_query(query.text if isinstance(query, Query) else query)
        if not has_words(query.text if isinstance(query, Query) else query):
            return []  # before any model is loaded: there is nothing to look for
        embedder = None
        if options.mode != "keyword":
            embedder = self.embedder(self.search_space().dimension)
        reranker = self.reranker() if options.rerank else None
        return search(self.store, query, options, embedder, reranker)

    def answers(self, queries: Sequence[str], options: SearchOptions, like: str | None = None) -> Iterator[dict[str, Any]]:
        """A command-line search's JSON (search/engine/search_notes.py)."""
        return search_notes.answers(self, queries, options, like)

    def search_with_notes(self, query: str | Query, options: SearchOptions) -> tuple[list[Result], list[str]]:
        """A search as the command line runs it, with notes (search/engine/search_notes.py)."""
        return search_notes.search_with_notes(self, query, options)

    def ignores_instructions(self, options: SearchOptions) -> bool:
        """Whether a task or instruction changes nothing for these options: nothing is reranked,
        and the embedder takes no instructions (a plain sentence encoder) or is not used."""
        if options.rerank and self.settings.reranker_model is not None:
            return False
        if options.mode == "keyword":
            return True
        return self._embedder is not None and not getattr(self._embedder, "takes_instructions", True)

    def more_like_this(self, path: str | Path, options: SearchOptions) -> tuple[str, SearchOptions]:
        """The query and options that find files like an indexed one (which is left out)."""
        key = str(Path(path).expanduser().resolve())
        text = self.store.file_text(key, max_chars=LIKE_CHARS)
        if text is None:
            raise FathomError(f"{path} is not an indexed file: index its folder first, or check the path.")
        task = options.task or (None if options.instruction else "similar")
        return text, replace(options, task=task, exclude_path=key)

    def search_space(self) -> EmbeddingSpace:
        """The index's embedding space, when these settings can search it (else an error that
        says what to do: search/engine/index_recipe.py)."""
        return fitting_space(self.store.embedding_space(), self.settings)

    # -- upkeep ------------------------------------------------------------------------------

    def backup(self, path: str | Path) -> Path:
        """Copy the database, consistently, while indexing or searching goes on."""
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / "fathom-backup.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.store.backup(target)
        return target.resolve()

    def check(self, repair: bool = True) -> dict[str, Any]:
        """Integrity counts before (and after, when repairing) and what was repaired."""
        before = self.store.integrity()
        result: dict[str, Any] = {"problems": before}
        if repair and not _clean(before):
            result["repaired"] = self.store.repair()
            result["problems_after"] = self.store.integrity()
        return result

    def status(self) -> Status:
        from search.channel import serving

        return Status(self.store.stats(), self.settings, self.device(), serving(self.settings.data_dir))


def _clean(problems: dict[str, int | bool]) -> bool:
    return all(value is True or value == 0 for value in problems.values())


def folder_path(path: str | Path) -> Path:
    """A folder given by a person, checked and resolved (FathomError says what is wrong)."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FathomError(f"No folder at {path}: check the path.")
    if not folder.is_dir():
        raise FathomError(f"{path} is a file, not a folder: give the folder that holds it.")
    return folder.resolve()
