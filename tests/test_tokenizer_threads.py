"""Text is never lost to the tokenizer: chunking runs beside embedding calls."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from search.ingest.indexer import Indexer
from search.query import SearchOptions, search
from storage import EmbeddingSpace, Store


class FreeModel:
    """MiniLM whose network costs nothing, as on a fast GPU: an embedding call is then mostly
    its tokenizing, done by the real embedder with the real tokenizer."""

    name = "free-minilm"

    def __init__(self, embedder: Any):
        self.embedder = embedder
        self.tokenizer = embedder.tokenizer  # what Fathom chunked with before (issue 12)
        self.dimension = embedder.dimension

    def chunk_tokenizer(self) -> Any:
        return self.embedder.chunk_tokenizer()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedder.token_ids(list(texts))
        return np.full((len(texts), self.dimension), self.dimension**-0.5, dtype=np.float32)


def test_chunking_beside_embedding_calls_loses_no_text(tmp_path: Path, minilm: Any) -> None:
    """A fast tokenizer keeps truncation settings on its one object: a chunker that shared it
    with embedding calls (the indexer's own, and searches on other threads) got texts cut at
    the model's 256 tokens, and the rest of the file was never indexed, without a word."""
    root = tmp_path / "docs"
    root.mkdir()
    texts = {}
    for i in range(40):
        text = "\n\n".join(
            f"Note {i}.{j}: the archive keeps record number {i * 1000 + j} of the harbour logbook."
            for j in range(60)
        ) + f"\n\nThe logbook ends with the word zebra{i}."  # about 1,300 tokens each
        (root / f"note{i}.md").write_text(text, encoding="utf-8")
        texts[str(root / f"note{i}.md")] = text
    store = Store(tmp_path / "index.db")
    store.set_embedding_space(EmbeddingSpace("minilm", minilm.dimension))
    indexer = Indexer(store, FreeModel(minilm), chunk_tokens=200, overlap_tokens=20, batch_chunks=16)
    stop = threading.Event()

    def searches() -> None:  # queries embedded on the page's threads meanwhile
        while not stop.is_set():
            minilm.token_ids(["which record is in the harbour logbook"] * 8)

    thread = threading.Thread(target=searches)
    thread.start()
    try:
        report = indexer.index_folders([root])
    finally:
        stop.set()
        thread.join()
    assert report.added == len(texts) and not report.failed
    lost = [
        path for i, path in enumerate(texts)
        if [r.path for r in search(store, f"zebra{i}", SearchOptions(mode="keyword", rerank=False))] != [path]
    ]
    assert lost == [], f"the end of {len(lost)} of {len(texts)} files was never indexed"
    store.close()
