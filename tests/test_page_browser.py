"""The page in a real Chromium, driven by Playwright, against `python app.py serve` with the
real all-MiniLM-L6-v2: add a folder, wait for indexing, search, download, open Settings.

Debian's chromium is used (Playwright cannot download its own browsers here); `.ci/run`
installs it. Set FATHOM_SCREENSHOTS=DIR to keep the screenshots (the README's comes from
here: FATHOM_SCREENSHOTS=assets).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import CORPUS, FakeEmbedder, write_corpus
from page_server import BEARER, printed_address, start_server, status, stop

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 60_000  # how long the page may take to show something (loading a model, indexing)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        reason = "Chromium is not installed: `apt-get install chromium` (Debian) to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason + "; .ci/run installs it, so CI must have it.")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shoot(page: Any, name: str, tmp_path: Path, keep_it: bool = True) -> None:
    keep = os.environ.get("FATHOM_SCREENSHOTS") if keep_it else None
    target = (ROOT / keep if keep and not Path(keep).is_absolute() else Path(keep or tmp_path)) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))


def field(page: Any, elem_id: str) -> Any:
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def add_folder(browser: Any, url: str, folder: Path) -> Any:
    """A new page at `url` (with the token), which adds `folder` on the Library tab."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, extra_http_headers=BEARER).new_page()
    page.goto(url)
    page.locator("#fathom-to-library").click()
    field(page, "fathom-folder-path").fill(str(folder))
    page.locator("#fathom-add").click()
    return page


