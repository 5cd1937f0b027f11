"""Builders for small DOCX, EPUB and notebook files, written with zipfile and json only.

They hold just the parts a real Word / e-book / Jupyter file has that Fathom reads, so the
tests show exactly which structure the extractor depends on. No binary fixtures are committed.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"""


def docx_paragraph(*runs: str, tab_stops: bool = False) -> str:
    """A w:p; in each run "\\t" becomes w:tab and "\\n" a w:br, as Word writes them."""
    ppr = '<w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>' if tab_stops else ""
    body = []
    for run in runs:
        pieces = []
        for i, line in enumerate(run.split("\n")):
            if i:
                pieces.append("<w:br/>")
            for j, part in enumerate(line.split("\t")):
                if j:
                    pieces.append("<w:tab/>")
                if part:
                    pieces.append(f'<w:t xml:space="preserve">{escape(part)}</w:t>')
        body.append(f"<w:r><w:rPr><w:b/></w:rPr>{''.join(pieces)}</w:r>")
    return f"<w:p>{ppr}{''.join(body)}</w:p>"


def docx_table(rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(
        "<w:tr>" + "".join(f"<w:tc>{docx_paragraph(cell)}</w:tc>" for cell in row) + "</w:tr>"
        for row in rows
    )
    return f"<w:tbl><w:tblPr/>{cells}</w:tbl>"


def write_docx(path: Path, body: Sequence[str], title: str | None = None) -> Path:
    """A .docx whose body is `body`: XML fragments from docx_paragraph / docx_table."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}">'
        f"<w:body>{''.join(body)}<w:sectPr/></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
        if title is not None:
            zf.writestr(
                "docProps/core.xml",
                '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
                'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<dc:title>{escape(title)}</dc:title><dc:creator>Someone</dc:creator></cp:coreProperties>",
            )
    return path


def xhtml(title: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        f"<title>{escape(title)}</title><link rel=\"stylesheet\" href=\"style.css\"/></head>"
        f"<body>{body}</body></html>"
    )


def write_epub(
    path: Path,
    chapters: dict[str, str],
    spine: Sequence[str],
    title: str = "A Book",
    encrypted: Sequence[str] = (),
    font_obfuscated: Sequence[str] = (),
) -> Path:
    """An EPUB with `chapters` (file name under OEBPS/ -> XHTML) read in `spine` order.

    `encrypted` lists members an encryption.xml claims are AES-encrypted (DRM), and
    `font_obfuscated` members under IDPF font obfuscation (not DRM).
    """
    ids = {name: f"item{i}" for i, name in enumerate(chapters)}
    manifest = "".join(
        f'<item id="{ids[name]}" href="{name}" media-type="application/xhtml+xml"/>' for name in chapters
    )
    itemrefs = "".join(f'<itemref idref="{ids[name]}"/>' for name in spine)
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">urn:uuid:1234</dc:identifier><dc:title>{escape(title)}</dc:title>'
        "<dc:language>en</dc:language></metadata>"
        f'<manifest><item id="css" href="style.css" media-type="text/css"/>{manifest}</manifest>'
        f"<spine>{itemrefs}</spine></package>"
    )
    container = (
        '<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        if encrypted or font_obfuscated:
            zf.writestr("META-INF/encryption.xml", _encryption_xml(encrypted, font_obfuscated))
        zf.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("OEBPS/style.css", "body { font-family: serif }")
        for name, content in chapters.items():
            data = content.encode("utf-8")
            if name in encrypted:
                data = bytes(b ^ 0xA5 for b in data) + b"\x00\x00"  # stands in for ciphertext
            zf.writestr(f"OEBPS/{name}", data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _encryption_xml(encrypted: Sequence[str], font_obfuscated: Sequence[str]) -> str:
    def entry(uri: str, algorithm: str) -> str:
        return (
            "<enc:EncryptedData>"
            f'<enc:EncryptionMethod Algorithm="{algorithm}"/>'
            f'<enc:CipherData><enc:CipherReference URI="OEBPS/{uri}"/></enc:CipherData>'
            "</enc:EncryptedData>"
        )

    entries = [entry(u, "http://www.w3.org/2001/04/xmlenc#aes128-cbc") for u in encrypted]
    entries += [entry(u, "http://www.idpf.org/2008/embedding") for u in font_obfuscated]
    return (
        '<?xml version="1.0"?>\n<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#">' + "".join(entries) + "</encryption>"
    )


def write_notebook(path: Path, cells: Sequence[tuple[str, str]], metadata: dict | None = None) -> Path:
    """An nbformat-4 notebook; `cells` are (cell_type, source). Code cells get a noisy output."""
    nb_cells = []
    for i, (kind, source) in enumerate(cells):
        cell: dict = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell["execution_count"] = i
            cell["outputs"] = [
                {"output_type": "stream", "name": "stdout", "text": ["epoch 1 loss 0.93\n"] * 3},
                {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}},
            ]
        nb_cells.append(cell)
    notebook = {"cells": nb_cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
