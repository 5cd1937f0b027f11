"""A search as a terminal runs it (the CLI, or a running Fathom answering one): reranking
decided by where the reranker runs, and notes on what the options could not do. The notes
are marked (search/wording.py): the CLI words them."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from search.errors import ModelLoadError, ModelServerError, NotIndexedError
from search.query import Result, SearchOptions, has_words
from search.query_syntax import Query
from search.wording import mark, run

CPU_RERANK_SECONDS = 1.5  # per file, Qwen3-Reranker-0.6B on 2 cores


def answers(
    engine: Any, queries: Sequence[str], options: SearchOptions, like: str | None = None
) -> Iterator[dict[str, Any]]:
    """A command-line search's JSON: `{"query", "results"}` for each query (or for the file
    `like`), then `{"done": true, "notes": [...]}` (the CLI prints the notes once)."""
    if like:
        query, options = engine.more_like_this(like, options)
        queries = [query]
    notes: list[str] = []
    for query in queries:
        parsed = engine.understand(query, options)
        results, notes = search_with_notes(engine, parsed, options)
        # corrected: the query as searched when a misspelled word was replaced, else null
        yield {"query": query, "results": [r.to_json() for r in results], "corrected": parsed.searched}
    yield {"done": True, "notes": notes}


def search_with_notes(engine: Any, query: str | Query, options: SearchOptions) -> tuple[list[Result], list[str]]:
    """A search with `options.rerank` None reranking only off a CPU (where it costs seconds a
    search), and sentences on what the options did not do."""
    notes: list[str] = []
    if not has_words(query.text if isinstance(query, Query) else query):
        return [], notes  # before any model is loaded: there is nothing to look for
    if options.mode == "hybrid":
        words_only = words_only_because(engine)
        if words_only:
            options = replace(options, mode="keyword")
            notes.append(words_only + " These files match your words only.")
    if options.rerank is None:
        options = _rerank_unless_on_cpu(engine, options, notes)
    results = engine.search(query, options)
    if results and options.mode == "hybrid" and not any(r.strong for r in results):
        notes.append(
            "no strong match: none of these files has most of your words or a close meaning; "
            "try other words or a longer description."
        )
    waiting = engine.store.pending_work().files if options.mode != "keyword" else 0
    if waiting:
        notes.append(
            f"{waiting} indexed file(s) are not embedded yet: they are found by their words only "
            "until then, so results may be incomplete."
        )
    if (options.task or options.instruction) and engine.ignores_instructions(options):
        notes.append(_instructions_ignored(engine.settings))
    return results, notes


def _rerank_unless_on_cpu(engine: Any, options: SearchOptions, notes: list[str]) -> SearchOptions:
    """Rerank when there is a reranker and it runs off this computer's CPU; say so when not."""
    reranker = engine.settings.reranker_model
    on_cpu = engine.reranks_on_cpu()
    if reranker is not None and on_cpu:
        seconds = options.rerank_top * CPU_RERANK_SECONDS
        notes.append(
            f"not reranked: on this CPU the reranker takes about {seconds:.0f} s a search "
            f"({options.rerank_top} files); add {mark('rerank')} to turn it on."
        )
    return replace(options, rerank=reranker is not None and not on_cpu)


def _instructions_ignored(settings: Any) -> str:
    format_hint = f" ({mark('query_format', 'qwen3')} if it is a Qwen3-Embedding model)."
    return (
        f"{Path(settings.embedding_model).name} takes no instructions and nothing is reranked, so "
        f"{mark('task')} and {mark('instruction')} change nothing here"
        + (format_hint if settings.embedding_url else ".")
    )


def words_only_because(engine: Any) -> str | None:
    """Why a hybrid search can only match words now, or None: no file has its vectors yet,
    or the model cannot be loaded (the words phase needs neither)."""
    try:
        engine.embedder(engine.search_space().dimension)
    except NotIndexedError:
        if engine.store.stats().indexed == 0:
            return None
        return f"No file has its vectors yet: {run('index')} to embed them."
    except ModelServerError:
        raise  # a server that is down is said as it is, as any search with it would be
    except ModelLoadError as exc:
        return str(exc)
    return None
