"""What indexing is doing, in both phases: one object that the CLI's bars and the page read.

Words: files read, cut and keyword-indexed (the time left follows bytes, not file counts).
Meaning: chunks embedded, and the time left from tokens: files differ in size, chunks in length,
and the model's time follows tokens.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Progress:
    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    chunks_total: int = 0  # chunks to embed, known when the meaning phase begins
    chunks_done: int = 0  # chunks embedded
    tokens_total: int = 0
    tokens_done: int = 0
    current: str = ""  # the file being read, then the file being embedded
    started: float = field(default_factory=lambda: time.monotonic())
    meaning_started: float | None = None
    listener: Callable[["Progress"], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(
        self,
        *,
        files: int = 0,
        failed: int = 0,
        total: int = 0,
        size: int = 0,
        total_bytes: int = 0,
        embedded: int = 0,
        tokens: int = 0,
        current: str = "",
    ) -> None:
        with self._lock:
            self.files_total += total
            self.bytes_total += total_bytes
            self.files_done += files
            self.files_failed += failed
            self.bytes_done += size
            self.chunks_done += embedded
            self.tokens_done += tokens
            if current:
                self.current = current
        if self.listener:
            self.listener(self)

    def meaning_begins(self, work: Any) -> None:
        """The meaning phase starts (or looks again): `work` is what waits (PendingWork)."""
        with self._lock:
            if self.meaning_started is None:
                self.meaning_started = time.monotonic()
            self.chunks_total = self.chunks_done + work.chunks
            self.tokens_total = self.tokens_done + work.tokens
        if self.listener:
            self.listener(self)

    @property
    def files_queued(self) -> int:
        return self.files_total - self.files_done

    @property
    def phase(self) -> str:
        """"words" while files are read, "meaning" while chunks are embedded, else "done"."""
        if self.files_queued > 0:
            return "words"
        if self.meaning_started is not None and self.chunks_done < self.chunks_total:
            return "meaning"
        return "done"

    @property
    def chunks_per_second(self) -> float:
        elapsed = time.monotonic() - (self.meaning_started or self.started)
        return self.chunks_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left: of the words phase from the bytes read so far; of the meaning phase from
        the tokens embedded so far. None until there is something to go by."""
        if self.phase == "words":
            if self.bytes_done <= 0:
                return None
            elapsed = time.monotonic() - self.started
            return elapsed * (self.bytes_total - self.bytes_done) / self.bytes_done
        if self.phase == "meaning":
            if self.tokens_done <= 0 or self.meaning_started is None:
                return None
            elapsed = time.monotonic() - self.meaning_started
            return elapsed * (self.tokens_total - self.tokens_done) / self.tokens_done
        return 0.0

    def to_json(self) -> dict[str, float | int | str | None]:
        return {
            "files_total": self.files_total,
            "files_done": self.files_done,
            "files_queued": self.files_queued,
            "files_failed": self.files_failed,
            "chunks_done": self.chunks_done,
            "chunks_total": self.chunks_total,
            "tokens_done": self.tokens_done,
            "tokens_total": self.tokens_total,
            "chunks_per_second": round(self.chunks_per_second, 2),
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "phase": self.phase,
            "current": self.current,
        }
