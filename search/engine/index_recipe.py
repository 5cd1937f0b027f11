"""How an index is built (its chunks, and the model and dimension of its vectors), and whether
the settings fit an index built before: a search must use the index's model; indexing with
another one embeds every folder again."""
from __future__ import annotations

import copy
import threading
from typing import Any

from search.config import Settings
from search.errors import IndexMismatchError, ModelLoadError, NotIndexedError
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunker
from search.wording import mark, run
from storage import EmbeddingSpace

# How chunks are made and what the embedder sees of them; a new value re-embeds old indexes.
INDEX_RECIPE = "chunks-with-context-1"
CONTEXT_TOKENS = 40


def chunker_for(settings: Settings) -> Chunker:
    """How files are cut, known without the model's weights: in the model's own tokens (a
    local folder, the cache, or its tokenizer files alone from the Hub), else by Fathom's
    estimate of tokens (files cut so are cut again once the model's tokenizer is at hand)."""
    from search.models.approx_tokenizer import ApproxTokenizer
    from search.models.loading import chunk_tokenizer_of

    named = settings.tokenizer
    tokenizer, max_length = chunk_tokenizer_of(named or settings.embedding_model)
    if tokenizer is None and named:
        raise ModelLoadError(
            f"{mark('tokenizer', named)}: no tokenizer there (give a model folder, or a Hugging Face "
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

        name, exact = settings.embedding_key, True
    # Room for the special tokens and the context line (title › section) of each chunk.
    tokens = min(DEFAULT_CHUNK_TOKENS, (max_length or 256) - 2 - CONTEXT_TOKENS)
    return Chunker(f"{INDEX_RECIPE} {name}", new, tokens, DEFAULT_OVERLAP_TOKENS, exact)


def model_change(previous: EmbeddingSpace | None, settings: Settings) -> str | None:
    """A sentence when the index was embedded with another model or dimension (or chunks
    were built otherwise): every folder is then embedded again."""
    key, dim = settings.embedding_key, settings.dim
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


def kept_dimension(previous: EmbeddingSpace | None, settings: Settings) -> int | None:
    """The dimension indexing asks of the embedder: the settings', else the index's own when
    it was built with the same model."""
    same_model = previous is not None and previous.model == settings.embedding_key
    return settings.dim or (previous.dimension if same_model else None)


def fitting_space(space: EmbeddingSpace | None, settings: Settings) -> EmbeddingSpace:
    """The index's embedding space, when a search with these settings can use it; else
    NotIndexedError or IndexMismatchError, saying what to do."""
    if space is None:
        raise NotIndexedError(f"Nothing is indexed yet: {run('index FOLDER')} first.")
    s = settings
    if space.model != s.embedding_key or space.dimension != (s.dim or space.dimension):
        raise IndexMismatchError(
            f"This index was built with {space.model} (dimension {space.dimension}), not "
            f"{s.embedding_key}"
            + (f" (dimension {s.dim})" if s.dim else "")
            + f": search with {_model_marks(space.model, s.embedding_url)}"
            + (f" {mark('dim', space.dimension)}" if s.dim else "")
            + f", or re-index everything with the new one: {run('index', *_model_settings(s.embedding_key, None))}."
        )
    return space


def _model_settings(key: str, url_now: str | None) -> list[tuple[str, str]]:
    """The settings that choose the model an index records (`name @ URL` for a server's),
    when a server's URL is set now (`url_now`)."""
    name, _, url = key.partition(" @ ")
    return [("embedding_model", name)] + (
        [("embedding_url", url)] if url else [("embedding_url", "none")] if url_now else []
    )


def _model_marks(key: str, url_now: str | None) -> str:
    return " ".join(mark(name, value) for name, value in _model_settings(key, url_now))