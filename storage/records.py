"""What the store takes and gives back, whichever backend holds the index: plain dataclasses,
never rows."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Folder:
    id: int
    path: str


@dataclass(frozen=True)
class FileRecord:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    status: str
    error: str | None
    tried: str | None = None  # failed/skipped: what it was tried with (see record_failure)


@dataclass(frozen=True)
class IgnoredPath:
    """A file, or a whole folder, that a folder's walk leaves out by rule, and why."""

    path: str
    reason: str
    is_folder: bool


@dataclass(frozen=True)
class ChunkRow:
    """A chunk to store, with its embedding as little-endian float32 bytes, or None: searchable
    by its words at once, it waits for the meaning phase (`pending_chunks`). `context` is the
    title and section it sits under, searched along with its text; `tokens` its length in the
    chunking tokenizer's tokens."""

    ordinal: int
    start: int
    end: int
    page: int | None
    text: str
    vector: bytes | None = None
    context: str = ""
    tokens: int = 0


@dataclass(frozen=True)
class FileChunk:
    """A stored chunk, and the file it belongs to."""

    chunk_id: int
    file_id: int
    path: str


@dataclass(frozen=True)
class PendingChunk(FileChunk):
    """A chunk waiting for its vector: what the embedder reads, and what it belongs to."""

    text: str
    context: str
    tokens: int


@dataclass(frozen=True)
class PendingWork:
    """What the meaning phase has left: files, chunks and tokens waiting for vectors."""

    files: int = 0
    chunks: int = 0
    tokens: int = 0


@dataclass(frozen=True)
class ChunkHit(FileChunk):
    """A chunk a search found, with where it is in its file."""

    ordinal: int
    start: int
    end: int
    page: int | None
    text: str
    mtime_ns: int
    context: str = ""
    embedded: bool = True  # False: its file is searchable by its words, its vectors still wait


@dataclass(frozen=True)
class StoredChunk:
    """A stored chunk of a file, in order: its text is the file's extracted text from `start`
    to `end` (the page shows a passage among its neighbours from these)."""

    ordinal: int
    start: int
    end: int
    page: int | None
    text: str


@dataclass(frozen=True)
class ChunkFilter:
    """Which files a search may return. Every field is optional; all given must hold."""

    folder: str | None = None  # only files under this folder
    extensions: tuple[str, ...] = ()  # e.g. (".md", ".pdf"); any of them
    path_glob: str | None = None  # GLOB on the path; without "/", on the file name
    modified_after_ns: int | None = None
    modified_before_ns: int | None = None

    @property
    def empty(self) -> bool:
        return self == ChunkFilter()


@dataclass(frozen=True)
class WordQuery:
    """What a person asked of the keyword index, parsed (search/query_syntax.py parses the
    text they typed): files are ranked by BM25 over `words` (any of them) and `phrases`, and
    each phrase must be in a file, its words in that order. Words a person wants left out are
    not here: `IndexStore.files_with` finds the files that hold them."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeywordMatch:
    """A WordQuery as the store asks its keyword index (`IndexStore.keyword_match`): `terms`,
    any of them, ranked by BM25 (common ones pruned), and `phrases`, each required, as a row
    holds their words. Each backend compiles it into its own query language."""

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmbeddingSpace:
    """Which model made the vectors, how wide they are, and from what input (`recipe`, a
    version of how chunks are built): vectors of two spaces never mix."""

    model: str
    dimension: int
    recipe: str = ""


@dataclass(frozen=True)
class IndexStats:
    folders: list[tuple[str, int]]
    files: int
    indexed: int
    failed: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    chunks: int
    space: EmbeddingSpace | None
    schema_version: int
    path: str
    ignored: list[IgnoredPath] = field(default_factory=list)
    cut: list[tuple[str, str]] = field(default_factory=list)  # indexed up to a passage limit, and why
    # per folder path: files "indexed", "failed", "skipped", "ignored" and "ignored_folders", and
    # "waiting": indexed files whose vectors are still to come
    folder_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    waiting: PendingWork = field(default_factory=PendingWork)  # indexed, vectors still to come
    vector_search: str = ""  # how vector search runs on this index, in words
