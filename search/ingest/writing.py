"""The words phase's work on a batch of files: a reader thread hashes, extracts and chunks
them while the calling thread writes each one (its chunks and their words: searchable at once)
in its own transaction. A file that cannot be indexed is recorded as failed (it should have
been readable) or skipped (binary, too large, not text), with why."""
from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.errors import ExtractError, SkippedFile
from search.ingest.chunk import Chunk, Chunker, chunk_text
from search.ingest.context import Headings, chunk_context
from search.ingest.extract import MB, Extracted, unread_reason
from search.ingest.nontext import find_non_text
from search.ingest.parsing import Parser
from search.ingest.progress import Progress
from search.ingest.report import IndexReport
from search.wording import mark
from storage import ChunkRow, FileRecord, Folder, FolderRemoved, IndexStore

_PREFETCH = 64  # files prepared ahead of the writer


@dataclass(frozen=True)
class FileJob:
    """A file to read and write, in its indexed folder, as it stood when it was looked at."""

    folder: Folder
    path: Path
    stat: os.stat_result
    record: FileRecord | None
    force: bool = False  # read and embed it again even if its content did not change


@dataclass
class _Prepared:
    job: FileJob
    sha256: str
    doc: Extracted
    chunks: list[Chunk]
    contexts: list[str]
    title: str
    cut: str | None = None  # why only its first passages are indexed (the passage limit)


@dataclass(frozen=True)
class Limits:
    """What a file may be, and the words recorded with a file that was tried under them (when
    they change, the file is tried again)."""

    max_file_bytes: int
    max_passages: int
    tried: str  # with a failed or skipped file
    tried_cut: str  # with a file cut at the passage limit


