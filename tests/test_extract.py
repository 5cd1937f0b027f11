"""Every supported format gives the text a person reads, and every broken file a clear reason."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from doc_fixtures import (
    docx_paragraph,
    docx_table,
    write_docx,
    write_epub,
    write_notebook,
    xhtml,
)
from search.errors import ExtractError, SkippedFile
from search.ingest.extract import (
    MAX_FILE_BYTES,
    Extracted,
    decode_text,
    extract,
    looks_binary,
    unread_reason,
)

# ---------------------------------------------------------------- which files are read


@pytest.mark.parametrize(
    "name",
    ["README.Debian", "AUTHORS", "sshd_config", "gcc.changelog", "groceries", "notes.weird-ext", "a.txt"],
)
def test_any_text_file_is_read_whatever_its_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(f"the text of {name}\n", encoding="utf-8")
    assert unread_reason(path) is None
    assert extract(path).text == f"the text of {name}\n"


@pytest.mark.parametrize("name", ["photo.txt", "a.png", "noext"])
def test_binary_content_is_found_from_the_first_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 100)
    assert unread_reason(path) == "binary file (contains NUL bytes), not text"


def test_document_containers_are_left_to_their_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.4\n\x00\x01\x02")
    assert unread_reason(path) is None


def test_minified_bundles_and_private_keys_are_not_documents(tmp_path: Path) -> None:
    bundle = tmp_path / "app.js"
    bundle.write_text("var a=1;" * 2000, encoding="utf-8")
    with pytest.raises(SkippedFile, match="minified bundle"):
        extract(bundle)
    code = tmp_path / "app2.js"
    code.write_text("var a = 1;\n" * 2000, encoding="utf-8")
    assert extract(code).text.startswith("var a = 1;")
    key = tmp_path / "deploy_key"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n", encoding="utf-8")
    with pytest.raises(SkippedFile, match="private key"):
        extract(key)


def test_csv_and_json_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name,city\nAnna,Zürich\n", encoding="utf-8")
    (tmp_path / "t.jsonl").write_text('{"q": "llama"}\n{"q": "alpaca"}\n', encoding="utf-8")
    assert extract(tmp_path / "t.csv").text == "name,city\nAnna,Zürich\n"
    assert extract(tmp_path / "t.jsonl").text == '{"q": "llama"}\n{"q": "alpaca"}\n'
    assert extract(tmp_path / "t.csv").title is None


def test_public_api_unchanged() -> None:
    doc = Extracted("one\n\ntwo", [0, 5])
    assert (doc.page_at(0), doc.page_at(6), doc.title) == (1, 2, None)
    assert Extracted("x").page_at(0) is None
    assert MAX_FILE_BYTES == 50_000_000  # MB = 1,000,000 bytes, as the README says


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    with pytest.raises(SkippedFile, match="limit"):
        extract(path, max_bytes=1000)


# ---------------------------------------------------------------- HTML

PAGE = b"""<!DOCTYPE html>
<html><head>
  <meta charset="utf-8"><title>  Sourdough
  notes </title>
  <style>body { color: red } .hidden { display: none }</style>
  <script>var secret = "<p>not text</p>"; trackVisitor();</script>
</head>
<body>
  <nav><a href="/">Home</a></nav>
  <h1>Feeding the   starter</h1>
  <p>Feed it the night
     before &amp; keep it warm.</p><p>Bake at 250&nbsp;&deg;C &mdash; hot.</p>
  <ul><li>flour</li><li>water</li></ul>
  <table><tr><th>Day</th><th>Step</th></tr><tr><td>Mon</td><td>mix</td></tr></table>
  <pre>
def fold():
    return   "dough"</pre>
  <noscript>Please enable JavaScript</noscript>
  <template><p>template text</p></template>
  <svg viewBox="0 0 1 1"><title>icon</title><text>svg text</text></svg>
  <div>one<br>two</div>
  <script type="application/ld+json">{"@type": "Recipe"}</script>
