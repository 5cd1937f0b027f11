"""The meaning phase: chunks that the words phase made searchable by their words get their
vectors, one batch to a transaction. It needs the model, which the words phase never does; it
runs after the words phase of an index run, and in the background while the page or `index
--watch` runs. A run killed at any moment leaves chunks waiting, which the next run embeds.

Two lanes: what the person just created or edited (`first`, asked again before each batch)
goes before the catch-up, which takes the most recently modified files first (what a person
most likely looks for). Batches are sized to take about BATCH_SECONDS, so a change waits for
at most one short batch of the catch-up, however slow the model. A text embedded before takes
its stored vector in the store (storage/text_keys.py); the same text twice in a batch is
embedded once.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from search.errors import ModelServerError
from search.ingest.context import embedding_text
from search.ingest.progress import Progress
from storage import IndexStore, PendingChunk

BATCH_CHUNKS = 64  # at most, where the model is fast (a GPU); fewer where it is slow
BATCH_SECONDS = 2.0
TOTALS_SECONDS = 2.0  # how often the totals are counted again (files keep arriving)


class DocumentEmbedder(Protocol):
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class MeaningReport:
    chunks: int = 0  # vectors stored
    failed: list[tuple[str, str]] = field(default_factory=list)  # files the model could not embed


class MeaningPhase:
    def __init__(
        self,
        store: IndexStore,
        embedder: DocumentEmbedder,
        chunker: str,
        batch_chunks: int = BATCH_CHUNKS,
        first: Callable[[], Sequence[str]] | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker  # only chunks cut this way are embedded: see rechunk_others
        self.batch_chunks = batch_chunks
        self.first = first or (lambda: ())  # paths of the lane that goes first
        self._seconds_per_chunk: float | None = None

    def run(self, progress: Progress | None = None, stop: threading.Event | None = None) -> MeaningReport:
        """Embed every chunk that waits (and those that come while it runs), or until `stop`."""
        report = MeaningReport()
        progress = progress or Progress()
        progress.meaning_begins(self.store.pending_work(self.chunker))
        counted = time.monotonic()
        while stop is None or not stop.is_set():
            if time.monotonic() - counted > TOTALS_SECONDS:  # files arrive while it runs
                progress.meaning_begins(self.store.pending_work(self.chunker))
                counted = time.monotonic()
            batch = self.store.pending_chunks(self.batch_size(), self.chunker, self.first())
            if not batch:
                break
            progress.update(current=batch[0].path)
            began = time.monotonic()
            try:
                vectors = self._embed(batch)
            except ModelServerError:
                raise  # the server is down or refuses: no file is at fault; the next run goes on
            except Exception:
                # One file the model cannot take must not stop the others: find it, file by file.
                for chunks in _by_file(batch):
                    self._embed_one_file(chunks, report, progress)
                continue
            self._timed(time.monotonic() - began, len(batch))
            self._store(batch, vectors, report, progress)
        return report

    def batch_size(self) -> int:
        """Chunks for about BATCH_SECONDS of the model's time, as measured so far."""
        if self._seconds_per_chunk is None:
            return min(8, self.batch_chunks)  # a first, small batch measures the model
        return max(1, min(self.batch_chunks, int(BATCH_SECONDS / max(self._seconds_per_chunk, 1e-6))))

    def _timed(self, seconds: float, chunks: int) -> None:
        each = seconds / max(1, chunks)
        previous = self._seconds_per_chunk
        self._seconds_per_chunk = each if previous is None else 0.7 * previous + 0.3 * each

    def _embed(self, chunks: list[PendingChunk]) -> np.ndarray:
        texts = [embedding_text(c.context, c.text) for c in chunks]
        unique = list(dict.fromkeys(texts))
        if len(unique) == len(texts):
            return self.embedder.embed_documents(texts)
        vectors = dict(zip(unique, self.embedder.embed_documents(unique)))
        return np.stack([vectors[t] for t in texts])

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
