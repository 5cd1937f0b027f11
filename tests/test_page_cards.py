"""A result card's Open, Open folder and Preview, without a browser: the command Fathom would
run (never run here), who may open, and the passage shown in its document."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import write_corpus
from search.config import Settings
from search.page import card_actions, folder_actions, search_actions
from search.page.open_file import Desktop, Opening, local_person, open_command, passage_line
from search.page.preview import preview, stitched
from search.page.runtime import Runtime
from storage import StoredChunk


def desktop(system: str = "Linux", env: dict[str, str] | None = None, installed: tuple[str, ...] = ("xdg-open",),
            pdf_app: str | None = None) -> Desktop:
    return Desktop(system, env or {}, lambda name: f"/usr/bin/{name}" if Path(name).name in installed else None,
                   lambda: pdf_app)


def test_the_command_that_opens_a_file_at_its_page_or_line() -> None:
    plain = open_command("/d/a.md", desktop())
    assert plain.command == ["xdg-open", "/d/a.md"] and not plain.missed
    # an editor with a window that takes a line
    code = open_command("/d/x.py", desktop(env={"VISUAL": "code --wait"}, installed=("code", "xdg-open")), line=12)
    assert code.command == ["code", "-g", "/d/x.py:12"] and code.at == "at line 12"
    gedit = open_command("/d/x.py", desktop(env={"EDITOR": "/usr/bin/gedit"}, installed=("gedit",)), line=3)
    assert gedit.command == ["/usr/bin/gedit", "+3", "/d/x.py"]
    # a terminal editor cannot show a window from a server: the default app, and it says so
    vim = open_command("/d/x.py", desktop(env={"VISUAL": "vim"}, installed=("vim", "xdg-open")), line=12)
    assert vim.command == ["xdg-open", "/d/x.py"] and "line 12" in vim.missed and not vim.at
    # a PDF at its page, where the desktop's PDF app takes one
    evince = open_command("/d/r.pdf", desktop(pdf_app="org.gnome.Evince.desktop"), page=4)
    assert evince.command == ["evince", "--page-index=4", "/d/r.pdf"] and evince.at == "at page 4"
    other = open_command("/d/r.pdf", desktop(pdf_app="firefox.desktop"), page=4)
    assert other.command == ["xdg-open", "/d/r.pdf"] and "page 4" in other.missed
    # the folder: with the file selected where the file manager can
    assert open_command("/d/sub/r.pdf", desktop(), folder=True).command == ["xdg-open", "/d/sub"]
    assert open_command("/d/r.pdf", desktop("Darwin"), folder=True).command == ["open", "-R", "/d/r.pdf"]
    assert open_command("/d/r.pdf", desktop("Darwin"), page=2).command == ["open", "/d/r.pdf"]
    assert open_command("C:\\d\\r.pdf", desktop("Windows"), folder=True).command == ["explorer", "/select,C:\\d\\r.pdf"]
    windows = open_command("C:\\d\\r.pdf", desktop("Windows"))
    assert windows.command is None and windows.target == "C:\\d\\r.pdf"  # os.startfile
    assert "xdg-utils" in open_command("/d/a.md", desktop(installed=())).problem


def test_only_a_person_at_this_computer_may_open() -> None:
    assert local_person("127.0.0.1", "127.0.0.1:7860", {})
    assert local_person("::1", "[::1]:7860", {})
    assert local_person("127.0.0.1", "localhost:7860", {})
    assert not local_person("127.0.0.1", "abcd.gradio.live", {})  # the share link's tunnel
    assert not local_person("192.168.1.9", "192.168.1.5:7860", {})  # another computer
    assert not local_person("127.0.0.1", "127.0.0.1:7860", {"X-Forwarded-For": "10.0.0.3"})  # a proxy
    assert not local_person(None, "127.0.0.1:7860", {})


def test_the_line_of_a_passage(tmp_path: Path) -> None:
    code = tmp_path / "x.py"
    code.write_text("a = 1\nb = 2\n\ndef f():\n    return 3\n", encoding="utf-8")
    start = code.read_text().index("def f")
    assert passage_line(code, start, "def f():") == 4
    assert passage_line(code, start, "something else") is None  # changed since it was indexed
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF")
    assert passage_line(pdf, 0, "%PDF") is None  # a PDF's text is not its bytes


def test_preview_marks_the_passage_among_its_neighbours() -> None:
    text = "".join(f"line {i} of the notes\n" for i in range(1, 400))
    chunks = []
    for i, at in enumerate(range(0, len(text), 700)):  # overlapping windows, trimmed as chunk.py trims
        piece = text[at : at + 900]
        begin = at + len(piece) - len(piece.lstrip())
        chunks.append(StoredChunk(i, begin, begin + len(piece.strip()), None, piece.strip()))
    whole, begin = stitched(chunks, 0, len(text))
    assert whole == text.strip() and begin == 0  # overlaps taken once
    start = text.index("line 200 ")
    html = preview("/d/notes.txt", chunks, start, start + len("line 200 of the notes"), None, line=200)
    assert '<mark class="fathom-passage">line 200 of the notes</mark>' in html
    assert "line 170 of the notes" in html and "line 230 of the notes" in html
    assert "line 20 of" not in html and "around line 200" in html
    assert "<b>notes.txt</b>" in html
    words = ["First page about the harbour.", "Second page: the lamp.", "More of the second page here.", "Third page."]
    pages, at = [], 0
    for i, (piece, page) in enumerate(zip(words, (1, 2, 2, 3))):
        pages.append(StoredChunk(i, at, at + len(piece), page, piece))
        at += len(piece) + 2  # the trimmed whitespace between
    start = pages[2].start
    html = preview("/d/r.pdf", pages, start, start + len(words[2]), 2)
    assert "page 2" in html and "Second page: the lamp." in html
    assert '<mark class="fathom-passage">More of the second page here.</mark>' in html
    assert "First page" not in html and "Third page" not in html
    assert "<script>" not in preview("/d/<script>.txt", [StoredChunk(0, 0, 8, None, "<script>")], 0, 8, None)


@pytest.fixture
def runtime(minilm_path: str, minilm: Any) -> Iterator[Runtime]:
    rt = Runtime(Settings.resolve(embedding_model=minilm_path, reranker_model="none"), embedder=minilm).start()
    assert rt.loader.wait(60)
    yield rt
    rt.close()


def test_open_and_preview_a_result(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    lines = [f"def helper_{i}(value):\n    return value + {i}\n" for i in range(150)]
    lines.append("def parse_invoice_total(invoice):\n    return sum(line.amount for line in invoice.lines)\n")
    (docs / "code" / "long.py").write_text("\n".join(lines), encoding="utf-8")
    ok, words = folder_actions.add_folder(runtime, str(docs))
    assert ok and runtime.library.wait_idle(60)
    found = search_actions.search(runtime, search_actions.SearchForm(query="parse_invoice_total", mode="keyword")).results
    result = next(r for r in found if r["path"].endswith("long.py"))
    ran: list[Opening] = []
    ok, words = card_actions.open_on_desktop(
        runtime, result, folder=False, local=True, run=lambda o: ran.append(o) or "",
        desktop=desktop(env={"VISUAL": "code"}, installed=("code", "xdg-open")),
    )
    path, line = ran[-1].command[2].rsplit(":", 1)
    assert ran[-1].command[:2] == ["code", "-g"] and path == str(docs / "code" / "long.py") and int(line) > 100
    source = (docs / "code" / "long.py").read_text(encoding="utf-8").split("\n")
    assert source[int(line) - 1].endswith(result["text"].split("\n")[0])  # the line the passage starts in
    assert ok and words == f"Opened long.py at line {line}."
    card_actions.open_on_desktop(runtime, result, folder=True, local=True, run=lambda o: ran.append(o) or "",
                                 desktop=desktop())
    assert ran[-1].command == ["xdg-open", str(docs / "code")]
    # nobody else: not behind a share link, not from another computer, not a crafted path
    before = len(ran)
    assert card_actions.open_on_desktop(runtime, result, False, local=False, run=ran.append) == (
        False, card_actions.NOT_HERE)
    crafted = {**result, "path": str(docs / ".." / ".." / "etc" / "passwd")}
    ok, words = card_actions.open_on_desktop(runtime, crafted, False, True, run=ran.append)
    assert not ok and "cannot be opened" in words
    assert len(ran) == before
    html = card_actions.preview_of(runtime, result)
    assert "long.py" in html and f"around line {line}" in html
    assert '<mark class="fathom-passage">' in html and "parse_invoice_total" in html
    assert f"def helper_{140}(value)" in html  # the text before the passage


def test_the_store_gives_a_files_chunks_in_order(database: Any) -> None:
    """What a preview is made from, on both backends: every chunk of an indexed file, in order,
    with its offsets and page; nothing for a file that is not indexed."""
    from storage import ChunkRow, open_store

    with open_store(database) as store:
        folder = store.add_folder("/docs")
        rows = [ChunkRow(1, 40, 70, 2, "second part of the report"), ChunkRow(0, 0, 39, 1, "first part of the report")]
        store.write_file(folder.id, "/docs/r.pdf", 10, 1, "h", rows)
        assert store.file_chunks("/docs/r.pdf") == [
            StoredChunk(0, 0, 39, 1, "first part of the report"), StoredChunk(1, 40, 70, 2, "second part of the report"),
        ]
        store.record_failure(folder.id, "/docs/broken.pdf", 10, 1, None, "encrypted")
        assert store.file_chunks("/docs/broken.pdf") == [] and store.file_chunks("/elsewhere") == []
