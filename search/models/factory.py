"""The embedder and the reranker the settings name, opened: on their server when one is set
for them, else loaded here. Decided once, here, as storage.open_store decides the backend."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from search.config import server_key
from search.models.interface import Embedder, Reranker
from search.models.reference import ModelRef

if TYPE_CHECKING:
    from search.config import Settings


def open_embedder(settings: Settings, dimension: int | None = None) -> Embedder:
    """The embedding model, giving vectors of `dimension` (else the settings' own, else the
    model's); ModelLoadError (ModelServerError for a server) when it cannot be used."""
    dimension = dimension or settings.dim
    model = ModelRef.parse(settings.embedding_model, on_server=bool(settings.embedding_url))
    if model.kind == "server":
        from search.models.remote import load_remote_embedder

        return load_remote_embedder(
            str(settings.embedding_url), model.text, dimension=dimension, fmt=settings.query_format,
            **_connection(settings, "embedding"),
        )
    from search.models.embedder import load_embedder

    return load_embedder(model.text, settings.device, dimension)


def open_reranker(settings: Settings) -> Reranker | None:
    """The reranker; None when reranking is off (the reranker model is `none`)."""
    if settings.reranker_model is None:
        return None
    model = ModelRef.parse(settings.reranker_model, on_server=bool(settings.reranker_url))
    if model.kind == "server":
        from search.models.remote import load_remote_reranker

        return load_remote_reranker(
            str(settings.reranker_url), model.text, fmt=settings.reranker_format, **_connection(settings, "reranker")
        )
    from search.models.reranker import load_reranker

    return load_reranker(model.text, settings.device)


def _connection(settings: Settings, kind: str) -> dict[str, Any]:
    """How to reach the `kind` ("embedding" or "reranker") server: its key and its limits."""
    key, where = server_key(settings, kind)
    return {"api_key": key, "key_variables": where, "timeout": settings.remote_timeout,
            "in_flight": settings.remote_requests}
