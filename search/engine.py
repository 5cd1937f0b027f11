"""The Fathom library behind the CLI and the page: one store, models loaded when needed."""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Collection, Iterator, Sequence

from search.config import Settings
from search.errors import FathomError, IndexMismatchError, ModelLoadError, ModelServerError, NotIndexedError
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS
from search.ingest.indexer import IndexReport, Progress
from search.limits import check_query
from search.query import Result, SearchOptions, has_words, search, understood
from search.query_syntax import Query
from storage import EmbeddingSpace, IndexStats, open_store

# How chunks are made and what the embedder sees of them; a new value re-embeds old indexes.
INDEX_RECIPE = "chunks-with-context-1"
CONTEXT_TOKENS = 40
LIKE_CHARS = 2000  # of a file's text, as the query for "more like this"
CPU_RERANK_SECONDS = 1.5  # per file, Qwen3-Reranker-0.6B on 2 cores


@dataclass
class Status:
    stats: IndexStats
    settings: Settings
    device: str  # the device and dtype the models run with, e.g. "cuda bfloat16"
    server: dict[str, Any] | None = None  # the running Fathom that answers searches, if any

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "database": s.path,  # a SQLite file, or a PostgreSQL URL without its password
            "vector_search": s.vector_search,
            "data_dir": str(self.settings.data_dir),
            "schema_version": s.schema_version,
            # files: those with a row (indexed, failed or skipped); with the files ignored by
            # rule they add up to the files on disk, outside the folders never entered
            "folders": [
                {"path": path, "files": files, **s.folder_counts.get(path, {})} for path, files in s.folders
            ],
            "files": s.files,
            "indexed_files": s.indexed,
            "chunks": s.chunks,
            # indexed files whose vectors are still to come (searchable by their words meanwhile)
            "waiting": {"files": s.waiting.files, "chunks": s.waiting.chunks, "tokens": s.waiting.tokens},
            "failed": [{"path": path, "error": error} for path, error in s.failed],
            "skipped": [{"path": path, "error": error} for path, error in s.skipped],
            # indexed up to the passage limit (--max-passages): the rest is found by words only
            "cut": [{"path": path, "reason": reason} for path, reason in s.cut],
            "ignored": [{"path": i.path, "reason": i.reason, "folder": i.is_folder} for i in s.ignored],
            "embedding_model": s.space.model if s.space else None,
            "dimension": s.space.dimension if s.space else None,
            "configured_embedding_model": self.settings.embedding_model,
            "reranker_model": self.settings.reranker_model,
            "device": self.device,
            "server": self.server,
            # models on another machine (None: they run here)
            "embedding_url": self.settings.embedding_url,
            "reranker_url": self.settings.reranker_url,
            "query_format": self.query_format,
            "reranker_format": self.reranker_format,
        }

    @property
    def query_format(self) -> str | None:
        """How queries are sent to an embedding server, and why, e.g. `qwen3 (from the
        model's name; ...)`; None for a local model (its config says)."""
        if not self.settings.embedding_url:
            return None
        from search.models.remote import format_words, query_format

        return format_words(*query_format(self.settings.embedding_model, self.settings.query_format), "embedding")

    @property
    def reranker_format(self) -> str | None:
        s = self.settings
        if not s.reranker_url or s.reranker_model is None:
            return None
        from search.models.remote import format_words, rerank_format

        return format_words(*rerank_format(s.reranker_model, s.reranker_format), "reranker")


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
            return self._load_embedder(dimension)

    def _load_embedder(self, dimension: int | None) -> Any:
        s = self.settings
        if self._embedder is None and s.embedding_url:
            from search.config import server_key
            from search.models.remote import load_remote_embedder

            key, where = server_key(s, "embedding")
            self._embedder = load_remote_embedder(
                s.embedding_url, s.embedding_model, dimension=dimension or s.dim, fmt=s.query_format,
                api_key=key, key_variables=where, timeout=s.remote_timeout, in_flight=s.remote_requests,
            )
        if self._embedder is None:
            from search.models import load_embedder

            self._embedder = load_embedder(s.embedding_model, s.device, dimension or s.dim)
        return self._embedder

    def reranker(self) -> Any:
        with self._models_lock:
            return self._load_reranker()

    def _load_reranker(self) -> Any:
        s = self.settings
        if s.reranker_model is None:
            return None
        if self._reranker is None and s.reranker_url:
            from search.config import server_key
            from search.models.remote import load_remote_reranker

            key, where = server_key(s, "reranker")
            self._reranker = load_remote_reranker(
                s.reranker_url, s.reranker_model, fmt=s.reranker_format, api_key=key, key_variables=where,
                timeout=s.remote_timeout, in_flight=s.remote_requests,
            )
        if self._reranker is None:
            from search.models import load_reranker

            self._reranker = load_reranker(s.reranker_model, s.device)
        return self._reranker

    # -- indexing: words first (no model), then meaning (vectors) ----------------------------------

    def index(
        self,
        paths: Sequence[str | Path],
        progress: Progress | None = None,
        *,
        retry: bool = False,
        fresh: Collection[Path] = (),
    ) -> tuple[IndexReport, str | None]:
        """Both phases: `read`, then `embed`. A model that cannot be loaded raises after the
        words phase is written: the files are searchable by their words meanwhile."""
        report, notice = self.read(paths, progress, retry=retry, fresh=fresh)
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
            raise FathomError("No folder to index: give one, e.g. `python app.py index ~/Documents`.")
        notice = self._model_change()
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
        previous = self.store.embedding_space()
        keep_dim = previous.dimension if previous and previous.model == self.settings.embedding_key else None
        return self.embedder(self.settings.dim or keep_dim)

    def words(self) -> Any:
        """The words phase's indexer (the watcher's too): it needs the tokenizer, not the model."""
        from search.ingest.indexer import Indexer

        return Indexer(
            self.store, chunker=self.chunker(), max_file_bytes=self.settings.max_file_bytes,
            max_passages=self.settings.max_passages,
        )

    def chunker(self) -> Any:
        """How files are cut, known without the model's weights: in the model's own tokens (a
        local folder, the cache, or its tokenizer files alone from the Hub), else by Fathom's
        estimate of tokens (files cut so are cut again once the model's tokenizer is at hand)."""
        if self._chunker is None:
            import copy

            from search.ingest.chunk import Chunker
            from search.models.approx_tokenizer import ApproxTokenizer
            from search.models.loading import chunk_tokenizer_of

            named = self.settings.tokenizer
            tokenizer, max_length = chunk_tokenizer_of(named or self.settings.embedding_model)
            if tokenizer is None and named:
                raise ModelLoadError(
                    f"--tokenizer {named}: no tokenizer there (give a model folder, or a Hugging Face "
                    "name in the local cache), or leave it out to let Fathom estimate tokens."
                )
            if tokenizer is None:
                # No tokenizer can be had: estimate, for the smallest common limit of 256 tokens.
                name, new, max_length, exact = "estimated tokens", ApproxTokenizer, 256, False
            else:
                lock = threading.Lock()

                def new() -> Any:  # a copy each: a fast tokenizer keeps its settings on one object
                    with lock:
                        return copy.deepcopy(tokenizer)

                name, exact = self.settings.embedding_key, True
            # Room for the special tokens and the context line (title › section) of each chunk.
            tokens = min(DEFAULT_CHUNK_TOKENS, (max_length or 256) - 2 - CONTEXT_TOKENS)
            self._chunker = Chunker(f"{INDEX_RECIPE} {name}", new, tokens, DEFAULT_OVERLAP_TOKENS, exact)
        return self._chunker

    def _model_change(self) -> str | None:
        """A sentence when the index was embedded with another model or dimension (or chunks
        were built otherwise): every folder is then embedded again."""
        previous = self.store.embedding_space()
        key, dim = self.settings.embedding_key, self.settings.dim
        if previous is None:
            return None
        if previous.model != key or (dim is not None and dim != previous.dimension):
            wanted = f"{key}" + (f" (dimension {dim})" if dim else "")
            return (
                f"The index was built with {previous.model} (dimension {previous.dimension}); "
                f"re-embedding every folder with {wanted}."
            )
        if previous.recipe != INDEX_RECIPE:
            return "This version of Fathom builds chunks differently; re-embedding every folder."
        return None

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
            space = self._check_space()
            embedder = self.embedder(space.dimension)
        reranker = self.reranker() if options.rerank else None
        return search(self.store, query, options, embedder, reranker)

    def answers(self, queries: Sequence[str], options: SearchOptions, like: str | None = None) -> Iterator[dict[str, Any]]:
        """A command-line search's JSON: `{"query", "results"}` for each query (or for the file
        `like`), then `{"done": true, "notes": [...]}` (the CLI prints the notes once)."""
        if like:
            query, options = self.more_like_this(like, options)
            queries = [query]
        notes: list[str] = []
        for query in queries:
            parsed = self.understand(query, options)
            results, notes = self.search_with_notes(parsed, options)
            # corrected: the query as searched when a misspelled word was replaced, else null
            yield {"query": query, "results": [r.to_json() for r in results], "corrected": parsed.searched}
        yield {"done": True, "notes": notes}

    def search_with_notes(self, query: str | Query, options: SearchOptions) -> tuple[list[Result], list[str]]:
        """A search as the command line runs it: with `options.rerank` None, reranking only off
        a CPU (where it costs seconds a search), and sentences on what the options did not do."""
        notes: list[str] = []
        if not has_words(query.text if isinstance(query, Query) else query):
            return [], notes  # before any model is loaded: there is nothing to look for
        if options.mode == "hybrid":
            words_only = self._words_only_because()
            if words_only:
                options = replace(options, mode="keyword")
                notes.append(words_only + " These files match your words only.")
        reranker = self.settings.reranker_model
        if options.rerank is None:
            on_cpu = self.reranks_on_cpu()
            options = replace(options, rerank=reranker is not None and not on_cpu)
            if reranker is not None and on_cpu:
                seconds = options.rerank_top * CPU_RERANK_SECONDS
                notes.append(
                    f"not reranked: on this CPU the reranker takes about {seconds:.0f} s a search "
                    f"({options.rerank_top} files); add --rerank to turn it on."
                )
        results = self.search(query, options)
        if results and options.mode == "hybrid" and not any(r.strong for r in results):
            notes.append(
                "no strong match: none of these files has most of your words or a close meaning; "
                "try other words or a longer description."
            )
        waiting = self.store.pending_work().files if options.mode != "keyword" else 0
        if waiting:
            notes.append(
                f"{waiting} indexed file(s) are not embedded yet: they are found by their words only "
                "until then, so results may be incomplete."
            )
        if (options.task or options.instruction) and self.ignores_instructions(options):
            notes.append(
                f"{Path(self.settings.embedding_model).name} takes no instructions and nothing is "
                "reranked, so --task and --instruction change nothing here"
                + (" (--query-format qwen3 if it is a Qwen3-Embedding model)." if self.settings.embedding_url else ".")
            )
        return results, notes

    def _words_only_because(self) -> str | None:
        """Why a hybrid search can only match words now, or None: no file has its vectors yet,
        or the model cannot be loaded (the words phase needs neither)."""
        try:
            space = self._check_space()
            self.embedder(space.dimension)
        except NotIndexedError:
            if self.store.stats().indexed == 0:
                return None
            return "No file has its vectors yet: run `python app.py index` to embed them."
        except ModelServerError:
            raise  # a server that is down is said as it is, as any search with it would be
        except ModelLoadError as exc:
            return str(exc)
        return None

    def ignores_instructions(self, options: SearchOptions) -> bool:
        """Whether a task or instruction changes nothing for these options: nothing is reranked,
        and the embedder takes no instructions (a plain sentence encoder) or is not used."""
        if options.rerank and self.settings.reranker_model is not None:
            return False
        if options.mode == "keyword":
            return True
        return self._embedder is not None and not getattr(self._embedder, "takes_instructions", True)

    def device(self) -> str:
        """Where the models run, as words: "cpu float32", or a server, for each model."""
        from search.models.device import describe

        s = self.settings
        if self._embedder is not None:
            device = self._embedder.placement.describe()
        else:
            device = f"server {s.embedding_url}" if s.embedding_url else describe(s.device)
        if s.reranker_model is not None and s.reranker_url != s.embedding_url:
            # one model here, the other on a server (or two servers): say where each runs
            device += "; reranker on " + (f"server {s.reranker_url}" if s.reranker_url else describe(s.device))
        return device

    def reranks_on_cpu(self) -> bool:
        """Whether the reranker would run on this computer's CPU (seconds a search there)."""
        if self.settings.reranker_url:
            return False
        from search.models.device import describe

        placement = self._embedder.placement.describe() if self._embedder is not None and not self.settings.embedding_url else describe(self.settings.device)
        return placement.startswith("cpu")

    def more_like_this(self, path: str | Path, options: SearchOptions) -> tuple[str, SearchOptions]:
        """The query and options that find files like an indexed one (which is left out)."""
        from dataclasses import replace

        key = str(Path(path).expanduser().resolve())
        text = self.store.file_text(key, max_chars=LIKE_CHARS)
        if text is None:
            raise FathomError(f"{path} is not an indexed file: index its folder first, or check the path.")
        task = options.task or (None if options.instruction else "similar")
        return text, replace(options, task=task, exclude_path=key)

    def _check_space(self) -> EmbeddingSpace:
        space = self.store.embedding_space()
        if space is None:
            raise NotIndexedError(
                "Nothing is indexed yet: run `python app.py index FOLDER` first."
            )
        s = self.settings
        wanted_dim = s.dim or space.dimension
        if space.model != s.embedding_key or space.dimension != wanted_dim:
            raise IndexMismatchError(
                f"This index was built with {space.model} (dimension {space.dimension}), not "
                f"{s.embedding_key}"
                + (f" (dimension {s.dim})" if s.dim else "")
                + f": search with {_model_options(space.model, s.embedding_url)}"
                + (f" --dim {space.dimension}" if s.dim else "")
                + ", or re-index everything with the new one: "
                + f"`python app.py index {_model_options(s.embedding_key, None)}`."
            )
        return space

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

    # -- status ------------------------------------------------------------------------------

    def status(self) -> Status:
        from search.channel import serving

        return Status(self.store.stats(), self.settings, self.device(), serving(self.settings.data_dir))


def _model_options(key: str, url_now: str | None) -> str:
    """The options that choose the model an index records (`name @ URL` for a server's),
    when a server's URL is set now (`url_now`)."""
    name, _, url = key.partition(" @ ")
    return f"--embedding-model {name}" + (
        f" --embedding-url {url}" if url else " --embedding-url none" if url_now else ""
    )


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
