"""Bring the index of some folders up to date with the disk.

A file is re-embedded only when its size or mtime moved *and* its content hash changed; files
that are gone are removed. Chunks of several files are embedded together (the model works in
large batches) and each file is then written in its own transaction.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from search.errors import ExtractError
from search.ingest.chunk import Chunk, chunk_text
from search.ingest.extract import MAX_FILE_BYTES, Extracted, extract
from search.ingest.walk import walk
from storage import ChunkRow, FileRecord, Folder, Store

BATCH_CHUNKS = 64


class DocumentEmbedder(Protocol):
    tokenizer: object

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Progress:
    """What the indexer is doing, read by the CLI's progress bar (and later the page)."""

    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    chunks_done: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)
    listener: Callable[["Progress"], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, *, files: int = 0, failed: int = 0, chunks: int = 0, total: int = 0, current: str = "") -> None:
        with self._lock:
            self.files_total += total
            self.files_done += files
            self.files_failed += failed
            self.chunks_done += chunks
            if current:
                self.current = current
        if self.listener:
            self.listener(self)

    @property
    def chunks_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.chunks_done / elapsed if elapsed > 0 else 0.0


@dataclass
class IndexReport:
    folders: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Pending:
    folder: Folder
    path: Path
    size: int
    mtime_ns: int
    sha256: str
    is_new: bool
    doc: Extracted
    chunks: list[Chunk]


class Indexer:
    def __init__(
        self,
        store: Store,
        embedder: DocumentEmbedder,
        chunk_tokens: int,
        overlap_tokens: int,
        max_file_bytes: int = MAX_FILE_BYTES,
        batch_chunks: int = BATCH_CHUNKS,
    ):
        self.store = store
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.max_file_bytes = max_file_bytes
        self.batch_chunks = batch_chunks

    def index_folders(self, folders: Sequence[Path], progress: Progress | None = None) -> IndexReport:
        progress = progress or Progress()
        report = IndexReport()
        plans: list[tuple[Folder, list[tuple[Path, os.stat_result, FileRecord | None]]]] = []
        for path in folders:
            folder = self.store.add_folder(str(path))
            report.folders.append(folder.path)
            plans.append((folder, self._plan(folder, report)))
        # Small files first: they are quick, and a person tends to look for notes first.
        todo = [(folder, *item) for folder, items in plans for item in items]
        todo.sort(key=lambda item: item[2].st_size)
        progress.update(total=len(todo))
        pending: list[_Pending] = []
        for folder, path, stat, record in todo:
            progress.update(current=str(path))
            item = self._prepare(folder, path, stat, record, report, progress)
            if item is not None:
                pending.append(item)
                if sum(len(p.chunks) for p in pending) >= self.batch_chunks:
                    self._flush(pending, report, progress)
                    pending = []
        self._flush(pending, report, progress)
        return report

    def _plan(self, folder: Folder, report: IndexReport) -> list[tuple[Path, os.stat_result, FileRecord | None]]:
        """Files that need a look (new, or stat changed); removes the ones that are gone."""
        known = self.store.files_in_folder(folder.id)
        found = walk(Path(folder.path))
        report.unreadable.extend(found.unreadable)
        seen: set[str] = set()
        todo = []
        for path in found.files:
            try:
                stat = path.stat()
            except OSError as exc:
                report.unreadable.append((str(path), exc.strerror or str(exc)))
                continue
            key = str(path)
            seen.add(key)
            record = known.get(key) or self.store.file_record(key)
            if record and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns:
                report.unchanged += 1
                continue
            todo.append((path, stat, record))
        gone = [record.id for key, record in known.items() if key not in seen]
        self.store.delete_files(gone)
        report.removed += len(gone)
        return todo

    def _prepare(
        self,
        folder: Folder,
        path: Path,
        stat: os.stat_result,
        record: FileRecord | None,
        report: IndexReport,
        progress: Progress,
    ) -> _Pending | None:
        """Hash, extract and chunk one file; None when there is nothing to embed for it."""
        key = str(path)
        try:
            sha = _sha256(path)
        except OSError as exc:
            reason = f"cannot read the file: {exc.strerror or exc}"
            self._fail(folder, key, stat.st_size, stat.st_mtime_ns, None, reason, report, progress)
            return None
        if record and record.sha256 == sha and record.status == "indexed":
            self.store.touch_file(record.id, stat.st_size, stat.st_mtime_ns)
            report.unchanged += 1
            progress.update(files=1)
            return None
        try:
            doc = extract(path, self.max_file_bytes)
            chunks = chunk_text(
                doc.text, self.embedder.tokenizer, self.chunk_tokens, self.overlap_tokens, doc.page_starts
            )
        except ExtractError as exc:
            self._fail(folder, key, stat.st_size, stat.st_mtime_ns, sha, str(exc), report, progress)
            return None
        return _Pending(folder, path, stat.st_size, stat.st_mtime_ns, sha, record is None, doc, chunks)

    def _flush(self, pending: list[_Pending], report: IndexReport, progress: Progress) -> None:
        if not pending:
            return
        texts = [c.text for item in pending for c in item.chunks]
        try:
            vectors = self.embedder.embed_documents(texts) if texts else np.zeros((0, 0), np.float32)
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
            vectors = self.embedder.embed_documents([c.text for c in item.chunks])
        except Exception as exc:
            reason = f"embedding failed: {exc}"
            self._fail(item.folder, str(item.path), item.size, item.mtime_ns, item.sha256, reason, report, progress)
            return
        self._write(item, vectors, report, progress)

    def _write(self, item: _Pending, vectors: np.ndarray, report: IndexReport, progress: Progress) -> None:
        rows = [
            ChunkRow(
                ordinal=i,
                start=chunk.start,
                end=chunk.end,
                page=item.doc.page_at(chunk.start),
                text=chunk.text,
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            )
            for i, (chunk, vector) in enumerate(zip(item.chunks, vectors))
        ]
        self.store.write_file(item.folder.id, str(item.path), item.size, item.mtime_ns, item.sha256, rows)
        if item.is_new:
            report.added += 1
        else:
            report.updated += 1
        report.chunks += len(rows)
        progress.update(files=1, chunks=len(rows))

    def _fail(
        self,
        folder: Folder,
        key: str,
        size: int,
        mtime_ns: int,
        sha: str | None,
        reason: str,
        report: IndexReport,
        progress: Progress,
    ) -> None:
        self.store.record_failure(folder.id, key, size, mtime_ns, sha, reason)
        report.failed.append((key, reason))
        progress.update(files=1, failed=1)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
