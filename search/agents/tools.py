"""The tools an agent uses on a person's indexed files: `search`, `similar`, `get` and
`status`. Read-only: none of them adds a folder, indexes, or changes a setting.

Searches go to a running Fathom when there is one (the page or `index --watch`, over the
socket the command line uses, its models loaded), else to the backend's own engine. No call
waits for a model: while it loads (or when it cannot), a search matches words alone and says
so. Errors are Refusal, worded for an agent: they name the tools' arguments, never the
command line's options. No MCP here: search/agents/server.py publishes these tools.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any, Sequence

from search.agents.backends import Backend
from search.agents.reading import Allowed, IsIndexed, Refusal, allowed_file, file_text, line_range, read_text
from search.agents.results import (
    Failure, FileText, FolderStatus, IndexStatus, SearchAnswer, SearchHit,
)
from search.errors import FathomError
from search.filters import make_filter
from search.presets import presets
from search.query import DEFAULT_RERANK_TOP, MODES, SearchOptions, has_words
from storage import ChunkFilter, StorageError
from storage.file_text import title_from_context

DEFAULT_K = 10
MAX_K = 50
MAX_FAILURES = 50  # failed and skipped files listed by `status`
RUNNING = "the running Fathom"
COUNTS = ("indexed", "failed", "skipped", "ignored")  # a folder's files, as `status` counts them


class AgentTools:
    def __init__(self, backend: Backend):
        self.backend = backend

    # -- search and similar ------------------------------------------------------------------

    def search(
        self,
        query: str,
        task: str | None = None,
        instruction: str | None = None,
        k: int = DEFAULT_K,
        folder: str | None = None,
        file_types: Sequence[str] | None = None,
        modified_after: str | None = None,
        modified_before: str | None = None,
        mode: str = "hybrid",
    ) -> SearchAnswer:
        if task and instruction:
            raise Refusal("Give task or instruction, not both.")
        if task and task not in presets():
            raise Refusal(f"task must be one of {', '.join(sorted(presets()))}, found {task!r}.")
        if mode not in MODES:
            raise Refusal(f"mode must be one of {', '.join(MODES)}, found {mode!r}.")
        notes: list[str] = []
        options = self._options(k, notes, folder, file_types, modified_after, modified_before,
                                mode=mode, task=task or None, instruction=instruction or None)
        if not has_words(query):
            raise Refusal("query holds no words to search for: give a few words or a question.")
        return self._answer(query, options, None, notes)

    def similar(
        self,
        path: str,
        k: int = DEFAULT_K,
        folder: str | None = None,
        file_types: Sequence[str] | None = None,
        modified_after: str | None = None,
        modified_before: str | None = None,
    ) -> SearchAnswer:
        allowed = self._indexed_file(path)
        notes: list[str] = []
        options = self._options(k, notes, folder, file_types, modified_after, modified_before)
        return self._answer(allowed.path, options, allowed.path, notes)

    def _options(
        self, k: int, notes: list[str], folder: str | None, file_types: Sequence[str] | None,
        after: str | None, before: str | None, **more: Any,
    ) -> SearchOptions:
        if k < 1:
            raise Refusal(f"k must be at least 1, found {k}.")
        if k > MAX_K:
            notes.append(f"k is capped at {MAX_K}: these are the best {MAX_K}.")
            k = MAX_K
        settings = self.backend.settings
        return SearchOptions(
            k=k, rerank=None, rerank_top=settings.rerank_top or DEFAULT_RERANK_TOP,
            filters=self._filters(folder, file_types, after, before), **more,
        )

    def _filters(
        self, folder: str | None, file_types: Sequence[str] | None, after: str | None, before: str | None
    ) -> ChunkFilter | None:
        if isinstance(file_types, str):
            file_types = [file_types]
        if folder:
            self._check_folder(folder)
        try:
            return make_filter(folder or None, file_types or [], None, after, before,
                               after_name="modified_after", before_name="modified_before")
        except FathomError as exc:
            raise Refusal(str(exc)) from None

    def _check_folder(self, folder: str) -> None:
        """A folder filter must be a full path that holds indexed files: one of the indexed
        folders, a folder inside one, or a folder around some."""
        text = Path(folder).expanduser()
        try:
            indexed = self.backend.engine().folders()
        except (FathomError, StorageError) as exc:
            raise _index_unreadable(exc) from None
        named = ", ".join(str(f) for f in indexed) or "none yet"
        if not text.is_absolute():
            raise Refusal(f"folder must be a full path, e.g. one of the indexed folders ({named}), not {folder!r}.")
        wanted = text.resolve()
        if not any(wanted == f or f in wanted.parents or wanted in f.parents for f in indexed):
            raise Refusal(f"folder {folder} holds no indexed files; the indexed folders are: {named}.")

    def _answer(self, query: str, options: SearchOptions, like: str | None, notes: list[str]) -> SearchAnswer:
        """Through a running Fathom when one answers, else here."""
        elsewhere_loading = False
        if self.backend.asks_running_fathom:
            from search.channel import STILL_LOADING

            answers, declined = self._ask_running_fathom(query, options, like)
            if answers is not None:
                return self._from_running_fathom(query if like is None else like, options, answers, notes)
            elsewhere_loading = declined == STILL_LOADING
        try:
            return self._here(query, options, like, notes, elsewhere_loading)
        except (FathomError, StorageError) as exc:
            raise Refusal(f"Fathom could not search: {exc}") from None

    def _ask_running_fathom(
        self, query: str, options: SearchOptions, like: str | None
    ) -> tuple[list[dict[str, Any]] | None, str | None]:
        from search.channel import PROTOCOL, SAME, ask, options_to_json, socket_path

        settings = self.backend.settings
        request = {
            "version": PROTOCOL,
            "settings": {key: getattr(settings, key) for key in SAME},
            "queries": [] if like else [query],
            "like": like,
            "options": options_to_json(options),
        }
        answers = ask(socket_path(settings.data_dir), request)
        if not answers:
            return None, None
        if "declined" in answers[0]:
            return None, answers[0]["declined"]
        return answers, None

    def _from_running_fathom(
        self, query: str, options: SearchOptions, answers: list[dict[str, Any]], notes: list[str]
    ) -> SearchAnswer:
        for answer in answers:
            if "error" in answer:
                raise Refusal(f"{RUNNING} could not search: {answer['error']}")
        results = next((a["results"] for a in answers if "results" in a), [])
        words_only = options.mode != "keyword" and bool(results) and all(
            r.get("vector_score") is None for r in results
        )
        if words_only:
            notes.append(f"{RUNNING} matched these by their words alone: none of them has its vectors yet, "
                         "or its model cannot be used now.")
        return SearchAnswer(query=query, results=_hits(results), words_only=words_only, notes=notes,
                            answered_by=f"{RUNNING}, its models loaded")

    def _here(
        self, query: str, options: SearchOptions, like: str | None, notes: list[str], elsewhere_loading: bool
    ) -> SearchAnswer:
        engine = self.backend.engine()
        if not engine.folders():
            return SearchAnswer(query=query, results=[], words_only=False, answered_by=self.backend.where, notes=[
                *notes, "Nothing is indexed yet: the person who runs Fathom adds folders (agents cannot)."])
        loader = self.backend.loader(start=not elsewhere_loading)
        shown = query
        if like is not None:
            query, options = engine.more_like_this(like, options)
        words_only = None
        if options.mode != "keyword":
            words_only = (f"{RUNNING} is still loading its embedding model" if elsewhere_loading
                          else _why_words_only(engine, loader))
        if words_only:
            options = replace(options, mode="keyword")
            notes.append(f"{words_only}: these files match the words alone. Search again later for results by meaning.")
        rerank = bool(
            loader is not None and loader.reranker_ready and engine.settings.reranker_model is not None
            and not engine.reranks_on_cpu()
        )
        results = [r.to_json() for r in engine.search(query, replace(options, rerank=rerank))]
        return SearchAnswer(query=shown, results=_hits(results), words_only=bool(words_only), notes=notes,
                            answered_by=self.backend.where)

    # -- get ---------------------------------------------------------------------------------

    def get(
        self, path: str, start_line: int | None = None, end_line: int | None = None, page: int | None = None
    ) -> FileText:
        allowed = self._indexed_file(path)
        doc = read_text(allowed.real, self.backend.settings.max_file_bytes)
        return file_text(allowed, doc, start_line, end_line, page)

    def _indexed_file(self, path: str) -> Allowed:
        """The indexed file behind `path`, if an agent may read it; else Refusal."""
        try:
            engine = self.backend.engine()
            return allowed_file(path, engine.folders(), IsIndexed(engine.store))
        except (FathomError, StorageError) as exc:
            raise _index_unreadable(exc) from None

    # -- status ------------------------------------------------------------------------------

    def status(self) -> IndexStatus:
        try:
            status = self.backend.engine().status().to_json()
        except (FathomError, StorageError) as exc:
            raise _index_unreadable(exc) from None
        failures = [Failure(path=f["path"], kind=kind, reason=f["error"])
                    for kind in ("failed", "skipped") for f in status[kind]]
        return IndexStatus(
            folders=[FolderStatus(path=f["path"], **{key: f.get(key, 0) for key in COUNTS}) for f in status["folders"]],
            indexed_files=status["indexed_files"],
            chunks=status["chunks"],
            waiting_files=status["waiting"]["files"],
            waiting_chunks=status["waiting"]["chunks"],
            failed_files=len(status["failed"]),
            skipped_files=len(status["skipped"]),
            failures=failures[:MAX_FAILURES],
            embedding_model=status["embedding_model"],
            dimension=status["dimension"],
            reranker_model=status["reranker_model"],
            device=status["device"],
            models=self._models_words(status.get("server")),
        )

    def _models_words(self, server: dict[str, Any] | None) -> str:
        if self.backend.asks_running_fathom and server:
            return f"searches are answered by {RUNNING} ({server['role']}, process {server['pid']})"
        loader = self.backend.loader(start=False)
        where = self.backend.where
        if loader is None:
            return f"not loaded yet in {where}: searches match words alone until the model is loaded"
        view = loader.view()
        if loader.ready:
            return f"loaded in {where} ({view.device})" if view.device else f"loaded in {where}"
        if loader.failed:
            return f"the embedding model could not be loaded in {where}: searches match words alone"
        return f"loading in {where} ({view.seconds:.0f} s so far): searches match words alone until then"


def _index_unreadable(exc: Exception) -> Refusal:
    return Refusal(f"Fathom cannot read its index now: {exc}")


def _why_words_only(engine: Any, loader: Any) -> str | None:
    """Why a search by meaning cannot run now (it then matches words), or None."""
    if loader is None or not loader.ready:
        if loader is not None and loader.failed:
            return "The embedding model could not be loaded"
        seconds = loader.view().seconds if loader is not None else 0.0
        return f"The embedding model is still loading ({seconds:.0f} s so far)"
    space = engine.store.embedding_space()
    if space is None:
        return "No file has its vectors yet (Fathom embeds them in the background)"
    settings = engine.settings
    if space.model != settings.embedding_key or space.dimension != (settings.dim or space.dimension):
        return (f"The index was embedded with {space.model}, not with {settings.embedding_key}, the model "
                "Fathom is set to use")
    return None


def _hits(results: list[dict[str, Any]]) -> list[SearchHit]:
    hits = []
    for rank, r in enumerate(results, 1):
        lines = None if r.get("page") else line_range(r["path"], r["start"], r["end"], r.get("modified"))
        hits.append(SearchHit(
            rank=rank,
            path=r["path"],
            title=title_from_context(r.get("context") or "", r["path"]) or PurePath(r["path"]).name,
            page=r.get("page"),
            first_line=lines[0] if lines else None,
            last_line=lines[1] if lines else None,
            snippet=r.get("snippet") or "",
            score=round(float(r["score"]), 4),
            embedded=bool(r.get("embedded", True)),
            modified=_iso(r.get("modified")),
        ))
    return hits


def _iso(seconds: float | None) -> str | None:
    if not seconds:
        return None
    return dt.datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")
