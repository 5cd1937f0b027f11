"""Embedding and reranking models. Knows nothing of storage, ingest or the page.

The interface is small (interface.py): an Embedder has `embed_documents` and `embed_queries`,
a Reranker has `rerank`. `open_embedder(settings)` and `open_reranker(settings)` (factory.py)
open the ones the settings name, here or on a server. Qwen3 models and plain
sentence-transformers encoders differ only in formatting and pooling; batching by token budget
is written once (batching.py). The same interfaces over a model server on another machine are
in remote.py (its HTTP client in server.py), and a tokenizer for chunking without the model's
own in approx_tokenizer.py. What a model's name means (a folder, a Hub name, a server's model)
is decided once, in reference.py.
"""
from __future__ import annotations

from typing import Any

from search.models.interface import Embedder, Reranker
from search.models.reference import ModelRef

__all__ = [
    "Embedder", "LocalEmbedder", "LocalReranker", "ModelRef", "Reranker", "load_embedder", "load_reranker",
    "open_embedder", "open_reranker",
]
_LAZY = {
    "LocalEmbedder": "embedder", "load_embedder": "embedder", "LocalReranker": "reranker",
    "load_reranker": "reranker", "open_embedder": "factory", "open_reranker": "factory",
}


def __getattr__(name: str) -> Any:
    """The models themselves on first use: they import torch, which code that only reads a
    model's name (the settings, the page's Settings) never needs. The factory too: it reads
    search.config, which reads reference.py through this package."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"search.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
