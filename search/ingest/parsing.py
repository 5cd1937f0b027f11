"""PDF, DOCX, EPUB, HTML and notebooks read in a separate process, with a time and a memory limit.

A hostile file in a watched Downloads folder (a PDF whose objects loop, a decompression bomb)
must neither stall indexing nor take the process that holds the model down with it. These
readers run in a long-lived worker process instead, under an address-space limit: a file that
takes too long gets its worker killed (a fresh one starts for the next file), a file that
needs too much memory fails alone, and either is recorded as failed with the reason.
Other files (plain text) are read in-process: their reader only decodes bytes.

A worker lives as long as Fathom and is reused for every file: bench/parse.py measures what a
file costs this way against reading it in-process.
"""
from __future__ import annotations

import atexit
import importlib
import multiprocessing
import threading
from pathlib import Path
from typing import Any

from search.errors import ExtractError, SkippedFile
from search.ingest.extract import ISOLATED_EXTENSIONS, MB, Extracted, extract

# A file may take this long, plus the per-MB allowance (big legitimate PDFs are slow in pypdf).
PARSE_SECONDS = 60.0
PARSE_SECONDS_PER_MB = 6.0
PARSE_MEMORY_MB = 2_000  # address space of the worker, its Python included
STARTUP_SECONDS = 60.0  # a fresh worker on a loaded machine
READER = "search.ingest.extract:extract"  # module:function the worker calls for each file


class _Gone(Exception):
    """The worker stopped or was stopped; it cannot be asked again."""


class _TooLong(Exception):
    """The worker did not answer in time."""


class Parser:
    """`extract()` with the complex formats read in worker processes under limits.

    Thread-safe: each caller gets a worker of its own; `keep` idle workers are kept for the
    next files, any others stop.
    """

    def __init__(
        self,
        seconds: float = PARSE_SECONDS,
        memory_mb: int | None = PARSE_MEMORY_MB,
        seconds_per_mb: float = PARSE_SECONDS_PER_MB,
        reader: str = READER,
        keep: int = 2,
    ):
        self.seconds = seconds
        self.seconds_per_mb = seconds_per_mb
        self.memory_mb = memory_mb
        self.reader = reader
        self.keep = keep
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")  # never fork a process with threads

    def extract(self, path: Path, max_bytes: int) -> Extracted:
        if path.suffix.lower() not in ISOLATED_EXTENSIONS:
            return extract(path, max_bytes)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
        seconds = self.seconds + self.seconds_per_mb * size / MB
        worker = self._take()
        try:
            reply = worker.ask(str(path), max_bytes, seconds)
        except _TooLong:
            worker.stop()
            raise ExtractError(
                f"took longer than {seconds:.0f} s to read, so Fathom stopped reading it "
                "(a damaged or hostile file?)"
            ) from None
        except _Gone as exc:
            worker.stop()
            raise ExtractError(f"the reader stopped while reading it ({exc})") from None
        kind = reply[0]
        if kind == "memory":
            worker.stop()  # its heap may be in any state: the next file gets a fresh one
            raise ExtractError(
                f"needed more than {self.memory_mb:,} MB of memory to read, so Fathom stopped "
                "reading it (a damaged or hostile file?)"
            )
        self._give(worker)
        if kind == "ok":
            return Extracted(reply[1], reply[2], reply[3])
        if kind == "skipped":
            raise SkippedFile(reply[1])
        raise ExtractError(reply[1])

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self) -> "_Worker":
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.stop()
        memory = self.memory_mb * MB if self.memory_mb else None
        return _Worker(self._context, self.reader, memory)

    def _give(self, worker: "_Worker") -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(worker)
                return
        worker.stop()


class _Worker:
    def __init__(self, context: Any, reader: str, memory_bytes: int | None):
        parent, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, reader, memory_bytes), name="fathom-parser", daemon=True
        )
        self.process.start()
        child.close()
        self.conn = parent
        if not self.conn.poll(STARTUP_SECONDS):
            self.stop()
            raise ExtractError(f"the reader process did not start within {STARTUP_SECONDS:.0f} s")
        try:
            self.conn.recv()  # "ready": the time limit counts from here
        except (EOFError, OSError):
            self.stop()
            raise ExtractError("the reader process could not start") from None

    def alive(self) -> bool:
        return self.process.is_alive()

    def ask(self, path: str, max_bytes: int, seconds: float) -> tuple[Any, ...]:
        try:
            self.conn.send((path, max_bytes))
            answered = self.conn.poll(seconds)
            if answered:
                return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(1)
            raise _Gone(_exit_words(self.process.exitcode)) from None
        raise _TooLong

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def _exit_words(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        return f"it was ended by signal {-code}"
    return f"it exited with status {code}"


def serve(conn: Any, reader: str, memory_bytes: int | None) -> None:
    """The worker: read files one request at a time until the pipe closes."""
    module, name = reader.split(":")
    read = getattr(importlib.import_module(module), name)
    _limit_memory(memory_bytes)
    conn.send("ready")
    while True:
        try:
            path, max_bytes = conn.recv()
        except (EOFError, OSError):
            return
        try:
            doc = read(Path(path), max_bytes)
            reply: tuple[Any, ...] = ("ok", doc.text, list(doc.page_starts), doc.title)
        except MemoryError:
            reply = ("memory",)
        except SkippedFile as exc:
            reply = ("skipped", str(exc))
        except ExtractError as exc:
            reply = ("failed", str(exc))
        except Exception as exc:  # a reader's bug must cost one file, not the worker
            reply = ("failed", f"the reader failed ({exc.__class__.__name__}: {exc})")
        conn.send(reply)


def _limit_memory(memory_bytes: int | None) -> None:
    """An address-space limit, where the system has one (Linux; not Windows, and macOS does
    not enforce it): an allocation past it raises MemoryError in the worker."""
    if not memory_bytes:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):
        pass


_shared: Parser | None = None
_shared_lock = threading.Lock()


def shared_parser() -> Parser:
    """The process's parser: its workers serve every indexer (the page runs two)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Parser()
            atexit.register(_shared.close)
        return _shared
