"""The models an Engine's settings name: loaded here or reached on a server, and where they
run, as words. The Engine keeps each loaded model once; these only make them."""
from __future__ import annotations

from typing import Any

from search.config import Settings
from search.models.interface import Embedder, Reranker


def embedder_for(settings: Settings, dimension: int | None) -> Embedder:
    """The embedding model: on its server when a URL is set, else loaded here."""
    from search.models import open_embedder

    return open_embedder(settings, dimension)


def reranker_for(settings: Settings) -> Reranker | None:
    """The reranker (None when the settings name none): on its server, else loaded here."""
    from search.models import open_reranker

    return open_reranker(settings)


def device_words(settings: Settings, embedder: Any) -> str:
    """Where the models run, as words: "cpu float32", or a server, for each model; `embedder`
    is the loaded one, or None."""
    from search.models.device import describe

    s = settings
    if embedder is not None:
        device = embedder.placement.describe()
    else:
        device = f"server {s.embedding_url}" if s.embedding_url else describe(s.device)
    if s.reranker_model is not None and s.reranker_url != s.embedding_url:
        # one model here, the other on a server (or two servers): say where each runs
        device += "; reranker on " + (f"server {s.reranker_url}" if s.reranker_url else describe(s.device))
    return device


def reranks_on_cpu(settings: Settings, embedder: Any) -> bool:
    """Whether the reranker would run on this computer's CPU (seconds a search there)."""
    if settings.reranker_url:
        return False
    from search.models.device import describe

    here = embedder is not None and not settings.embedding_url
    placement = embedder.placement.describe() if here else describe(settings.device)
    return placement.startswith("cpu")
