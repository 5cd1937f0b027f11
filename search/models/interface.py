"""What the engine, the indexer and the page call on a model, wherever it runs: the local
models (embedder.py, reranker.py) and those on a server (remote.py) are both these."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Sequence

if TYPE_CHECKING:
    import numpy as np


class ModelPlacement(Protocol):
    """Where a model runs: a device and dtype here, or a server's address."""

    def describe(self) -> str: ...


class Embedder(Protocol):
    name: str
    dimension: int  # of the vectors it answers
    max_length: int  # tokens it reads of one text
    placement: ModelPlacement

    @property
    def takes_instructions(self) -> bool:
        """Whether queries take a task's instruction (Qwen3-Embedding)."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray: ...

    def chunk_tokenizer(self) -> Any:
        """A tokenizer in the model's tokens for chunking, shared with no embedding call."""

    def close(self) -> None: ...


class Reranker(Protocol):
    name: str
    placement: ModelPlacement

    def rerank(self, query: str, documents: Sequence[str], instruction: str | None = None) -> list[float]:
        """A score for each document, in the order given; higher is more relevant."""

    def close(self) -> None: ...
