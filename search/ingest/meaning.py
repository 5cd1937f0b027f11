"""The meaning phase: chunks that the words phase made searchable by their words get their
vectors, the most recently modified files first (what a person most likely looks for), one
batch to a transaction. It needs the model, which the words phase never does; it runs after
the words phase of an index run, and in the background while the page or `index --watch`
runs. A run killed at any moment leaves chunks waiting, which the next run embeds.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from search.errors import ModelServerError
from search.ingest.context import embedding_text
from search.ingest.progress import Progress
from storage import IndexStore, PendingChunk

BATCH_CHUNKS = 64


class DocumentEmbedder(Protocol):
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class MeaningReport:
    chunks: int = 0  # vectors stored
    failed: list[tuple[str, str]] = field(default_factory=list)  # files the model could not embed


class MeaningPhase:
    def __init__(self, store: IndexStore, embedder: DocumentEmbedder, chunker: str, batch_chunks: int = BATCH_CHUNKS):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker  # only chunks cut this way are embedded: see rechunk_others
        self.batch_chunks = batch_chunks

    def run(self, progress: Progress | None = None, stop: threading.Event | None = None) -> MeaningReport:
        """Embed every chunk that waits (and those that come while it runs), or until `stop`."""
        report = MeaningReport()
        progress = progress or Progress()
        progress.meaning_begins(self.store.pending_work(self.chunker))
        while stop is None or not stop.is_set():
            batch = self.store.pending_chunks(self.batch_chunks, self.chunker)
            if not batch:
                break
            progress.update(current=batch[0].path)
            try:
                vectors = self._embed(batch)
            except ModelServerError:
                raise  # the server is down or refuses: no file is at fault; the next run goes on
            except Exception:
                # One file the model cannot take must not stop the others: find it, file by file.
                for chunks in _by_file(batch):
                    self._embed_one_file(chunks, report, progress)
                continue
            self._store(batch, vectors, report, progress)
        return report

    def _embed(self, chunks: list[PendingChunk]) -> np.ndarray:
        return self.embedder.embed_documents([embedding_text(c.context, c.text) for c in chunks])

    def _embed_one_file(self, chunks: list[PendingChunk], report: MeaningReport, progress: Progress) -> None:
        try:
            vectors = self._embed(chunks)
        except ModelServerError:
            raise
        except Exception as exc:
            reason = f"embedding failed: {exc}"
            self.store.embedding_failed(chunks[0].file_id, reason)
            report.failed.append((chunks[0].path, reason))
            progress.update(failed=1, embedded=len(chunks), tokens=sum(c.tokens for c in chunks))
            return
        self._store(chunks, vectors, report, progress)

    def _store(self, chunks: list[PendingChunk], vectors: np.ndarray, report: MeaningReport, progress: Progress) -> None:
        stored = self.store.write_vectors(
            [(c, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for c, v in zip(chunks, vectors)]
        )
        report.chunks += stored
        progress.update(embedded=len(chunks), tokens=sum(c.tokens for c in chunks))


def _by_file(chunks: list[PendingChunk]) -> list[list[PendingChunk]]:
    files: dict[int, list[PendingChunk]] = {}
    for chunk in chunks:
        files.setdefault(chunk.file_id, []).append(chunk)
    return list(files.values())


def embed_in_background(phase: Any, wake: threading.Event, stop: threading.Event, on_done: Any = None) -> threading.Thread:
    """A thread that runs `phase()` (a MeaningPhase's run, or what makes one) whenever `wake`
    is set, until `stop`: the page and `index --watch` embed what their words phase writes."""

    def loop() -> None:
        while not stop.is_set():
            if not wake.wait(1.0):
                continue
            wake.clear()
            result = phase()
            if on_done is not None:
                on_done(result)

    thread = threading.Thread(target=loop, name="fathom-meaning", daemon=True)
    thread.start()
    return thread
