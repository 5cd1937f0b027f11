"""The models an Engine's settings name: loaded here or reached on a server, and where they
run, as words. The Engine keeps each loaded model once; these only make them."""
from __future__ import annotations

from typing import Any

from search.config import Settings, server_key


def embedder_for(settings: Settings, dimension: int | None) -> Any:
    """The embedding model: on its server when a URL is set, else loaded here."""
    s = settings
    if s.embedding_url:
        from search.models.remote import load_remote_embedder

        key, where = server_key(s, "embedding")
        return load_remote_embedder(
            s.embedding_url, s.embedding_model, dimension=dimension or s.dim, fmt=s.query_format,
            api_key=key, key_variables=where, timeout=s.remote_timeout, in_flight=s.remote_requests,
        )
    from search.models import load_embedder

    return load_embedder(s.embedding_model, s.device, dimension or s.dim)


def reranker_for(settings: Settings) -> Any:
    """The reranker (None when the settings name none): on its server, else loaded here."""
    s = settings
    if s.reranker_model is None:
        return None
    if s.reranker_url:
        from search.models.remote import load_remote_reranker

        key, where = server_key(s, "reranker")
        return load_remote_reranker(
            s.reranker_url, s.reranker_model, fmt=s.reranker_format, api_key=key, key_variables=where,
            timeout=s.remote_timeout, in_flight=s.remote_requests,
        )
    from search.models import load_reranker

    return load_reranker(s.reranker_model, s.device)


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
