"""Text out of files: any text file whatever its name, HTML, PDF, DOCX, EPUB and notebooks.

The reader is picked by extension for the document formats (readers live in
`search/ingest/formats/`); every other file is read as text when its content is text,
whatever its name. Every failure a person can cause raises ExtractError with a reason that
`status` shows: its subclass SkippedFile for files left out on purpose (binary, too large, a
minified bundle), plain ExtractError for files that should have been readable (corrupt,
encrypted). `search/ingest/parsing.py` runs the readers of PDF, DOCX, EPUB and HTML in a
separate process with time and memory limits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from search.defaults import MAX_FILE_MB, MB
from search.errors import ExtractError, SkippedFile
from search.ingest.formats.docx import read_docx
from search.ingest.formats.epub import read_epub
from search.ingest.formats.html import read_html
from search.ingest.formats.notebook import read_notebook
from search.ingest.formats.pdf import read_pdf
from search.ingest.formats.text import SNIFF_BYTES, binary_reason, decode_text, looks_binary

__all__ = [
    "ISOLATED_EXTENSIONS",
    "MAX_FILE_BYTES",
    "READERS_VERSION",
    "Extracted",
    "decode_text",
    "extract",
    "looks_binary",
    "unread_reason",
]

# What these readers can read, as a number: a release whose readers read more (a new format,
# text found where none was) raises it, and every failed or skipped file is tried again.
# 2: any text file, whatever its name; PDF, DOCX, EPUB and HTML in a worker process.
READERS_VERSION = 2
MAX_FILE_BYTES = int(MAX_FILE_MB * MB)
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
PDF_EXTENSIONS = frozenset({".pdf"})
DOCX_EXTENSIONS = frozenset({".docx"})
EPUB_EXTENSIONS = frozenset({".epub"})
NOTEBOOK_EXTENSIONS = frozenset({".ipynb"})
# Binary containers that their own reader opens: never sniffed as text.
CONTAINER_EXTENSIONS = PDF_EXTENSIONS | DOCX_EXTENSIONS | EPUB_EXTENSIONS
# Parsers complex enough that a hostile file could hang them or eat memory (a notebook is
# JSON: a 45 MB one takes a gigabyte to parse).
ISOLATED_EXTENSIONS = CONTAINER_EXTENSIONS | HTML_EXTENSIONS | NOTEBOOK_EXTENSIONS
_BUNDLE_EXTENSIONS = frozenset({".js", ".mjs", ".cjs", ".css"})
# A bundle a minifier wrote: few, very long lines. Hand-written code averages under 80.
# (Names that say so, .min.js or .map, are never even read: search/ingest/rules.py.)
_MINIFIED_LINE_CHARS = 500
_MINIFIED_FROM_CHARS = 5_000
# JSON on one line is machine output, but small ones (a settings file, an export of notes) are
# read: only megabytes of it are left out.
_JSON_EXTENSIONS = frozenset({".json", ".geojson"})
_MINIFIED_JSON_FROM_CHARS = MB
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


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


def unread_reason(path: Path) -> str | None:
    """Why a file is left out after reading only its first 8 KB (binary content), or None.

    Document containers (PDF, DOCX, EPUB) are binary by nature and are never judged here.
    Raises OSError when the file cannot be read.
    """
    if path.suffix.lower() in CONTAINER_EXTENSIONS:
        return None
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    reason = binary_reason(sample)
    return f"binary file ({reason}), not text" if reason else None


def extract(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Extracted:
    """The text of one file; anything not a known document format is read as text (sniffed)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise SkippedFile(
            f"file is {size / MB:.1f} MB, over the {max_bytes / MB:g} MB limit for indexing"
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
    text = decode_text(data)
    _refuse_non_documents(text, suffix)
    return Extracted(text)


def _refuse_non_documents(text: str, suffix: str) -> None:
    """Text that is not a document: a minifier's output, a private key. (Encoded data and hex
    dumps, in any format, are found after reading: search/ingest/nontext.py.)"""
    if suffix in _BUNDLE_EXTENSIONS and len(text) >= _MINIFIED_FROM_CHARS:
        average = _average_line(text)
        if average > _MINIFIED_LINE_CHARS:
            raise SkippedFile(
                f"a minified bundle (lines of {average:,.0f} characters on average), not a document"
            )
    if suffix in _JSON_EXTENSIONS and len(text) >= _MINIFIED_JSON_FROM_CHARS:
        average = _average_line(text)
        if average > _MINIFIED_LINE_CHARS:
            raise SkippedFile(
                f"minified JSON ({len(text) / MB:.1f} MB in lines of {average:,.0f} characters on "
                "average): machine output, not a document"
            )
    if _PRIVATE_KEY.search(text[:SNIFF_BYTES]):
        raise SkippedFile("a private key: kept out of the index")


def _average_line(text: str) -> float:
    return len(text) / (text.count("\n") + 1)


def _titled(text: str, title: str | None) -> Extracted:
    return Extracted(text, title=title)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
