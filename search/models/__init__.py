"""Embedding and reranking models. Knows nothing of storage, ingest or the page.

The interface is small: an Embedder has `embed_documents` and `embed_queries`, a Reranker has
`rerank`. Qwen3 models and plain sentence-transformers encoders differ only in formatting and
pooling; batching by token budget is written once (batching.py). The same interfaces over a
model server on another machine are in remote.py (its HTTP client in server.py), and a
tokenizer for chunking without the model's own in approx_tokenizer.py.
"""
from search.models.embedder import Embedder, load_embedder
from search.models.reranker import Reranker, load_reranker

__all__ = ["Embedder", "Reranker", "load_embedder", "load_reranker"]
