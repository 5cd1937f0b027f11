"""Checks that the PDF fixtures in ``pdf_fixtures`` behave as documented."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pypdf import PasswordType, PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, WrongPasswordError

from pdf_fixtures import write_corrupt_pdf, write_encrypted_pdf, write_text_pdf


def test_text_pdf_pages_extract_in_order(tmp_path: Path) -> None:
    pages = [
        "The quick brown fox\njumps over the lazy dog",
        "Second page talks about semantic search",
        "Third page\nwith\nseveral short lines",
    ]
    path = write_text_pdf(tmp_path / "doc.pdf", pages)

    assert path == tmp_path / "doc.pdf"
    assert path.read_bytes().startswith(b"%PDF-1.4")
    reader = PdfReader(path)
    assert not reader.is_encrypted
    assert len(reader.pages) == len(pages)
    for page, expected in zip(reader.pages, pages):
        text = page.extract_text()
        # Same words, in the same order, still separated by whitespace.
        assert text.split() == expected.split()
        assert text.splitlines() == expected.split("\n")


def test_text_pdf_escapes_special_characters(tmp_path: Path) -> None:
    line = r"Parens (like these) and a back\slash; café 50%"
    path = write_text_pdf(tmp_path / "special.pdf", [line])

    assert PdfReader(path).pages[0].extract_text() == line


def test_text_pdf_rejects_empty_page_list(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_text_pdf(tmp_path / "empty.pdf", [])


def test_encrypted_pdf_needs_password(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf", "confidential quarterly numbers")

    reader = PdfReader(path)
    assert reader.is_encrypted
    assert reader.decrypt("") == PasswordType.NOT_DECRYPTED
    with pytest.raises(FileNotDecryptedError, match="File has not been decrypted"):
        reader.pages[0].extract_text()

    with pytest.raises(WrongPasswordError, match="Wrong password"):
        PdfReader(path, password="wrong")


def test_encrypted_pdf_opens_with_password(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf", "confidential numbers", "pw1")

    reader = PdfReader(path)
    assert reader.decrypt("pw1") == PasswordType.USER_PASSWORD
    assert reader.pages[0].extract_text() == "confidential numbers"
    assert PdfReader(path, password="pw1").pages[0].extract_text() == "confidential numbers"
    # AES-256 is security handler revision 6 (/V 5, /R 6).
    encrypt = reader.trailer["/Encrypt"].get_object()
    assert (encrypt["/V"], encrypt["/R"]) == (5, 6)


def test_encrypted_pdf_requires_nonempty_password(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_encrypted_pdf(tmp_path / "open.pdf", "text", user_password="")


def test_corrupt_pdf_fails_to_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_corrupt_pdf(tmp_path / "broken.pdf")

    assert path.suffix == ".pdf"
    assert path.read_bytes().startswith(b"%PDF-1.4")
    with caplog.at_level(logging.WARNING, logger="pypdf"):
        with pytest.raises(PdfReadError, match="Stream has ended unexpectedly"):
            PdfReader(path)
    assert "EOF marker not found" in caplog.text


def test_corrupt_pdf_strict_mode(tmp_path: Path) -> None:
    path = write_corrupt_pdf(tmp_path / "broken.pdf")

    with pytest.raises(PdfReadError, match="EOF marker not found"):
        PdfReader(path, strict=True)
