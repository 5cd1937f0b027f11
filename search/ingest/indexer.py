"""Bring the index of some folders (or some paths in them) up to date with the disk.

A file is re-embedded only when its size or mtime moved *and* its content hash changed; files
that are gone are removed; renamed files keep their embeddings. A reader thread hashes,
extracts and chunks files while the model embeds the previous ones; chunks of many files are
embedded together, and each file is then written in its own transaction.

Every file under a folder ends up accounted for: indexed, failed (it should have been
readable), skipped (binary, too large: read and left out) or ignored by rule (never read;
search/ingest/rules.py). A failed or skipped file is tried again when what stopped it may
have changed (the readers' version, the size limit, the embedding model), or on demand.
"""
from __future__ import annotations

import hashlib
import os
import queue
import stat as stat_mode
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Protocol, Sequence

import numpy as np

from search.errors import ExtractError, ModelServerError, SkippedFile
from search.ingest.chunk import Chunk, chunk_text
from search.ingest.context import Headings, chunk_context, embedding_text
from search.ingest.extract import MAX_FILE_BYTES, MB, READERS_VERSION, Extracted, unread_reason
from search.ingest.parsing import Parser, shared_parser
from search.ingest.walk import walk, why_ignored
from storage import ChunkRow, FileRecord, Folder, FolderRemoved, IgnoredPath, Store

BATCH_CHUNKS = 64
_PREFETCH = 64  # files prepared ahead of the model
NOT_REGULAR = "not a regular file (a pipe, socket or device)"


