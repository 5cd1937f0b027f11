"""Text out of files: plain text, Markdown, reStructuredText, source code and PDF.

Every failure a person can cause (corrupt or encrypted PDF, a binary file behind a text
extension, a file too large) raises ExtractError with a reason that `status` shows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from search.errors import ExtractError

TEXT_EXTENSIONS = frozenset(
    """
    .txt .text .md .markdown .mdown .rst .org .adoc .asciidoc .tex .log
    .py .pyi .js .mjs .cjs .ts .tsx .jsx .vue .svelte .java .kt .kts .scala .groovy
    .c .h .cc .cpp .cxx .hpp .hh .hxx .m .mm .cs .fs .go .rs .rb .php .pl .pm .swift .dart
    .lua .r .jl .hs .ml .mli .ex .exs .erl .clj .elm .zig .nim .sh .bash .zsh .fish .ps1
    .bat .sql .graphql .proto .css .scss .sass .less .toml .yaml .yml .ini .cfg .conf
    .cmake .gradle .tf .nix .dockerfile .makefile
    """.split()
)
TEXT_FILENAMES = frozenset({"readme", "license", "makefile", "dockerfile", "changelog", "todo"})
PDF_EXTENSIONS = frozenset({".pdf"})
MAX_FILE_BYTES = 50 * 1024 * 1024
_SNIFF_BYTES = 8192

logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass
class Extracted:
    """A document's text; `page_starts[i]` is the char offset where page i+1 begins (PDFs)."""

    text: str
    page_starts: list[int] = field(default_factory=list)

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
    suffix = path.suffix.lower()
    if suffix in TEXT_EXTENSIONS or suffix in PDF_EXTENSIONS:
        return True
    return not suffix and path.name.lower() in TEXT_FILENAMES


def extract(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Extracted:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise ExtractError(
            f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit for indexing"
        )
    if path.suffix.lower() in PDF_EXTENSIONS:
        return _pdf(path)
    return Extracted(_plain_text(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc


def _plain_text(path: Path) -> str:
    return decode_text(_read_bytes(path))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 as a last resort."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExtractError("looks like UTF-16 text but does not decode") from exc
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ExtractError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf(path: Path) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("encrypted PDF (password protected); Fathom cannot read it")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ExtractError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractError("encrypted PDF (password protected); Fathom cannot read it") from exc
    except (PdfReadError, PyPdfError) as exc:
        raise ExtractError(f"corrupt or unreadable PDF ({exc})") from exc
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on malformed input
        raise ExtractError(f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for text in pages:
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    joined = "\n\n".join(parts)
    if not joined.strip():
        raise ExtractError("PDF has no extractable text (scanned images need OCR, which Fathom does not do)")
    return Extracted(joined, starts)
