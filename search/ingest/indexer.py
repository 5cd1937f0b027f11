"""Bring the index of some folders (or some paths in them) up to date with the disk: the
words phase, which needs no model.

A file is read again only when its size or mtime moved *and* its content hash changed; files
that are gone are removed; renamed files keep their embeddings. A reader thread hashes,
extracts and chunks files while the main thread writes each one (its chunks and their words:
searchable at once) in its own transaction. Their vectors come in the meaning phase
(meaning.py): after the words of the whole batch when the indexer has an embedder, else in the
background (the page, `index --watch`).

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

from search.errors import ExtractError, SkippedFile
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunk, Chunker, chunk_text
from search.ingest.context import Headings, chunk_context
from search.ingest.extract import MAX_FILE_BYTES, MB, READERS_VERSION, Extracted, unread_reason
from search.ingest.meaning import BATCH_CHUNKS, MeaningPhase
from search.ingest.nontext import find_non_text
from search.ingest.parsing import Parser, shared_parser
from search.ingest.progress import Progress
from search.ingest.walk import walk, why_ignored
from storage import ChunkRow, FileRecord, Folder, FolderRemoved, IgnoredPath, IndexStore

_PREFETCH = 64  # files prepared ahead of the writer
# Passages one file may have. 2,000 passages of 256 tokens hold a 1,000-page book (about
# 400,000 words) and cost about 50 minutes of embedding with the default model on 2 CPU cores;
# a file past that is most often a log or a data dump, which would otherwise outweigh the rest
# of its folder. A file that reaches it is indexed up to it and listed as cut.
MAX_PASSAGES = 2_000
NOT_REGULAR = "not a regular file (a pipe, socket or device)"


class DocumentEmbedder(Protocol):
    name: str

    def chunk_tokenizer(self) -> Any:
        """A tokenizer for chunking in the model's tokens, shared with no embedding call."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class IndexReport:
    folders: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    ignored: int = 0
    chunks: int = 0  # chunks embedded
    written_chunks: int = 0  # chunks written by the words phase (searchable by their words)
    written: list[str] = field(default_factory=list)  # paths of the files written (new or changed)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cut: list[tuple[str, str]] = field(default_factory=list)  # indexed up to the passage limit
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
    cut: str | None = None  # why only its first passages are indexed (the passage limit)


class Indexer:
    """The words phase, and with an `embedder` the meaning phase after it in the same call;
    without one (the Engine passes a `chunker` made from the model's tokenizer alone), the
    vectors are left to a MeaningPhase run elsewhere."""

    def __init__(
        self,
        store: IndexStore,
        embedder: DocumentEmbedder | None = None,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
        max_file_bytes: int = MAX_FILE_BYTES,
        batch_chunks: int = BATCH_CHUNKS,
        parser: Parser | None = None,
        chunker: Chunker | None = None,
        max_passages: int = MAX_PASSAGES,
    ):
        if chunker is None:
            if embedder is None:
                raise ValueError("an Indexer needs a chunker, or an embedder to make one from")
            chunker = Chunker(embedder.name, embedder.chunk_tokenizer, chunk_tokens, overlap_tokens)
        self.store = store
        self.chunker = chunker
        self.meaning = MeaningPhase(store, embedder, chunker.identity, batch_chunks) if embedder else None
        self.max_file_bytes = max_file_bytes
        self.parser = parser or shared_parser()
        self.max_passages = max_passages
        # What a failed or skipped file was tried with; when it differs, the file is retried.
        self.tried = f"readers {READERS_VERSION}, limit {max_file_bytes} bytes"
        # The same for a file cut at the passage limit: a new limit reads it again.
        self.tried_cut = f"{self.tried}, {max_passages} passages"
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
        model_changed: bool = False,
    ) -> IndexReport:
        """Add these folders if new, then catch up with every change since the last run.

        `retry`: try every failed and skipped file again. `fresh`: folders whose every file is
        read and embedded again (their old chunks stay searchable until new ones replace them).
        `model_changed`: files cut before chunkers were recorded are cut again too.
        """
        report = IndexReport()
        jobs: list[_Job] = []
        if self.chunker.exact:  # files cut by another tokenizer are cut again, before they are embedded
            self.store.rechunk_others(self.chunker.identity, unknown_too=model_changed)
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
        return _Job(folder, path, stat, record, force=again == "all" or self._cut_otherwise(record))

    def _again(self, record: FileRecord, again: str) -> bool:
        """Whether an unchanged file is read again: all of them when forced; a failed or
        skipped one on demand, or when what it was tried with changed; one cut at the passage
        limit when the limit changed."""
        if again == "all":
            return True
        if record.status == "indexed":
            return self._cut_otherwise(record)
        return again == "retry" or record.tried != self.tried

    def _cut_otherwise(self, record: FileRecord | None) -> bool:
        """An indexed file cut at another passage limit: read it again, even unchanged."""
        return (
            record is not None and record.status == "indexed" and record.error is not None
            and record.tried != self.tried_cut
        )

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
        """The words phase for these files, then (with an embedder) the meaning phase."""
        if jobs:
            self._read_and_write(jobs, report, progress)
        if self.meaning is not None:
            embedded = self.meaning.run(progress)
            report.chunks += embedded.chunks
            report.failed += embedded.failed

    def _read_and_write(self, jobs: list[_Job], report: IndexReport, progress: Progress) -> None:
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
        self, job: _Job, tokenizer: Any, report: IndexReport, progress: Progress
    ) -> _Pending | None:
        """Hash, extract and chunk one file; None when there is nothing to write for it."""
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
        chunker = self.chunker
        try:
            doc = self.parser.extract(job.path, self.max_file_bytes)
            non_text = find_non_text(doc.text)
            if non_text.refusal:
                raise SkippedFile(non_text.refusal)
            chunks = chunk_text(
                doc.text, tokenizer, chunker.max_tokens, chunker.overlap, doc.page_starts,
                left_out=non_text.left_out, limit=self.max_passages + 1,
            )
        except SkippedFile as exc:
            self._not_indexed(job, sha, str(exc), "skipped", report, progress)
            return None
        except ExtractError as exc:
            self._not_indexed(job, sha, str(exc), "failed", report, progress)
            return None
        cut = None
        if len(chunks) > self.max_passages:
            chunks = chunks[: self.max_passages]
            cut = _cut_note(self.max_passages, chunks[-1].end / max(1, len(doc.text)))
        headings = Headings(doc.text, job.path.suffix)
        contexts = [chunk_context(job.path, doc.title, headings.at(c.start)) for c in chunks]
        return _Pending(job, sha, doc, chunks, contexts, doc.title or headings.first or "", cut)

    def _write(self, item: _Pending, report: IndexReport, progress: Progress) -> None:
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
                cut=item.cut, tried=self.tried_cut if item.cut else None,
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


def _cut_note(limit: int, share: float) -> str:
    """Why a file's passages stop early, as `status` and the page list it."""
    return (
        f"cut at {limit:,} passages (the first {min(share, 0.99):.0%} of its text); the rest is found "
        "by its words only, not by meaning (raise the limit with --max-passages)"
    )


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
