"""Text out of files: plain text and code, CSV/JSON, HTML, PDF, DOCX, EPUB and notebooks.

This module picks a reader by extension (readers live in `search/ingest/formats/`). Every
failure a person can cause raises ExtractError with a reason that `status` shows: its
subclass SkippedFile for files left out on purpose (binary behind a text extension, too
large), plain ExtractError for files that should have been readable (corrupt, encrypted).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from search.errors import ExtractError, SkippedFile
from search.ingest.formats.docx import read_docx
from search.ingest.formats.epub import read_epub
from search.ingest.formats.html import read_html
from search.ingest.formats.notebook import read_notebook
from search.ingest.formats.pdf import read_pdf
from search.ingest.formats.text import decode_text, looks_binary

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "Extracted",
    "decode_text",
    "extract",
    "is_supported",
    "looks_binary",
]

TEXT_EXTENSIONS = frozenset(
    """
    .txt .text .md .markdown .mdown .rst .org .adoc .asciidoc .tex .log
    .csv .tsv .json .jsonl .ndjson
    .py .pyi .js .mjs .cjs .ts .tsx .jsx .vue .svelte .java .kt .kts .scala .groovy
    .c .h .cc .cpp .cxx .hpp .hh .hxx .m .mm .cs .fs .go .rs .rb .php .pl .pm .swift .dart
    .lua .r .jl .hs .ml .mli .ex .exs .erl .clj .elm .zig .nim .sh .bash .zsh .fish .ps1
    .bat .sql .graphql .proto .css .scss .sass .less .toml .yaml .yml .ini .cfg .conf
    .cmake .gradle .tf .nix .dockerfile .makefile
    """.split()
)
TEXT_FILENAMES = frozenset({"readme", "license", "makefile", "dockerfile", "changelog", "todo"})
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
PDF_EXTENSIONS = frozenset({".pdf"})
DOCX_EXTENSIONS = frozenset({".docx"})
EPUB_EXTENSIONS = frozenset({".epub"})
NOTEBOOK_EXTENSIONS = frozenset({".ipynb"})
SUPPORTED_EXTENSIONS = (
    TEXT_EXTENSIONS | HTML_EXTENSIONS | PDF_EXTENSIONS | DOCX_EXTENSIONS | EPUB_EXTENSIONS | NOTEBOOK_EXTENSIONS
)
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class Extracted:
    """A document's text; `page_starts[i]` is the char offset where page i+1 begins (PDFs).

    `title` is what the document calls itself (HTML <title>, DOCX/EPUB metadata, a notebook's
    first heading), kept apart so chunks can later be headed by it; None when there is none.
    """

    text: str
    page_starts: list[int] = field(default_factory=list)
    title: str | None = None

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start > offset:
                break
            page = i
        return page + 1


def is_supported(path: Path) -> bool:
    """Whether the name says Fathom can read it; extension-less files need `looks_binary`."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_EXTENSIONS:
        return True
    return not suffix and path.name.lower() in TEXT_FILENAMES


def extract(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Extracted:
    """The text of one file; anything not a known document format is read as text (sniffed)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise SkippedFile(
            f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit for indexing"
        )
    suffix = path.suffix.lower()
    if suffix in PDF_EXTENSIONS:
        text, starts = read_pdf(path)
        return Extracted(text, starts)
    if suffix in DOCX_EXTENSIONS:
        return _titled(*read_docx(path))
    if suffix in EPUB_EXTENSIONS:
        return _titled(*read_epub(path))
    data = _read_bytes(path)
    if suffix in HTML_EXTENSIONS:
        return _titled(*read_html(data))
    if suffix in NOTEBOOK_EXTENSIONS:
        return _titled(*read_notebook(data))
    return Extracted(decode_text(data))


def _titled(text: str, title: str | None) -> Extracted:
    return Extracted(text, title=title)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
