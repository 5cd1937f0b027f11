"""IndexStore: every call the rest of Fathom makes on the index, whichever database holds it.

Vectors travel as little-endian float32 bytes, distances are cosine distances (lower is
nearer), keyword scores are higher-is-better. A keyword query is made by the store itself
(`keyword_match`, from a person's text or a parsed WordQuery: a typed KeywordMatch) and passed
back as it came; each backend compiles it into its own query language. Each write of a file is
atomic. Errors people can hit are StorageError; a folder removed while its files are
written is FolderRemoved.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence, runtime_checkable

from storage.records import (
    ChunkFilter, ChunkHit, ChunkRow, EmbeddingSpace, FileRecord, Folder, IgnoredPath, IndexStats, PendingChunk,
    KeywordMatch, PendingWork, StoredChunk, WordQuery,
)

SAMPLE_CHUNKS = 512  # the sample of chunks a query's background similarity is measured on
SAMPLE_SECONDS = 60.0  # how long one sample serves while the index changes

if TYPE_CHECKING:  # typing.Self is Python 3.11's; annotations are never evaluated here
    from typing_extensions import Self


@runtime_checkable
class IndexStore(Protocol):
    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    # -- the embedding space: vectors of two spaces never mix --------------------------------

    def embedding_space(self) -> EmbeddingSpace | None: ...

    def set_embedding_space(self, space: EmbeddingSpace) -> None:
        """A new space drops every vector; the files are marked to be embedded again."""

    # -- folders and files --------------------------------------------------------------------

    def add_folder(self, path: str) -> Folder: ...

    def folders(self) -> list[Folder]: ...

    def remove_folder(self, folder_id: int) -> int:
        """Forgets the folder and its files; returns how many files went."""

    def files_under(self, path: str) -> list[FileRecord]: ...

    def file_record(self, path: str) -> FileRecord | None: ...

    def file_text(self, path: str, max_chars: int) -> str | None: ...

    def file_chunks(self, path: str) -> list[StoredChunk]:
        """Every chunk of an indexed file, in order, with its offsets in the file's text."""

    def write_file(
        self, folder_id: int, path: str, size: int, mtime_ns: int, sha256: str,
        chunks: Sequence[ChunkRow], title: str = "", text: str | None = None,
        chunker: str | None = None, cut: str | None = None, tried: str | None = None,
    ) -> None:
        """Replaces all that is stored for the file, in one transaction; chunks without a
        vector are searchable by their words and wait for the meaning phase. `cut`: why only
        these of its passages are stored (listed by `stats`), with what it was `tried`."""

    def record_failure(
        self, folder_id: int, path: str, size: int, mtime_ns: int, sha256: str | None,
        error: str, status: str = "failed", tried: str | None = None,
    ) -> None: ...

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None: ...

    def move_files(self, old: str, new: str, folder_id: int) -> int: ...

    def delete_files(self, file_ids: Iterable[int]) -> None: ...

    def replace_ignored(self, folder_id: int, top: str, entries: Sequence[IgnoredPath]) -> None: ...

    # -- the meaning phase: vectors for chunks that are searchable by their words ---------------

    def pending_chunks(self, limit: int, chunker: str | None = None, first: Sequence[str] = ()) -> list[PendingChunk]:
        """Chunks waiting for vectors, most recently modified files first."""

    def write_vectors(self, vectors: Sequence[tuple[PendingChunk, bytes]]) -> int:
        """Stores them in one transaction, leaving out chunks that changed meanwhile."""

    def pending_work(self, chunker: str | None = None) -> PendingWork: ...

    def rechunk_others(self, chunker: str, unknown_too: bool = False) -> int:
        """Files cut by another chunker (`unknown_too`: or by an unrecorded one) are read
        again by the next index run."""

    def embedding_failed(self, file_id: int, error: str) -> None: ...

    # -- search ---------------------------------------------------------------------------------

    def nearest_chunks(self, vector: bytes, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]: ...

    def cosine_distances(self, chunk_ids: Sequence[int], vector: bytes) -> dict[int, float]: ...

    def file_similarities(self, file_ids: Sequence[int], vector: bytes) -> dict[int, tuple[float, float]]: ...

    def background_similarity(self, vector: bytes) -> float | None: ...

    def keyword_match(self, text: str | WordQuery, table: str = "chunks") -> KeywordMatch | None:
        """The keyword query for a person's text, or a parsed query whose phrases are required
        ("chunks" or "files" rows), its terms too common to rank anything left out."""

    def files_with(self, words: Sequence[str]) -> set[int]:
        """The files holding any of these words or phrases (in their name, folders, title or
        text): a search leaves them out."""

    def nearest_words(self, words: Sequence[str]) -> dict[str, str]:
        """For each word that no indexed file holds, the nearest indexed word, if one is near."""

    def keyword_chunks(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]: ...

    def keyword_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]: ...

    def name_files(self, match: KeywordMatch, k: int, only: ChunkFilter | None = None) -> list[tuple[int, float]]: ...

    def passages(self, file_ids: Sequence[int], vector: bytes | None, match: KeywordMatch | None) -> dict[int, int]: ...

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkHit]: ...

    # -- upkeep and status ----------------------------------------------------------------------

    def integrity(self) -> dict[str, int | bool]:
        """Problems counted by name; an index is sound when each is 0 (or True)."""

    def repair(self) -> dict[str, int]: ...

    def vacuum_if_worth_it(self, min_free_fraction: float = 0.25, min_free_pages: int = 2048) -> bool: ...

    def backup(self, destination: Path | str) -> None: ...

    def stats(self) -> IndexStats: ...