</body></html>"""


def test_html_text_title_and_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE)
    doc = extract(path)
    assert doc.title == "Sourdough notes"
    assert doc.text.startswith("Sourdough notes\n\nFeeding the starter\n\n")  # not the <nav>
    assert "Feed it the night before & keep it warm.\n\nBake at 250 °C — hot.\n\n" in doc.text
    assert "flour\nwater" in doc.text
    assert "Day\tStep\nMon\tmix" in doc.text
    assert 'def fold():\n    return   "dough"' in doc.text  # <pre> keeps its spacing
    assert doc.text.endswith("one\ntwo")
    assert doc.page_starts == []


def test_html_skips_scripts_styles_and_hidden_markup(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes(PAGE)
    text = extract(path).text
    for hidden in ("secret", "trackVisitor", "color", "display", "JavaScript", "template text",
                   "icon", "svg text", "Recipe", "<", "&amp;"):
        assert hidden not in text


def test_html_leaves_out_the_page_chrome(tmp_path: Path) -> None:
    # mdBook's menu bar and theme picker, a site header, navigation and footer around an
    # article that keeps its own header and footer.
    path = tmp_path / "book.html"
    path.write_text(
        '<html><head><title>Temporary files</title></head><body>'
        '<nav id="sidebar"><ol><li>Introduction</li><li>Installation</li></ol></nav>'
        '<div id="menu-bar"><button id="theme-toggle">Themes</button>'
        '<ul id="theme-list" class="theme-popup" role="menu">'
        + "".join(f'<li role="none"><button role="menuitem" class="theme">{t}</button></li>'
                  for t in ("Auto", "Light", "Rust", "Coal", "Navy", "Ayu"))
        + '</ul><div role="search"><input type="search" placeholder="Search this book"></div></div>'
        '<header class="site">Site name</header>'
        '<main><article><header><h1>Temporary files</h1></header><p>Create a temporary directory.<br/>Or a file.</p>'
        '<footer>Written in 2024</footer></article></main>'
        '<div hidden>hidden text</div><span aria-hidden="true">icon</span><svg/>'
        '<footer role="contentinfo">Copyright</footer><p>After the footer.</p></body></html>',
        encoding="utf-8",
    )
    text = extract(path).text
    assert text == "Temporary files\n\nCreate a temporary directory.\nOr a file.\n\nWritten in 2024\n\nAfter the footer."


def test_html_without_head_end_or_title(tmp_path: Path) -> None:
    path = tmp_path / "bare.html"
    path.write_text("<html><head><meta charset=utf-8><p>Just a paragraph.</p>", encoding="utf-8")
    doc = extract(path)
    assert (doc.text, doc.title) == ("Just a paragraph.", None)


def test_html_title_not_repeated_when_body_starts_with_it(tmp_path: Path) -> None:
    path = tmp_path / "t.html"
    path.write_text("<title>Tax checklist</title><h1>Tax checklist</h1><p>W-2 forms.</p>", encoding="utf-8")
    assert extract(path).text == "Tax checklist\n\nW-2 forms."


def test_html_declared_legacy_charset(tmp_path: Path) -> None:
    path = tmp_path / "old.html"
    path.write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        b"<title>Gr\xfc\xdfe</title></head><body><p>Caf\xe9 \x93quoted\x94</p></body></html>"
    )
    doc = extract(path)
    assert doc.title == "Grüße"
    assert "Café “quoted”" in doc.text  # iso-8859-1 means windows-1252, as in browsers


def test_xhtml_with_xml_declaration(tmp_path: Path) -> None:
    path = tmp_path / "c.xhtml"
    path.write_bytes(xhtml("Chapter", "<h2>Über</h2><p>Text</p>").encode("utf-8"))
    doc = extract(path)
    assert doc.title == "Chapter"
    assert doc.text == "Chapter\n\nÜber\n\nText"


# ---------------------------------------------------------------- DOCX


def test_docx_paragraphs_tables_tabs_and_title(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "report.docx",
        [
            docx_paragraph("Quarterly ", "report"),
            docx_paragraph("Name:\tAnna", tab_stops=True),
            docx_paragraph(""),
            docx_paragraph("line one\nline two"),
            docx_table([["Region", "Sales"], ["North", "12 & 3"]]),
            docx_paragraph("The end."),
        ],
        title="Q3 Report",
    )
    doc = extract(path)
    assert doc.title == "Q3 Report"
    assert doc.text == (
        "Quarterly report\n\nName:\tAnna\n\nline one\nline two\n\nRegion\tSales\nNorth\t12 & 3\n\nThe end."
    )


def test_docx_without_core_properties_has_no_title(tmp_path: Path) -> None:
    doc = extract(write_docx(tmp_path / "x.docx", [docx_paragraph("hello")]))
    assert (doc.text, doc.title) == ("hello", None)


def test_docx_skips_deleted_text_field_codes_and_fallback_copies(tmp_path: Path) -> None:
    paragraph = (
        "<w:p><w:r><w:t>kept</w:t></w:r>"
        "<w:del><w:r><w:delText>deleted</w:delText></w:r></w:del>"
        '<w:r><w:instrText xml:space="preserve"> PAGEREF _Toc1 </w:instrText></w:r>'
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        "<mc:Choice><w:r><w:t> boxed</w:t></w:r></mc:Choice>"
        "<mc:Fallback><w:r><w:t> boxed again</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"
    )
    assert extract(write_docx(tmp_path / "x.docx", [paragraph])).text == "kept boxed"


def test_corrupt_docx_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ExtractError, match=r"corrupt DOCX \(not a zip archive\)"):
        extract(path)


def test_docx_without_document_part(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ExtractError, match=r"corrupt DOCX \(no word/document.xml inside\)"):
        extract(path)


def test_docx_with_broken_xml(tmp_path: Path) -> None:
    path = tmp_path / "bad.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document><w:body><w:p>")
    with pytest.raises(ExtractError, match=r"corrupt DOCX \(word/document.xml is not valid XML"):
        extract(path)


def test_password_protected_docx(tmp_path: Path) -> None:
    # Word writes these as OLE compound files; the directory names the encryption streams.
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le"))
    with pytest.raises(ExtractError, match="encrypted DOCX"):
        extract(path)


# ---------------------------------------------------------------- notebooks


def test_notebook_cells_in_order_without_outputs(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "analysis.ipynb",
        [
            ("markdown", "# Churn analysis\n\nWhy customers leave."),
            ("code", "import pandas as pd\ndf = pd.read_csv('churn.csv')"),
            ("code", "   "),
            ("markdown", "## Findings\nPrice matters most."),
        ],
    )
    doc = extract(path)
    assert doc.title == "Churn analysis"
    assert doc.text == (
        "# Churn analysis\n\nWhy customers leave.\n\n"
        "import pandas as pd\ndf = pd.read_csv('churn.csv')\n\n"
        "## Findings\nPrice matters most."
    )
    assert "epoch" not in doc.text and "iVBOR" not in doc.text


def test_notebook_metadata_title_wins_and_string_sources(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({
        "cells": [{"cell_type": "markdown", "source": "# Heading"}, {"cell_type": "raw", "source": "raw text"}],
        "metadata": {"title": "Custom title"}, "nbformat": 4, "nbformat_minor": 5,
    }), encoding="utf-8")
    doc = extract(path)
    assert (doc.text, doc.title) == ("# Heading\n\nraw text", "Custom title")


def test_notebook_without_heading_has_no_title(tmp_path: Path) -> None:
    doc = extract(write_notebook(tmp_path / "n.ipynb", [("code", "print(1)")]))
    assert (doc.text, doc.title) == ("print(1)", None)


@pytest.mark.parametrize(
    ("content", "reason"),
    [('{"cells": [', r"corrupt notebook \(not valid JSON at line 1\)"),
     ("[1, 2]", r"corrupt notebook \(not a Jupyter notebook"),
     ('{"metadata": {}}', r"corrupt notebook \(not a Jupyter notebook")],
)
def test_corrupt_notebook(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExtractError, match=reason):
        extract(path)


# ---------------------------------------------------------------- EPUB

CHAPTERS = {
    "ch1.xhtml": xhtml("A Book", "<h1>Chapter One</h1><p>It was a dark night.</p>"),
    "ch2.xhtml": xhtml("A Book", "<h1>Chapter Two</h1><p>The storm passed.</p><script>x()</script>"),
    "ch3.xhtml": xhtml("A Book", "<h1>Chapter Three</h1><p>Morning came.</p>"),
}


def test_epub_follows_spine_order_and_title(tmp_path: Path) -> None:
    # File names sort ch1, ch2, ch3; the spine says ch3 is the prologue.
    path = write_epub(tmp_path / "book.epub", CHAPTERS, spine=["ch3.xhtml", "ch1.xhtml", "ch2.xhtml"],
                      title="The Long Night")
    doc = extract(path)
    assert doc.title == "The Long Night"
    assert doc.text == (
        "Chapter Three\n\nMorning came.\n\nChapter One\n\nIt was a dark night.\n\n"
        "Chapter Two\n\nThe storm passed."
    )
    assert "A Book" not in doc.text  # chapter <title>s are not text


def test_epub_without_package_falls_back_to_name_order(tmp_path: Path) -> None:
    path = tmp_path / "loose.epub"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("text/b.html", "<p>second</p>")
        zf.writestr("text/a.html", "<p>first</p>")
    doc = extract(path)
    assert (doc.text, doc.title) == ("first\n\nsecond", None)


def test_epub_with_obfuscated_fonts_is_not_drm(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "fonts.epub", CHAPTERS, spine=list(CHAPTERS), font_obfuscated=["font.otf"])
    assert "It was a dark night." in extract(path).text


def test_drm_epub_is_refused(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "drm.epub", CHAPTERS, spine=list(CHAPTERS), encrypted=list(CHAPTERS))
    with pytest.raises(ExtractError, match=r"encrypted EPUB \(DRM"):
        extract(path)


def test_corrupt_epub(tmp_path: Path) -> None:
    path = tmp_path / "broken.epub"
    path.write_bytes(b"PK\x03\x04 truncated nonsense")
    with pytest.raises(ExtractError, match=r"corrupt EPUB \(not a zip archive\)"):
        extract(path)
    empty = tmp_path / "empty.epub"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
    with pytest.raises(ExtractError, match=r"corrupt EPUB \(no chapters inside\)"):
        extract(empty)


# ---------------------------------------------------------------- encodings


def test_utf8_with_and_without_bom(tmp_path: Path) -> None:
    assert decode_text("naïve café".encode("utf-8")) == "naïve café"
    assert decode_text(b"\xef\xbb\xbf" + "naïve café".encode("utf-8")) == "naïve café"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(tmp_path: Path, encoding: str) -> None:
    text = "Grüße — 日本語 notes\nsecond line"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # these codecs write no BOM; add the one Windows writes
        data = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    assert extract(path).text == text
    assert not looks_binary(path)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text", ["Exported from a Windows tool, no BOM at all.\r\n", "Отчёт за квартал: продажи выросли.\r\n"]
)
def test_utf16_without_bom_is_text_not_binary(encoding: str, text: str) -> None:
    data = text.encode(encoding)
    assert not looks_binary(data)
    assert decode_text(data) == text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_western_legacy_encodings(tmp_path: Path, encoding: str) -> None:
    text = "Café crème, naïve façade; Grüße aus München. Ça coûte 5 €." if encoding == "cp1252" else \
        "Café crème, naïve façade; Grüße aus München. Ça coûte cher."
    path = tmp_path / "old.txt"
    path.write_bytes(text.encode(encoding))
    assert extract(path).text == text


def test_cp1252_smart_quotes() -> None:
    assert decode_text("He said “hello” — it’s fine…".encode("cp1252")) == "He said “hello” — it’s fine…"


def test_cyrillic_cp1251() -> None:
    pytest.importorskip("charset_normalizer")
    text = "Привет, мир! Это текст на русском языке в кодировке Windows-1251.\n"
    assert decode_text(text.encode("cp1251")) == text


def test_shift_jis() -> None:
    pytest.importorskip("charset_normalizer")
    text = "日本語のテキストです。東京から京都まで新幹線に乗りました。"
    assert decode_text(text.encode("shift_jis")) == text


def test_utf8_with_a_stray_legacy_byte_stays_utf8() -> None:
    data = "naïve “café” and more UTF-8 text".encode("utf-8") + b" \x93x\x94"
    assert decode_text(data).startswith("naïve “café” and more UTF-8 text")


def test_decoding_never_fails_without_charset_normalizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_cn(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("charset_normalizer"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cn)
    assert decode_text("Grüße aus München".encode("cp1252")) == "Grüße aus München"
    # Every high byte, read as Windows-1252 (its table, not the code's): 0x80 is the euro sign,
    # 0x93/0x94 curly quotes, 0xA0-0xFF Latin-1, and the five bytes it leaves undefined U+FFFD.
    text = decode_text(bytes(range(0x80, 0x100)))
    assert len(text) == 128 and text[0] == "€" and text[0x13:0x15] == "“”"
    assert text[0x20:] == "".join(chr(c) for c in range(0xA0, 0x100))
    assert [0x80 + i for i, ch in enumerate(text) if ch == "\ufffd"] == [0x81, 0x8D, 0x8F, 0x90, 0x9D]


# ---------------------------------------------------------------- binary sniffing


def test_binary_file_with_text_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "program.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    with pytest.raises(SkippedFile, match="binary file"):  # skipped on purpose, not "failed"
        extract(path)


def test_control_byte_soup_without_nul_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "data.log"
    path.write_bytes(bytes([1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 65]) * 100)
    with pytest.raises(ExtractError, match="binary file"):
        extract(path)


def test_html_and_notebook_are_sniffed_too(tmp_path: Path) -> None:
    for name in ("x.html", "x.ipynb", "x.json"):
        path = tmp_path / name
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        with pytest.raises(ExtractError, match="binary file"):
            extract(path)


def test_looks_binary(tmp_path: Path) -> None:
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert looks_binary(bytes(range(256)))
    assert not looks_binary(b"")
    assert not looks_binary("plain text with ANSI \x1b[31mcolour\x1b[0m\tand tabs\n".encode())
    assert not looks_binary("Grüße".encode("cp1252"))
    assert not looks_binary("日本語".encode("utf-8"))
    notes = tmp_path / "NOTES"
    notes.write_text("an extension-less text file", encoding="utf-8")
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00" * 10 + b"text")
    assert not looks_binary(notes) and not looks_binary(str(notes))
    assert looks_binary(blob)
    with pytest.raises(OSError):
        looks_binary(tmp_path / "missing")


def test_text_files_without_extension_are_extracted(tmp_path: Path) -> None:
    path = tmp_path / "NOTES"
    path.write_text("grocery list: eggs", encoding="utf-8")
    assert extract(path).text == "grocery list: eggs"
