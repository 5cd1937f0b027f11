"""Helpers that write small PDF files for tests.

Only the standard library and :mod:`pypdf` are used.  Text PDFs are written
by hand (so their bytes are deterministic and their structure is obvious);
encryption is delegated to pypdf's :class:`~pypdf.PdfWriter`.

Functions:

* :func:`write_text_pdf` - a valid multi-page PDF with extractable text.
* :func:`write_encrypted_pdf` - a one-page PDF locked with an AES-256 user
  password.
* :func:`write_corrupt_pdf` - a ``%PDF-1.4`` header followed by truncated
  garbage, which pypdf refuses to open.
"""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader, PdfWriter

__all__ = [
    "pdf_text_bytes",
    "write_corrupt_pdf",
    "write_encrypted_pdf",
    "write_text_pdf",
]

_FONT_SIZE = 12
_LEADING = 14  # vertical distance between lines, in points
_LEFT = 72  # 1 inch margin
_TOP = 720  # first baseline on a US Letter page (792 pt high)


def _escape_pdf_string(line: str) -> bytes:
    """Encode ``line`` as the body of a PDF literal string ``( ... )``.

    Characters are mapped to WinAnsiEncoding (cp1252; unmappable ones become
    ``?``).  ``(``, ``)`` and ``\\`` are backslash-escaped and every
    non-printable or non-ASCII byte is written as a 3-digit octal escape, so
    the content stream stays pure ASCII.
    """
    out = bytearray()
    for byte in line.encode("cp1252", errors="replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out)


def _content_stream(text: str) -> bytes:
    """Return a content stream drawing ``text`` one line per ``\\n``."""
    ops = [b"BT", b"/F1 %d Tf" % _FONT_SIZE, b"%d %d Td" % (_LEFT, _TOP)]
    for i, line in enumerate(text.split("\n")):
        if i:
            ops.append(b"0 -%d Td" % _LEADING)
        ops.append(b"(" + _escape_pdf_string(line) + b") Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def pdf_text_bytes(pages: list[str]) -> bytes:
    """Build a complete PDF (as bytes) whose page ``i`` shows ``pages[i]``.

    Object layout: 1 = catalog, 2 = page tree, 3 = Helvetica font, then a
    (page, content stream) pair per page.  The cross-reference table is
    computed from the real byte offsets.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")

    n = len(pages)
    page_ids = [4 + 2 * i for i in range(n)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % pid for pid in page_ids), n),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        b" /Encoding /WinAnsiEncoding >>",
    ]
    for pid, text in zip(page_ids, pages):
        stream = _content_stream(text)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (pid + 1)
        )
        objects.append(
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for num, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"

    xref_at = len(out)
    size = len(objects) + 1
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % size
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def write_text_pdf(path: Path, pages: list[str]) -> Path:
    """Write a valid PDF to ``path`` whose page ``i`` shows ``pages[i]``.

    Each page's text is split on ``"\\n"`` and drawn line by line in
    Helvetica 12 pt (WinAnsiEncoding).  Returns ``path``.
    """
    path = Path(path)
    path.write_bytes(pdf_text_bytes(pages))
    return path


def write_encrypted_pdf(
    path: Path, text: str, user_password: str = "secret"
) -> Path:
    """Write a one-page PDF showing ``text``, AES-256 encrypted.

    ``user_password`` must be non-empty, so the file cannot be read without
    it (``PdfReader.decrypt("")`` returns ``PasswordType.NOT_DECRYPTED``).
    The owner password is ``user_password + "-owner"``.  Returns ``path``.
    """
    if not user_password:
        raise ValueError("user_password must be non-empty")
    path = Path(path)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_text_bytes([text]))))
    writer.pdf_header = b"%PDF-1.7"  # AES-256 postdates pypdf's default 1.3
    writer.encrypt(
        user_password=user_password,
        owner_password=user_password + "-owner",
        algorithm="AES-256",
    )
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def write_corrupt_pdf(path: Path) -> Path:
    """Write a ``.pdf`` file that has a ``%PDF-1.4`` header but is garbage.

    The body is a truncated object followed by binary noise: there is no
    cross-reference table, no trailer and no ``%%EOF``.  With pypdf 7.1,
    ``pypdf.PdfReader(path)`` fails in its constructor:

    * default (``strict=False``): logs the warning ``"EOF marker not found"``
      on the ``pypdf._reader`` logger, then raises
      ``pypdf.errors.PdfStreamError("Stream has ended unexpectedly")``;
    * ``strict=True``: raises ``pypdf.errors.PdfReadError("EOF marker not
      found")``.

    Both are subclasses of ``pypdf.errors.PdfReadError``.  Returns ``path``.
    """
    path = Path(path)
    path.write_bytes(
        b"%PDF-1.4\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n"  # cut off mid-dictionary
        + bytes(range(256)) * 2
        + b"\nthis is not a pdf \x00\xff\x00\xff"
    )
    return path
