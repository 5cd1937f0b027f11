"""Where the models an Engine's settings name run, as words, and whether reranking would run
on this computer's CPU. The Engine opens them through search/models' factory."""
from __future__ import annotations

from typing import Any

from search.config import Settings


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
