"""Text out of EPUB e-books: the chapters in reading (spine) order, through the HTML reader.

A book with a broken package file is still read, chapter files in name order, because a
person would rather find their book with a shuffled chapter than not at all. A book with
DRM is refused with a reason: its chapters are ciphertext.
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from search.errors import ExtractError
from search.ingest.formats.archive import Archive, local_name
from search.ingest.formats.html import read_html

_CHAPTER_EXTENSIONS = (".xhtml", ".html", ".htm")
_CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html"})
# "Font obfuscation" mangles embedded fonts only; it is not DRM and the text stays readable.
_FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_MEDIA_EXTENSIONS = (".ttf", ".otf", ".woff", ".woff2", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def read_epub(path: Path) -> tuple[str, str | None]:
    """(text, title): chapters apart by blank lines; the title from the package's dc:title."""
    with Archive(path, "EPUB") as archive:
        _refuse_drm(archive)
        chapters, title = _spine(archive)
        if not chapters:
            chapters = sorted(
                n for n in archive.names
                if n.lower().endswith(_CHAPTER_EXTENSIONS) and not n.startswith("META-INF/")
            )
        if not chapters:
            raise ExtractError("corrupt EPUB (no chapters inside)")
        parts: list[str] = []
        unreadable = 0
        for name in chapters:
            data = archive.read(name)
            if data is None:
                continue  # a spine entry pointing nowhere: skip it, keep the book
            try:
                text, _ = read_html(data, keep_title=False)
            except ExtractError:
                unreadable += 1  # a binary "chapter"; judged below with the others
                continue
            if text:
                parts.append(text)
    if unreadable and not parts:
        raise ExtractError("unreadable EPUB (its chapters are not text; it may be encrypted)")
    return "\n\n".join(parts), title


def _refuse_drm(archive: Archive) -> None:
    """Raise when META-INF/encryption.xml encrypts more than embedded fonts and images."""
    try:
        encryption = archive.xml("META-INF/encryption.xml")
    except ExtractError:
        return  # an unreadable manifest proves nothing; binary chapters will tell
    if encryption is None:
        return
    for item in encryption.iter():
        if local_name(item.tag) != "EncryptedData":
            continue
        algorithm, uri = "", ""
        for el in item.iter():
            if local_name(el.tag) == "EncryptionMethod":
                algorithm = el.get("Algorithm", "")
            elif local_name(el.tag) == "CipherReference":
                uri = el.get("URI", "")
        if algorithm in _FONT_OBFUSCATION or unquote(uri).lower().endswith(_MEDIA_EXTENSIONS):
            continue
        raise ExtractError("encrypted EPUB (DRM protected); Fathom cannot read it")


def _spine(archive: Archive) -> tuple[list[str], str | None]:
    """Chapter member names in reading order and the book's title; ([], None) when unreadable."""
    try:
        container = archive.xml("META-INF/container.xml")
        opf_name = _rootfile(container) if container is not None else None
        opf = archive.xml(opf_name) if opf_name else None
    except ExtractError:
        return [], None
    if opf is None or opf_name is None:
        return [], None
    base = posixpath.dirname(archive.find(opf_name) or opf_name)
    manifest: dict[str, tuple[str, str]] = {}
    spine: list[str] = []
    title: str | None = None
    for el in opf.iter():
        name = local_name(el.tag)
        if name == "item" and el.get("id") and el.get("href"):
            href = unquote(el.get("href", "").split("#", 1)[0])
            manifest[el.get("id", "")] = (posixpath.normpath(posixpath.join(base, href)), el.get("media-type", ""))
        elif name == "itemref" and el.get("idref"):
            spine.append(el.get("idref", ""))
        elif name == "title" and title is None and (el.text or "").strip():
            title = " ".join((el.text or "").split())
    chapters: list[str] = []
    for idref in spine:
        if idref not in manifest:
            continue
        href, media_type = manifest[idref]
        if media_type in _CHAPTER_TYPES or href.lower().endswith(_CHAPTER_EXTENSIONS):
            member = archive.find(href)
            if member and member not in chapters:
                chapters.append(member)
    return chapters, title


def _rootfile(container: Element) -> str | None:
    rootfiles = [el for el in container.iter() if local_name(el.tag) == "rootfile" and el.get("full-path")]
    for el in rootfiles:
        if el.get("media-type", "application/oebps-package+xml") == "application/oebps-package+xml":
            return el.get("full-path")
    return rootfiles[0].get("full-path") if rootfiles else None
