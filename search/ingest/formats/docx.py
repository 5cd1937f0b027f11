"""Text out of Word .docx files with zipfile and ElementTree, no Office libraries.

The body's paragraphs and tables are read in document order. Headers, footers, footnotes and
comments live in other parts and are left out: they repeat on every page or sit beside the
text a person searches for.
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import Element

from search.errors import ExtractError
from search.ingest.formats.archive import Archive, local_name

_DEFAULT_MAIN = "word/document.xml"
# Word saves password-protected .docx (and old .doc) as an OLE compound file, not a zip.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Containers whose children are body content (content controls, tracked insertions...).
_TRANSPARENT = frozenset({"body", "sdt", "sdtContent", "customXml", "ins", "moveTo", "AlternateContent", "Choice", "smartTag"})
# Run-level parts with no readable text: formatting (w:tabs holds tab *stops*), field codes,
# deleted text, and the VML copy of a text box that mc:Choice already gave us.
_SILENT = frozenset({"pPr", "rPr", "sectPr", "tblPr", "trPr", "tcPr", "instrText", "delText", "Fallback"})


def read_docx(path: Path) -> tuple[str, str | None]:
    """(text, title): paragraphs apart by blank lines, table rows as tab-separated lines."""
    _refuse_ole(path)
    with Archive(path, "DOCX") as archive:
        main = _main_part(archive)
        root = archive.xml(main)
        if root is None:
            raise ExtractError(f"corrupt DOCX (no {main} inside)")
        body = next((el for el in root if local_name(el.tag) == "body"), None)
        blocks = list(_blocks(body)) if body is not None else []
        try:
            core = archive.xml("docProps/core.xml")
        except ExtractError:
            core = None  # damaged metadata costs the title, not the text
    title = None
    if core is not None:
        found = next((el for el in core if local_name(el.tag) == "title"), None)
        title = " ".join((found.text or "").split()) if found is not None else None
    return "\n\n".join(b for b in blocks if b), title or None


def _refuse_ole(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    if not head.startswith(_OLE_MAGIC):
        return
    # The compound file's directory names its streams in UTF-16; encrypted files have these.
    if "EncryptionInfo".encode("utf-16-le") in head or "EncryptedPackage".encode("utf-16-le") in head:
        raise ExtractError("encrypted DOCX (password protected); Fathom cannot read it")
    raise ExtractError("old Word format (.doc) with a .docx name; save it again as .docx to index it")


def _main_part(archive: Archive) -> str:
    """The main document from the package relationships; nearly always word/document.xml."""
    try:
        rels = archive.xml("_rels/.rels")
    except ExtractError:
        rels = None
    for rel in rels if rels is not None else ():
        if rel.get("Type", "").endswith("/officeDocument") and rel.get("Target"):
            target = posixpath.normpath(rel.get("Target", "").lstrip("/"))
            if archive.find(target):
                return target
    return _DEFAULT_MAIN


def _blocks(container: Element) -> Iterator[str]:
    for child in container:
        name = local_name(child.tag)
        if name == "p":
            yield _paragraph(child).strip()
        elif name == "tbl":
            yield _table(child)
        elif name in _TRANSPARENT:
            yield from _blocks(child)


def _table(table: Element) -> str:
    rows = []
    for row in _children(table, "tr"):
        cells = [" ".join(" ".join(_blocks(cell)).split()) for cell in _children(row, "tc")]
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def _children(element: Element, name: str) -> Iterator[Element]:
    """Direct children called `name`, looking through content-control wrappers."""
    for child in element:
        child_name = local_name(child.tag)
        if child_name == name:
            yield child
        elif child_name in _TRANSPARENT:
            yield from _children(child, name)


def _paragraph(paragraph: Element) -> str:
    out: list[str] = []
    _runs(paragraph, out)
    return "".join(out)


def _runs(element: Element, out: list[str]) -> None:
    for child in element:
        name = local_name(child.tag)
        if name in _SILENT:
            continue
        if name == "t":
            out.append(child.text or "")
        elif name == "tab":
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        elif name == "noBreakHyphen":
            out.append("-")
        elif name == "p":  # a paragraph inside a text box
            out.append("\n")
            _runs(child, out)
        else:
            _runs(child, out)
