"""Readable text out of HTML (web pages saved to disk, EPUB chapters) with the stdlib parser.

Only what a reader sees is kept: scripts, styles, templates and inline SVG would fill chunks
with code. Nor the page's chrome, the same on every page of a site and no part of what it
says: navigation, menus, buttons, theme pickers, search boxes, and the site's header and footer
(a header or footer inside an article or <main> is the article's own, and stays). Block
elements become line breaks so paragraphs stay apart, which is also where the chunker prefers
to cut.
"""
from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from search.errors import ExtractError
from search.ingest.formats.text import decode_text

# Elements whose content is never shown as text.
_SKIP = frozenset({"script", "style", "noscript", "template", "svg"})
# The page's chrome: elements, and ARIA roles, skipped with all they hold; header, footer and
# aside only outside an article or <main> (inside, they belong to it).
_CHROME = frozenset({"nav", "button", "select", "menu", "dialog"})
_CHROME_OUTSIDE_CONTENT = frozenset({"header", "footer", "aside"})
_CHROME_ROLES = frozenset(
    "navigation banner contentinfo menu menubar menuitem search toolbar complementary dialog".split()
)
_CONTENT = frozenset({"article", "main"})
# Elements that may sit in <head>; any other start tag means the body has begun.
_HEAD_TAGS = frozenset({"head", "title", "meta", "link", "base", "script", "style", "noscript", "template"})
# Paragraph-like blocks end with a blank line, the lighter ones with a line break.
_PARAGRAPHS = frozenset(
    """p h1 h2 h3 h4 h5 h6 section article aside header footer nav main pre blockquote figure
    figcaption table ul ol dl form fieldset address details hr body""".split()
)
_LINES = frozenset("br div li dt dd tr caption summary legend option".split())
_CELLS = frozenset({"td", "th"})
_PREFORMATTED = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})

_WHITESPACE = re.compile(r"\s+")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_CHARSET_META = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_CHARSET_XML = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:\-]+)", re.I)


def read_html(data: bytes, keep_title: bool = True) -> tuple[str, str | None]:
    """(text, title) of an HTML document.

    With `keep_title` the <title> also opens the text when the body does not already start
    with it, so a page is found by its title words even before chunks are headed by titles.
    EPUB chapters pass False: their <title> is usually the book's name, repeated each chapter.
    """
    text, title = html_to_text(decode_html(data))
    if keep_title and title and not text.startswith(title):
        text = f"{title}\n\n{text}" if text else title
    return text, title


def decode_html(data: bytes) -> str:
    """Bytes to str the way browsers mostly do: BOM, valid UTF-8, the declared charset, a guess.

    Valid UTF-8 goes before the declaration because pages re-saved by an editor often keep a
    stale `charset=iso-8859-1` that no longer matches their bytes.
    """
    return decode_text(data, declared=_declared_charset(data[:4096]))


def html_to_text(markup: str) -> tuple[str, str | None]:
    """(text, title) of already decoded HTML; never raises on malformed markup."""
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except Exception as exc:  # html.parser is lenient, but a parser bug must not cost the file
        raise ExtractError(f"unreadable HTML ({exc.__class__.__name__}: {exc})") from exc
    return parser.text(), parser.title()


def _declared_charset(head: bytes) -> str | None:
    match = _CHARSET_META.search(head) or _CHARSET_XML.search(head)
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # WHATWG: these labels mean windows-1252; a UTF-16 label on bytes without a BOM means UTF-8.
    if name in {"latin-1", "iso8859-1", "ascii"}:
        return "cp1252"
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out = _Writer()
        self._skip = 0
        self._chrome: tuple[str, int] | None = None  # the chrome element skipped, and its depth
        self._content = 0  # open article and main elements
        self._pre = 0
        self._in_head = False
        self._in_title = False
        self._title: list[str] = []
        self._title_done = False

    def _is_chrome(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        found = dict(attrs)
        roles = set((found.get("role") or "").lower().split())
        if roles & {"main", "article"}:
            return False
        return (
            tag in _CHROME
            or (tag in _CHROME_OUTSIDE_CONTENT and not self._content)
            or bool(roles & _CHROME_ROLES)
            or (found.get("aria-hidden") or "").lower() == "true"
            or "hidden" in found
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._chrome is not None:
            if tag == self._chrome[0]:
                self._chrome = (tag, self._chrome[1] + 1)
            return
        if tag not in _SKIP and not self._skip and tag not in _HEAD_TAGS and tag != "html" and self._is_chrome(tag, attrs):
            self._chrome = (tag, 1)
            return
        if tag in _CONTENT:
            self._content += 1
        if tag in _SKIP:
            self._skip += 1
        if self._skip:
            return
        if tag == "head":
            self._in_head = True
        elif tag not in _HEAD_TAGS:
            self._in_head = False  # </head> is optional
        if tag == "title" and not self._title_done:
            self._in_title = True
        elif tag in _CELLS:
            self._out.cell()
        elif tag in _PARAGRAPHS:
            self._out.block(2)
        elif tag in _LINES:
            self._out.block(1)
        if tag in _PREFORMATTED:
            self._pre += 1
            self._out.pre_start()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._chrome is None and not (tag not in _SKIP and self._is_chrome(tag, attrs)):
            self.handle_starttag(tag, attrs)  # a chrome element that closes itself holds nothing
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._chrome is not None:
            if tag == self._chrome[0]:
                depth = self._chrome[1] - 1
                self._chrome = (tag, depth) if depth else None
            return
        if tag in _CONTENT:
            self._content = max(0, self._content - 1)
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "head":
            self._in_head = False
        elif tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
        elif tag in _PARAGRAPHS:
            self._out.block(2)
        elif tag in _LINES and tag != "br":
            self._out.block(1)
        if tag in _PREFORMATTED:
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip or self._chrome is not None:
            return
        if self._in_title:
            self._title.append(data)
        elif not self._in_head:
            self._out.text(data, preformatted=self._pre > 0)

    def text(self) -> str:
        return self._out.result()

    def title(self) -> str | None:
        title = " ".join("".join(self._title).split())
        return title or None


class _Writer:
    """Collects text, collapsing whitespace outside <pre> and merging adjacent line breaks."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pending = 0  # line breaks owed before the next text
        self._line_start = True
        self._space = False
        self._pre_fresh = False

    def text(self, data: str, preformatted: bool) -> None:
        if preformatted:
            if self._pre_fresh and data.startswith("\n"):
                data = data[1:]  # the newline right after <pre> is not content
            self._pre_fresh = False
        else:
            data = _WHITESPACE.sub(" ", data)
            if self._line_start or self._space:
                data = data.lstrip(" ")
        if not data:
            return
        if self._pending:
            self._parts.append("\n" * self._pending)
            self._pending = 0
        self._parts.append(data)
        self._line_start = data.endswith("\n")
        self._space = data.endswith(" ")

    def block(self, breaks: int) -> None:
        if self._parts:
            self._pending = max(self._pending, breaks)
            self._line_start = True

    def cell(self) -> None:
        if not self._line_start and not self._pending:
            self._parts.append("\t")
            self._space = True

    def pre_start(self) -> None:
        self._pre_fresh = True

    def result(self) -> str:
        text = _TRAILING_SPACE.sub("\n", "".join(self._parts))
        return text.strip()