class DocumentEmbedder(Protocol):
    def chunk_tokenizer(self) -> Any:
        """A tokenizer for chunking in the model's tokens, shared with no embedding call."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Progress:
    """What the indexer is doing: one object that the CLI's bar and the page both read."""

    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    chunks_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)
    listener: Callable[["Progress"], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(
        self,
        *,
        files: int = 0,
        failed: int = 0,
        chunks: int = 0,
        total: int = 0,
        size: int = 0,
        total_bytes: int = 0,
        current: str = "",
    ) -> None:
        with self._lock:
            self.files_total += total
            self.bytes_total += total_bytes
            self.files_done += files
            self.files_failed += failed
            self.chunks_done += chunks
            self.bytes_done += size
            if current:
                self.current = current
        if self.listener:
            self.listener(self)

    @property
    def files_queued(self) -> int:
        return self.files_total - self.files_done

    @property
    def chunks_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.chunks_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left, from the bytes read so far (chunks follow bytes, not file counts)."""
        if self.bytes_done <= 0 or self.files_queued <= 0:
            return None if self.files_queued > 0 else 0.0
        elapsed = time.monotonic() - self.started
        return elapsed * (self.bytes_total - self.bytes_done) / self.bytes_done

    def to_json(self) -> dict[str, float | int | str | None]:
        return {
            "files_total": self.files_total,
            "files_done": self.files_done,
            "files_queued": self.files_queued,
            "files_failed": self.files_failed,
            "chunks_done": self.chunks_done,
            "chunks_per_second": round(self.chunks_per_second, 2),
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "current": self.current,
        }


@dataclass
class IndexReport:
    folders: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    ignored: int = 0
    chunks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # folders removed (from the page, or another process) while they were being indexed:
    # nothing more was written under them
    folders_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    folder: Folder
    path: Path
    stat: os.stat_result
    record: FileRecord | None
    force: bool = False  # read and embed it again even if its content did not change


@dataclass
class _Pending:
    job: _Job
    sha256: str
    doc: Extracted
    chunks: list[Chunk]
    contexts: list[str]
    title: str

    def embedding_texts(self) -> list[str]:
        return [embedding_text(ctx, c.text) for ctx, c in zip(self.contexts, self.chunks)]


class Indexer:
    def __init__(
        self,
        store: Store,
        embedder: DocumentEmbedder,
        chunk_tokens: int,
        overlap_tokens: int,
        max_file_bytes: int = MAX_FILE_BYTES,
        batch_chunks: int = BATCH_CHUNKS,
        parser: Parser | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.max_file_bytes = max_file_bytes
        self.batch_chunks = batch_chunks
        self.parser = parser or shared_parser()
        # What a failed or skipped file was tried with; when it differs, the file is retried.
        self.tried = f"readers {READERS_VERSION}, limit {max_file_bytes} bytes"
        self._tokenizers: list[Any] = []  # chunk tokenizers not in use (one per running run)
        self._tokenizers_lock = threading.Lock()

    # -- what to do --------------------------------------------------------------------------

    def index_folders(
        self,
        folders: Sequence[Path],
        progress: Progress | None = None,
        *,
        retry: bool = False,
        fresh: Collection[Path] = (),
    ) -> IndexReport:
        """Add these folders if new, then catch up with every change since the last run.

        `retry`: try every failed and skipped file again. `fresh`: folders whose every file is
        read and embedded again (their old chunks stay searchable until new ones replace them).
        """
        report = IndexReport()
        jobs: list[_Job] = []
        for path in folders:
            folder = self.store.add_folder(str(path))
            report.folders.append(folder.path)
            again = "all" if Path(path) in fresh else "retry" if retry else "changed"
            try:
                jobs += self._scan(folder, Path(folder.path), report, again)
            except FolderRemoved:
                report.folders_removed.append(folder.path)
        self._run(jobs, report, progress or Progress())
        return report

    def update_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IndexReport:
        """Bring single paths (files or folders, existing or gone) up to date; paths outside
        every indexed folder are ignored. This is what the watcher calls."""
        report = IndexReport()
        folders = self.store.folders()
        jobs: list[_Job] = []
        unique = list(dict.fromkeys(Path(p) for p in paths))
        # An unzip names a new folder and every file in it: the folder's scan covers its files.
        scanned = {path for path in unique if path.is_dir() and not path.is_symlink()}
        for path in unique:
            if scanned and any(parent in scanned for parent in path.parents):
                continue
            folder = owning_folder(folders, path)
            if folder is None:
                continue
            try:
                jobs += self._update_path(folder, path, report)
            except FolderRemoved:
                report.folders_removed.append(folder.path)
        self._run(jobs, report, progress or Progress())
        return report

    def _update_path(self, folder: Folder, path: Path, report: IndexReport) -> list[_Job]:
        root = Path(folder.path)
        if path.is_dir() and not path.is_symlink():
            why = why_ignored(path, root, is_dir=True)
            if why is None:
                return self._scan(folder, path, report, "changed")
            self._forget(folder, path, report, IgnoredPath(str(path), why, True))
            return []
        if path.is_file():
            why = why_ignored(path, root)
            if why is None:
                ignored: list[IgnoredPath] = []
                job = self._job(folder, path, report, "changed", ignored)
                self.store.replace_ignored(folder.id, str(path), ignored)
                return [job] if job is not None else []
            self._forget(folder, path, report, IgnoredPath(str(path), why, False))
            return []
        if path.is_symlink() or path.exists():  # a link to a folder, a broken link, a pipe
            why = why_ignored(path, root) or NOT_REGULAR
            self._forget(folder, path, report, IgnoredPath(str(path), why, path.is_dir()))
            return []
        self._forget(folder, path, report)
        return []

    def move(self, old: Path, new: Path, progress: Progress | None = None) -> IndexReport:
        """A rename: records follow the file or folder, then anything that changed is updated."""
        folder = owning_folder(self.store.folders(), new)
        if (
            folder is None
            or why_ignored(new, Path(folder.path), is_dir=new.is_dir()) is not None
            or not self.store.files_under(str(old))  # e.g. an editor's temporary file
        ):
            return self.update_paths([old, new], progress)
        try:
            moved = self.store.move_files(str(old), str(new), folder.id)
        except FolderRemoved:
            return IndexReport(folders_removed=[folder.path])
        self._forget(owning_folder(self.store.folders(), old), old, IndexReport())  # what it left out
        report = self.update_paths([new], progress)
        report.moved = moved
        return report

    def _scan(self, folder: Folder, top: Path, report: IndexReport, again: str) -> list[_Job]:
        """Files under `top` that need a look (new, or stat changed); forgets the ones gone and
        records what is left out by rule."""
        found = walk(top, Path(folder.path))
        report.unreadable.extend(found.unreadable)
        ignored = [IgnoredPath(*entry) for entry in found.ignored]
        # A folder that cannot be read is never entered either: say so, with why.
        ignored += [IgnoredPath(path, f"cannot be read: {why}", True) for path, why in found.unreadable]
        seen: set[str] = set()
        jobs = []
        for path in found.files:
            seen.add(str(path))
            job = self._job(folder, path, report, again, ignored)
            if job is not None:
                jobs.append(job)
        known = self.store.files_under(str(top))
        unreachable = {p for p, _ in found.unreadable}
        gone = [
            r.id for r in known
            if r.path not in seen and r.folder_id == folder.id
            and not any(r.path.startswith(u.rstrip("/") + "/") for u in unreachable)
        ]
        self.store.delete_files(gone)
        self.store.replace_ignored(folder.id, str(top), ignored)
        report.removed += len(gone)
        report.ignored += len(ignored)
        return jobs

    def _job(
        self, folder: Folder, path: Path, report: IndexReport, again: str, ignored: list[IgnoredPath]
    ) -> _Job | None:
        try:
            stat = path.stat()
        except OSError as exc:
            report.unreadable.append((str(path), exc.strerror or str(exc)))
            return None
        if not stat_mode.S_ISREG(stat.st_mode):  # reading a pipe would wait forever
            ignored.append(IgnoredPath(str(path), NOT_REGULAR, False))
            return None
        record = self.store.file_record(str(path))
        if (
            record
            and record.size == stat.st_size
            and record.mtime_ns == stat.st_mtime_ns
            and not self._again(record, again)
        ):
            report.unchanged += 1
            return None
        return _Job(folder, path, stat, record, force=again == "all")

    def _again(self, record: FileRecord, again: str) -> bool:
        """Whether an unchanged file is read again: all of them when forced; a failed or
        skipped one on demand, or when what it was tried with changed."""
        if again == "all":
            return True
        if record.status == "indexed":
            return False
        return again == "retry" or record.tried != self.tried

    def _forget(
        self, folder: Folder | None, path: Path, report: IndexReport, ignored: IgnoredPath | None = None
    ) -> None:
        """`path` (a file, or a folder and all below it) is gone, or left out by rule."""
        gone = self.store.files_under(str(path))
        self.store.delete_files(r.id for r in gone)
        report.removed += len(gone)
        report.ignored += ignored is not None
        if folder is not None:
            self.store.replace_ignored(folder.id, str(path), [ignored] if ignored else [])

    # -- doing it ----------------------------------------------------------------------------

    def _run(self, jobs: list[_Job], report: IndexReport, progress: Progress) -> None:
        if not jobs:
            return
        jobs.sort(key=_priority)
        progress.update(total=len(jobs), total_bytes=sum(j.stat.st_size for j in jobs))
        ready: queue.Queue[_Pending | BaseException | None] = queue.Queue(maxsize=_PREFETCH)
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
        pending: list[_Pending] = []
        try:
            while True:
                try:
                    item = ready.get(timeout=0.05) if pending else ready.get()
                except queue.Empty:  # the reader is slow: don't keep the model idle
                    self._flush(pending, report, progress)
                    pending = []
                    continue
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                pending.append(item)
                if sum(len(p.chunks) for p in pending) >= self.batch_chunks:
                    self._flush(pending, report, progress)
                    pending = []
            self._flush(pending, report, progress)
        finally:
            stop.set()
            while reader.is_alive():  # let it finish its file; it never blocks on a full queue
                try:
                    ready.get(timeout=0.1)
                except queue.Empty:
                    pass
            self._give_back_tokenizer(tokenizer)

    def _borrow_tokenizer(self) -> Any:
        """A chunk tokenizer for one run's reader thread: never the embedder's own (a fast
        tokenizer's settings live on one object, and the embedding calls set truncation)."""
        with self._tokenizers_lock:
            if self._tokenizers:
                return self._tokenizers.pop()
        return self.embedder.chunk_tokenizer()

    def _give_back_tokenizer(self, tokenizer: Any) -> None:
        with self._tokenizers_lock:
            self._tokenizers.append(tokenizer)

    def _prepare(
        self, job: _Job, tokenizer: Any, report: IndexReport, progress: Progress
    ) -> _Pending | None:
        """Hash, extract and chunk one file; None when there is nothing to embed for it."""
        key, stat = str(job.path), job.stat
        progress.update(current=key)
        if stat.st_size > self.max_file_bytes:
            reason = (
                f"larger than the {self.max_file_bytes / MB:g} MB limit "
                f"({stat.st_size / MB:.1f} MB; raise it with --max-file-size)"
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
        try:
            doc = self.parser.extract(job.path, self.max_file_bytes)
            chunks = chunk_text(doc.text, tokenizer, self.chunk_tokens, self.overlap_tokens, doc.page_starts)
        except SkippedFile as exc:
            self._not_indexed(job, sha, str(exc), "skipped", report, progress)
            return None
        except ExtractError as exc:
            self._not_indexed(job, sha, str(exc), "failed", report, progress)
            return None
        headings = Headings(doc.text, job.path.suffix)
        contexts = [chunk_context(job.path, doc.title, headings.at(c.start)) for c in chunks]
        return _Pending(job, sha, doc, chunks, contexts, doc.title or headings.first or "")

    def _flush(self, pending: list[_Pending], report: IndexReport, progress: Progress) -> None:
        for item in [p for p in pending if p.job.folder.path in report.folders_removed]:
            progress.update(files=1, size=item.job.stat.st_size)  # not embedded: its folder went
        pending = [p for p in pending if p.job.folder.path not in report.folders_removed]
        if not pending:
            return
        texts = [text for item in pending for text in item.embedding_texts()]
        try:
            vectors = self.embedder.embed_documents(texts) if texts else np.zeros((0, 0), np.float32)
        except ModelServerError:
            raise  # no file is at fault: stop, and leave the rest for the next run
        except Exception:
            # One bad file must not cost the others: embed file by file to find it.
            for item in pending:
                self._flush_one(item, report, progress)
            return
        at = 0
        for item in pending:
            self._write(item, vectors[at : at + len(item.chunks)], report, progress)
            at += len(item.chunks)

    def _flush_one(self, item: _Pending, report: IndexReport, progress: Progress) -> None:
        try:
            vectors = self.embedder.embed_documents(item.embedding_texts())
        except ModelServerError:
            raise
        except Exception as exc:
            self._not_indexed(item.job, item.sha256, f"embedding failed: {exc}", "failed", report, progress)
            return
        self._write(item, vectors, report, progress)

    def _write(self, item: _Pending, vectors: np.ndarray, report: IndexReport, progress: Progress) -> None:
        job = item.job
        rows = [
            ChunkRow(
                ordinal=i,
                start=chunk.start,
                end=chunk.end,
                page=item.doc.page_at(chunk.start),
                text=chunk.text,
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                context=context,
            )
            for i, (chunk, context, vector) in enumerate(zip(item.chunks, item.contexts, vectors))
        ]
        try:
            self.store.write_file(
                job.folder.id, str(job.path), job.stat.st_size, job.stat.st_mtime_ns, item.sha256, rows,
                title=item.title, text=item.doc.text,
            )
        except FolderRemoved:
            self._folder_removed(job, report, progress)
            return
        if job.record is None:
            report.added += 1
        else:
            report.updated += 1
        report.chunks += len(rows)
        progress.update(files=1, chunks=len(rows), size=job.stat.st_size)

    def _not_indexed(
        self,
        job: _Job,
        sha: str | None,
        reason: str,
        status: str,
        report: IndexReport,
        progress: Progress,
    ) -> None:
        key, stat = str(job.path), job.stat
        try:
            self.store.record_failure(
                job.folder.id, key, stat.st_size, stat.st_mtime_ns, sha, reason, status, self.tried
            )
        except FolderRemoved:
            self._folder_removed(job, report, progress)
            return
        (report.skipped if status == "skipped" else report.failed).append((key, reason))
        progress.update(files=1, failed=1 if status == "failed" else 0, size=stat.st_size)

    def _folder_removed(self, job: _Job, report: IndexReport, progress: Progress) -> None:
        """The folder went while its files were read: nothing more is written under it."""
        if job.folder.path not in report.folders_removed:
            report.folders_removed.append(job.folder.path)
        progress.update(files=1, size=job.stat.st_size)


def owning_folder(folders: Sequence[Folder], path: Path) -> Folder | None:
    """The innermost indexed folder that holds `path`."""
    best = None
    for folder in folders:
        root = Path(folder.path)
        if (path == root or root in path.parents) and (best is None or len(folder.path) > len(best.path)):
            best = folder
    return best


def _priority(job: _Job) -> tuple[int, float]:
    """Small files first (quick, and most often what a person looks for), newest first."""
    size = job.stat.st_size
    return (0 if size < 64_000 else 1 if size < 1_000_000 else 2, -job.stat.st_mtime)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
