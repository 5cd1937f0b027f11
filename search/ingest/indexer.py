"""Bring the index of some folders (or some paths in them) up to date with the disk: the
words phase, which needs no model.

A file is read again only when its size or mtime moved *and* its content hash changed; files
that are gone are removed; renamed files keep their embeddings. The files to read are written
one by one, searchable by their words at once (writing.py). Their vectors come in the meaning
phase (meaning.py): after the words of the whole batch when the indexer has an embedder, else
in the background (the page, the terminal's watch).

Every file under a folder ends up accounted for: indexed, failed (it should have been
readable), skipped (binary, too large: read and left out) or ignored by rule (never read;
search/ingest/rules.py). A failed or skipped file is tried again when what stopped it may
have changed (the readers' version, the size limit, the embedding model), or on demand.
"""
from __future__ import annotations

import stat as stat_mode
from pathlib import Path
from typing import Any, Collection, Iterable, Protocol, Sequence

import numpy as np

from search.defaults import MAX_PASSAGES
from search.ingest.chunk import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunker
from search.ingest.extract import MAX_FILE_BYTES, READERS_VERSION
from search.ingest.meaning import BATCH_CHUNKS, MeaningPhase
from search.ingest.parsing import Parser, shared_parser
from search.ingest.progress import Progress
from search.ingest.report import IndexReport
from search.ingest.walk import walk, why_ignored
from search.ingest.writing import FileJob, FileWriter, Limits
from storage import FileRecord, Folder, FolderRemoved, IgnoredPath, IndexStore

__all__ = ["BATCH_CHUNKS", "MAX_PASSAGES", "Indexer", "IndexReport", "Progress", "owning_folder"]
NOT_REGULAR = "not a regular file (a pipe, socket or device)"


class DocumentEmbedder(Protocol):
    name: str

    def chunk_tokenizer(self) -> Any:
        """A tokenizer for chunking in the model's tokens, shared with no embedding call."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...



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
        # What a failed or skipped file was tried with; when it differs, the file is retried.
        tried = f"readers {READERS_VERSION}, limit {max_file_bytes} bytes"
        # The same for a file cut at the passage limit: a new limit reads it again.
        self.limits = Limits(max_file_bytes, max_passages, tried, f"{tried}, {max_passages} passages")
        self.writer = FileWriter(store, chunker, parser or shared_parser(), self.limits)

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
        jobs: list[FileJob] = []
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
        jobs: list[FileJob] = []
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

    def _update_path(self, folder: Folder, path: Path, report: IndexReport) -> list[FileJob]:
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

    def _scan(self, folder: Folder, top: Path, report: IndexReport, again: str) -> list[FileJob]:
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
    ) -> FileJob | None:
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
        return FileJob(folder, path, stat, record, force=again == "all" or self._cut_otherwise(record))

    def _again(self, record: FileRecord, again: str) -> bool:
        """Whether an unchanged file is read again: all of them when forced; a failed or
        skipped one on demand, or when what it was tried with changed; one cut at the passage
        limit when the limit changed."""
        if again == "all":
            return True
        if record.status == "indexed":
            return self._cut_otherwise(record)
        return again == "retry" or record.tried != self.limits.tried

    def _cut_otherwise(self, record: FileRecord | None) -> bool:
        """An indexed file cut at another passage limit: read it again, even unchanged."""
        return (
            record is not None and record.status == "indexed" and record.error is not None
            and record.tried != self.limits.tried_cut
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

    def _run(self, jobs: list[FileJob], report: IndexReport, progress: Progress) -> None:
        """The words phase for these files, then (with an embedder) the meaning phase."""
        if jobs:
            self.writer.run(jobs, report, progress)
        if self.meaning is not None:
            embedded = self.meaning.run(progress)
            report.chunks += embedded.chunks
            report.failed += embedded.failed



def owning_folder(folders: Sequence[Folder], path: Path) -> Folder | None:
    """The innermost indexed folder that holds `path`."""
    best = None
    for folder in folders:
        root = Path(folder.path)
        if (path == root or root in path.parents) and (best is None or len(folder.path) > len(best.path)):
            best = folder
    return best