class FileWriter:
    def __init__(self, store: IndexStore, chunker: Chunker, parser: Parser, limits: Limits):
        self.store = store
        self.chunker = chunker
        self.parser = parser
        self.limits = limits
        self._tokenizers: list[Any] = []  # chunk tokenizers not in use (one per running run)
        self._tokenizers_lock = threading.Lock()

    def run(self, jobs: list[FileJob], report: IndexReport, progress: Progress) -> None:
        """Read and write these files, small and new ones first."""
        jobs.sort(key=_priority)
        progress.update(total=len(jobs), total_bytes=sum(j.stat.st_size for j in jobs))
        ready: queue.Queue[_Prepared | BaseException | None] = queue.Queue(maxsize=_PREFETCH)
        stop = threading.Event()
        tokenizer = self._borrow_tokenizer()

        def read_files() -> None:
            try:
                for job in jobs:
                    if stop.is_set():
                        return
                    if job.folder.path in report.folders_removed:
                        progress.update(files=1, size=job.stat.st_size)
                        continue
                    item = self._prepare(job, tokenizer, report, progress)
                    if item is not None:
                        ready.put(item)
                ready.put(None)
            except BaseException as exc:  # handed to the main thread, which raises it
                ready.put(exc)

        reader = threading.Thread(target=read_files, name="fathom-reader", daemon=True)
        reader.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self._write(item, report, progress)
        finally:
            stop.set()
            while reader.is_alive():  # let it finish its file; it never blocks on a full queue
                try:
                    ready.get(timeout=0.1)
                except queue.Empty:
                    pass
            self._give_back_tokenizer(tokenizer)

    def _borrow_tokenizer(self) -> Any:
        """A chunk tokenizer for one run's reader thread: never shared with another thread (a
        fast tokenizer's settings live on one object, and embedding calls set truncation)."""
        with self._tokenizers_lock:
            if self._tokenizers:
                return self._tokenizers.pop()
        return self.chunker.new_tokenizer()

    def _give_back_tokenizer(self, tokenizer: Any) -> None:
        with self._tokenizers_lock:
            self._tokenizers.append(tokenizer)

    def _prepare(
        self, job: FileJob, tokenizer: Any, report: IndexReport, progress: Progress
    ) -> _Prepared | None:
        """Hash, extract and chunk one file; None when there is nothing to write for it."""
        key, stat = str(job.path), job.stat
        progress.update(current=key)
        if stat.st_size > self.limits.max_file_bytes:
            reason = (
                f"larger than the {self.limits.max_file_bytes / MB:g} MB limit "
                f"({stat.st_size / MB:.1f} MB; raise it with {mark('max_file_mb')})"
            )
            self._not_indexed(job, None, reason, "skipped", report, progress)
            return None
        try:
            binary = unread_reason(job.path)  # 8 KB, before hashing a whole video
            sha = None if binary else _sha256(job.path)
        except OSError as exc:
            self._not_indexed(job, None, f"cannot read the file: {exc.strerror or exc}", "failed", report, progress)
            return None
        if binary:
            self._not_indexed(job, None, binary, "skipped", report, progress)
            return None
        record = job.record
        if not job.force and record and record.sha256 == sha and record.status == "indexed":
            self.store.touch_file(record.id, stat.st_size, stat.st_mtime_ns)
            report.unchanged += 1
            progress.update(files=1, size=stat.st_size)
            return None
        chunker = self.chunker
        try:
            doc = self.parser.extract(job.path, self.limits.max_file_bytes)
            non_text = find_non_text(doc.text)
            if non_text.refusal:
                raise SkippedFile(non_text.refusal)
            chunks = chunk_text(
                doc.text, tokenizer, chunker.max_tokens, chunker.overlap, doc.page_starts,
                left_out=non_text.left_out, limit=self.limits.max_passages + 1,
            )
        except SkippedFile as exc:
            self._not_indexed(job, sha, str(exc), "skipped", report, progress)
            return None
        except ExtractError as exc:
            self._not_indexed(job, sha, str(exc), "failed", report, progress)
            return None
        cut = None
        if len(chunks) > self.limits.max_passages:
            chunks = chunks[: self.limits.max_passages]
            cut = _cut_note(self.limits.max_passages, chunks[-1].end / max(1, len(doc.text)))
        headings = Headings(doc.text, job.path.suffix)
        contexts = [chunk_context(job.path, doc.title, headings.at(c.start)) for c in chunks]
        return _Prepared(job, sha, doc, chunks, contexts, doc.title or headings.first or "", cut)

    def _write(self, item: _Prepared, report: IndexReport, progress: Progress) -> None:
        """One file's chunks and words, searchable at once; their vectors come later."""
        job = item.job
        if job.folder.path in report.folders_removed:
            progress.update(files=1, size=job.stat.st_size)  # its folder went meanwhile
            return
        rows = [
            ChunkRow(
                ordinal=i,
                start=chunk.start,
                end=chunk.end,
                page=item.doc.page_at(chunk.start),
                text=chunk.text,
                context=context,
                tokens=chunk.tokens,
            )
            for i, (chunk, context) in enumerate(zip(item.chunks, item.contexts))
        ]
        try:
            self.store.write_file(
                job.folder.id, str(job.path), job.stat.st_size, job.stat.st_mtime_ns, item.sha256, rows,
                title=item.title, text=item.doc.text, chunker=self.chunker.identity,
                cut=item.cut, tried=self.limits.tried_cut if item.cut else None,
            )
        except FolderRemoved:
            self._folder_removed(job, report, progress)
            return
        if job.record is None:
            report.added += 1
        else:
            report.updated += 1
        if item.cut:
            report.cut.append((str(job.path), item.cut))
        report.written_chunks += len(rows)
        report.written.append(str(job.path))
        progress.update(files=1, size=job.stat.st_size)

    def _not_indexed(
        self,
        job: FileJob,
        sha: str | None,
        reason: str,
        status: str,
        report: IndexReport,
        progress: Progress,
    ) -> None:
        key, stat = str(job.path), job.stat
        try:
            self.store.record_failure(
                job.folder.id, key, stat.st_size, stat.st_mtime_ns, sha, reason, status, self.limits.tried
            )
        except FolderRemoved:
            self._folder_removed(job, report, progress)
            return
        (report.skipped if status == "skipped" else report.failed).append((key, reason))
        progress.update(files=1, failed=1 if status == "failed" else 0, size=stat.st_size)

    def _folder_removed(self, job: FileJob, report: IndexReport, progress: Progress) -> None:
        """The folder went while its files were read: nothing more is written under it."""
        if job.folder.path not in report.folders_removed:
            report.folders_removed.append(job.folder.path)
        progress.update(files=1, size=job.stat.st_size)


def _cut_note(limit: int, share: float) -> str:
    """Why a file's passages stop early, as `status` and the page list it."""
    return (
        f"cut at {limit:,} passages (the first {min(share, 0.99):.0%} of its text); the rest is found "
        f"by its words only, not by meaning (raise the limit with {mark('max_passages')})"
    )


def _priority(job: FileJob) -> tuple[int, float]:
    """Small files first (quick, and most often what a person looks for), newest first."""
    size = job.stat.st_size
    return (0 if size < 64_000 else 1 if size < 1_000_000 else 2, -job.stat.st_mtime)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