def test_add_a_folder_search_download_and_settings(browser: Any, tmp_path: Path, minilm_path: str, isolated_env: Path) -> None:
    from playwright.sync_api import expect

    docs = write_corpus(tmp_path / "docs")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    gradio_default = tmp_path / "gradio-elsewhere"  # where Gradio would keep its copies: it must not
    server, url = start_server("--embedding-model", minilm_path, "--reranker-model", "none", home=tmp_path,
                               env={"GRADIO_TEMP_DIR": str(gradio_default), "FATHOM_TOKEN": ""})
    try:
        # The page's token: made in the data folder, this user's only; the address Fathom
        # prints (and opens) carries it, and the browser gets in without typing anything.
        kept = isolated_env / "page-token"
        token = kept.read_text(encoding="ascii").strip()
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and len(token) >= 32
        address = printed_address(server)
        assert address == f"{url}/?token={token}"
        assert status(f"{url}/config", token=None) == 401 and status(f"{url}/config", token=token) == 200
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.goto(address)
        assert "token" not in page.url  # turned into a cookie, out of the address bar and history
        (cookie,) = context.cookies()
        assert cookie["value"] == token and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # First run: the page says how to begin, and the button leads to the Library.
        expect(page.locator("#fathom-welcome")).to_contain_text("Welcome to Fathom")
        page.locator("#fathom-to-library").click()
        field(page, "fathom-folder-path").fill(str(tmp_path / "nowhere"))
        page.locator("#fathom-add").click()
        expect(page.locator("#fathom-added")).to_contain_text("No folder at")
        field(page, "fathom-folder-path").fill(str(docs))
        page.locator("#fathom-add").click()
        expect(page.locator("#fathom-added")).to_contain_text("Added")
        expect(page.locator("#fathom-folders")).to_contain_text("Watching", timeout=WAIT_MS)
        expect(page.locator("#fathom-progress")).to_contain_text("Up to date")
        expect(page.locator("#fathom-pill-box")).to_contain_text("Ready")

        # Search on Enter: the right file first, as a card, with the time it took.
        page.get_by_role("tab", name="Search").click()
        expect(page.locator("#fathom-welcome")).to_be_hidden()
        query = field(page, "fathom-query")
        query.fill("bread with a dark crust")
        query.press("Enter")
        first = page.locator("#fathom-result-0")
        expect(first.locator(".fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
        expect(first.locator(".fathom-snippet mark").first).to_be_visible()
        expect(page.locator("#fathom-summary")).to_contain_text(" ms")
        shoot(page, "screenshot.png", tmp_path)

        # Download hands over the file itself.
        with page.expect_download() as download:
            first.locator(".fathom-get").click()
        assert Path(download.value.path()).read_bytes() == (docs / "cooking" / "sourdough.md").read_bytes()
        # ... from the one copy there is, this user's only: 0600, in 0700 folders of Fathom's own.
        href = page.locator("#fathom-file a[download]").first.get_attribute("href")
        copy = Path(urllib.parse.unquote(href.split("file=", 1)[1]))
        private = isolated_env / "page-files"
        assert private in copy.parents and stat.S_IMODE(copy.stat().st_mode) == 0o600
        for folder in [private, *[p for p in copy.parents if private in p.parents]]:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert not gradio_default.exists()

        # More like this leaves the file out.
        first.locator(".fathom-like").click()
        expect(page.locator("#fathom-summary")).to_contain_text("Files like sourdough.md")
        expect(page.locator("#fathom-result-0 .fathom-name")).not_to_have_text("sourdough.md")

        # The web server itself serves nothing from the folders, nor anything crafted.
        for crafted in (str(docs / "cooking" / "sourdough.md"), f"{docs}/../secret.txt", "/etc/passwd",
                        str(ROOT / "README.md")):
            assert status(f"{url}/gradio_api/file={crafted}", token=token) in (403, 404), crafted

        # Settings show the model in use and save to the data folder.
        page.get_by_role("tab", name="Settings").click()
        expect(page.locator("#fathom-models")).to_contain_text("ready")
        expect(field(page, "fathom-embedding")).to_have_value(re.compile("all-MiniLM-L6-v2: small, offline"))
        expect(page.locator("#fathom-facts")).to_contain_text(str(isolated_env))
        page.locator("#fathom-save").click()
        expect(page.locator("#fathom-saved")).to_contain_text("Saved")
        saved = json.loads((isolated_env / "settings.json").read_text(encoding="utf-8"))
        assert saved["embedding_model"] == minilm_path and saved["rerank_top"] == 10

        # A phone: nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("tab", name="Search").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "phone.png", tmp_path, keep_it=False)
        context.close()
    finally:
        stop(server)


def test_a_corrected_search_and_the_words_as_typed_one_click_away(browser: Any, tmp_path: Path, minilm_path: str) -> None:
    from playwright.sync_api import expect

    docs = write_corpus(tmp_path / "docs")
    server, url = start_server("--embedding-model", minilm_path, "--reranker-model", "none", home=tmp_path)
    try:
        page = add_folder(browser, url, docs)
        expect(page.locator("#fathom-folders")).to_contain_text("Watching", timeout=WAIT_MS)
        expect(page.locator("#fathom-progress")).to_contain_text("Up to date", timeout=WAIT_MS)
        page.get_by_role("tab", name="Search").click()
        query = field(page, "fathom-query")
        query.fill("sourdogh bred")
        query.press("Enter")
        summary = page.locator("#fathom-summary")
        expect(summary).to_contain_text("Showing results for sourdough bread. Search instead for sourdogh bred",
                                         timeout=WAIT_MS)
        expect(page.locator("#fathom-result-0 .fathom-name")).to_have_text("sourdough.md")
        summary.locator(".fathom-as-typed").click()
        expect(query).to_have_value('"sourdogh" "bred"')
        expect(summary).not_to_contain_text("Showing results for", timeout=WAIT_MS)
        expect(summary).to_contain_text(" ms")
        page.context.close()
    finally:
        stop(server)


def test_a_password_guards_everything(tmp_path: Path, minilm_path: str) -> None:
    credentials = tmp_path / "users.txt"
    credentials.write_text("# Fathom users\nanna:correct-horse\n", encoding="utf-8")
    server, url = start_server("--auth-file", str(credentials), "--embedding-model", minilm_path, "--reranker-model", "none")
    try:
        assert status(f"{url}/config", token=None) == 401
        assert status(f"{url}/gradio_api/file=/etc/passwd", token=None) == 401
        form = urllib.parse.urlencode({"username": "anna", "password": "wrong"}).encode()
        assert status(urllib.request.Request(f"{url}/login", data=form), token=None) in (400, 401)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = urllib.parse.urlencode({"username": "anna", "password": "correct-horse"}).encode()
        assert opener.open(f"{url}/login", data=form, timeout=10).status == 200
        assert opener.open(f"{url}/config", timeout=10).status == 200
    finally:
        stop(server)


class GatedFakeEmbedder(FakeEmbedder):
    """The fake model, held at a gate: the meaning phase waits while the test looks."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def embed_documents(self, texts: Any) -> Any:
        assert self.gate.wait(120)
        return super().embed_documents(texts)

    def embed_queries(self, queries: Any, task: Any = None) -> Any:
        return FakeEmbedder.embed_documents(self, queries)  # a search is never held


def test_the_page_during_the_meaning_phase(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While files wait for their vectors the page says so, where a person looks: the folder
    (embedding N of M), the results (how many wait, results may be incomplete), each card (words
    only); and a query nothing matches well says "no strong match"."""
    from playwright.sync_api import expect

    from page_server import page_in_process
    from search.config import Settings

    docs = write_corpus(tmp_path / "docs")
    model = GatedFakeEmbedder()
    settings = Settings.resolve(data_dir=tmp_path / "data", embedding_model="fake", reranker_model="none")
    with page_in_process(settings, monkeypatch, model) as (rt, _page, url):
        rt.start()
        page = add_folder(browser, url, docs)
        expect(page.locator("#fathom-folders")).to_contain_text("Embedding", timeout=WAIT_MS)
        expect(page.locator("#fathom-folders")).to_contain_text(f"0 of {len(CORPUS)} files searchable by meaning")

        page.get_by_role("tab", name="Search").click()
        query = field(page, "fathom-query")
        query.fill("sourdough starter")
        query.press("Enter")
        first = page.locator("#fathom-result-0")
        expect(first.locator(".fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
        expect(first).to_contain_text("words only, for now")
        expect(page.locator("#fathom-summary .fathom-incomplete")).to_contain_text(
            f"{len(CORPUS)} files not embedded yet")
        shoot(page, "meaning-phase.png", tmp_path, keep_it=False)

        model.gate.set()
        assert rt.library.wait_idle(60)
        query.fill("sourdough starter")
        query.press("Enter")
        expect(first.locator(".fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
        expect(page.locator("#fathom-summary .fathom-incomplete")).to_have_count(0)
        expect(first).not_to_contain_text("words only")

        query.fill("quantum chromodynamics lattice gauge bread")
        query.press("Enter")
        expect(page.locator("#fathom-summary .fathom-no-strong-match")).to_contain_text("No strong match",
                                                                                           timeout=WAIT_MS)
        expect(first).to_contain_text("weak match")
        page.context.close()
