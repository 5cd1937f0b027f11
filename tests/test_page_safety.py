"""What Fathom's page refuses, over real HTTP: names it was not given (DNS rebinding), requests
sent by other web pages, uploads, files outside its own copies, guessed passwords; and what it
keeps to itself: nothing of the index before login, download copies only this user can read,
gone when Fathom stops. The rules themselves (no web server) are at the end."""
from __future__ import annotations

import json
import os
import signal
import stat
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import run_cli, write_corpus
from page_server import BEARER, TOKEN, page_in_process, request, start_server, stop
from search.config import Settings
from search.errors import FathomError
from search.page import folder_actions, settings_actions
from search.page.access import (
    LoginAttempts,
    allowed_host_names,
    bind_name,
    check_exposure,
    credentials,
    host_name,
    host_names,
    same_origin,
)
from search.page.runtime import Runtime

LONG = "a-long-enough-passphrase"  # 24 characters


def join_body(config: dict[str, Any], session: str = "safety-test") -> str:
    """A queue/join request for one of the page's own events that needs no input (a button
    that only hides a row): what any page would send to run something."""
    dependency = next(d for d in config["dependencies"] if d.get("backend_fn") and not d["inputs"])
    return json.dumps({
        "data": [], "event_data": None, "fn_index": dependency["id"],
        "trigger_id": dependency["targets"][0][0], "session_hash": session,
    })


def five_requests(url: str, host: str, origin: str | None = None) -> list[int]:
    """The page, its config, its API description, the queue's status and a queue/join."""
    statuses = [request(url, path, host=host, origin=origin)[0]
                for path in ("/", "/config", "/gradio_api/info", "/gradio_api/queue/status")]
    _, _, config = request(url, "/config")
    statuses.append(request(url, "/gradio_api/queue/join", "POST", host=host, origin=origin,
                            body=join_body(json.loads(config)),
                            headers={"Content-Type": "application/json"})[0])
    return statuses


# -- a page started without a password, as `python app.py serve` ---------------------------------


@pytest.fixture(scope="module")
def passwordless_page(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Iterator[tuple[str, Path, Path]]:
    """(URL, data folder, an indexed-looking folder), with Gradio's variables set to open
    both folders to its file route and to keep its copies elsewhere."""
    base = tmp_path_factory.mktemp("open-page")
    data, docs = base / "data", write_corpus(base / "docs")
    env = {
        "FATHOM_DATA_DIR": str(data),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ALLOWED_PATHS": f"{data},{docs}",
        "GRADIO_TEMP_DIR": str(base / "gradio-elsewhere"),
        "GRADIO_VIBE_MODE": "1",  # a stray developer setting: opens the file below to anyone
        "GRADIO_WATCH_DEMO_PATH": str(docs / "finance" / "taxes.txt"),
    }
    for name in ("FATHOM_AUTH", "FATHOM_ALLOWED_HOSTS"):
        env[name] = ""
    server, url = start_server("--embedding-model", minilm_path, "--reranker-model", "none", env=env)
    try:
        yield url, data, docs
    finally:
        stop(server)


def test_a_foreign_host_gets_nothing(passwordless_page: tuple[str, Path, Path]) -> None:
    url, _, _ = passwordless_page
    port = url.rsplit(":", 1)[1]
    assert five_requests(url, f"evil.example:{port}") == [400] * 5  # 0 of 5 served
    assert five_requests(url, "evil.example") == [400] * 5
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert five_requests(url, host) == [200] * 5, host


def test_a_request_from_another_web_page_is_refused(passwordless_page: tuple[str, Path, Path]) -> None:
    url, _, _ = passwordless_page
    port = int(url.rsplit(":", 1)[1])
    own = f"127.0.0.1:{port}"
    for origin in (f"http://evil.example:{port}", "http://evil.example", f"http://localhost:{port + 1}",
                   f"http://127.0.0.1:{port + 1}", "null", "file://"):
        statuses = five_requests(url, own, origin=origin)
        assert statuses == [403] * 5, (origin, statuses)
    code, _, reason = request(url, "/gradio_api/queue/join", "POST", host=own, origin="http://evil.example", body="{}")
    assert code == 403 and "another web page" in reason
    assert five_requests(url, own, origin=f"http://{own}") == [200] * 5  # the page itself
    assert five_requests(url, f"localhost:{port}", origin=f"http://localhost:{port}") == [200] * 5
    assert five_requests(url, own) == [200] * 5  # no Origin: curl, a script


def test_uploads_are_refused(passwordless_page: tuple[str, Path, Path]) -> None:
    url, data, _ = passwordless_page
    boundary = "fathom-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n")
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    for path in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/process_recording"):
        code, _, reason = request(url, path, "POST", body=body, headers=headers)
        assert code == 403 and "no uploads" in reason, path
    empty = f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"e.txt\"\r\n\r\n\r\n--{boundary}--\r\n"
    assert request(url, "/gradio_api/upload", "POST", body=empty, headers=headers)[0] == 403
    assert not list(data.rglob("x.txt")) and not list(data.rglob("e.txt"))


def test_gradio_vibe_mode_stays_off(passwordless_page: tuple[str, Path, Path]) -> None:
    """GRADIO_VIBE_MODE and GRADIO_WATCH_DEMO_PATH would let whoever reaches the page read and
    write the file named there, signed in or not: Fathom turns them off."""
    url, _, docs = passwordless_page
    before = (docs / "finance" / "taxes.txt").read_text(encoding="utf-8")
    code, _, body = request(url, "/gradio_api/vibe-code")
    assert code in (403, 404) and before[:40] not in body
    code, _, _ = request(url, "/gradio_api/vibe-code", "POST", body=json.dumps({"code": "overwritten"}),
                         headers={"Content-Type": "application/json"})
    assert code in (403, 404) and (docs / "finance" / "taxes.txt").read_text(encoding="utf-8") == before
    _, _, config = request(url, "/config")
    assert json.loads(config).get("vibe_mode") in (False, None)


def test_gradio_variables_do_not_open_the_file_route(passwordless_page: tuple[str, Path, Path]) -> None:
    """GRADIO_ALLOWED_PATHS names the data folder and an indexed folder: neither is served,
    and GRADIO_TEMP_DIR does not move where Gradio keeps files."""
    url, data, docs = passwordless_page
    assert (data / "fathom.db").is_file()
    for path in (data / "fathom.db", data / "fathom.db-wal", docs / "pets" / "cat.txt", data):
        for route in ("/gradio_api/file=", "/gradio_api/file/"):
            code, _, body = request(url, f"{route}{path}")
            assert code in (403, 404), (route, path, code)
            assert "SQLite" not in body and "vaccination" not in body
    assert not (data.parent / "gradio-elsewhere").exists()


# -- the page's token --------------------------------------------------------------------------------


def test_without_the_token_nothing_answers(passwordless_page: tuple[str, Path, Path]) -> None:
    """Another user of this computer reaches 127.0.0.1 too: without the token, 401 on every
    route (the landing page says how to get in); with it, as a script sends it, 200."""
    url, data, _ = passwordless_page
    routes = ("/config", "/gradio_api/info", "/gradio_api/openapi.json", "/gradio_api/queue/status", "/theme.css",
              "/gradio_api/startup-events", f"/gradio_api/file={data / 'fathom.db'}", "/gradio_api/mcp/")
    for path in routes:
        assert request(url, path, token=None)[0] == 401, path
        assert request(url, path, token="a-wrong-token-of-some-length")[0] == 401, path
        assert request(url, path, headers={"Cookie": f"fathom-token-1={TOKEN}"}, token=None)[0] == 401, path
    code, _, body = request(url, "/", token=None)
    assert code == 401 and "needs its token" in body and TOKEN not in body and str(data) not in body
    assert request(url, "/gradio_api/queue/join", "POST", body="{}", token=None)[0] == 401
    for path in ("/config", "/gradio_api/info"):
        assert request(url, path)[0] == 200, path  # Authorization: Bearer $FATHOM_TOKEN
        assert request(url, path, token=None, headers={"Authorization": f"bearer  {TOKEN} "})[0] == 200


def test_the_address_with_the_token_becomes_a_cookie(passwordless_page: tuple[str, Path, Path]) -> None:
    url, _, _ = passwordless_page
    port = url.rsplit(":", 1)[1]
    code, headers, _ = request(url, f"/?token={TOKEN}&view=library", token=None)
    assert code == 303 and headers["location"] == "/?view=library"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"fathom-token-{port}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert request(url, "/config", token=None, headers={"Cookie": f"other=1; fathom-token-{port}={TOKEN}"})[0] == 200
    assert request(url, "/", token=None, headers={"Cookie": f"fathom-token-{port}={TOKEN}"})[0] == 200
    assert request(url, "/?token=wrong-token-of-some-length", token=None)[0] == 401
    assert request(url, f"//evil.example/?token={TOKEN}", token=None)[1].get("location", "/").startswith("/")
    assert not request(url, f"//evil.example/?token={TOKEN}", token=None)[1].get("location", "/").startswith("//")


def test_routes_mounted_later_need_the_token_too(monkeypatch: pytest.MonkeyPatch, fake_embedder: Any) -> None:
    """A route added to the page's app after it started (an MCP server, say) is behind the
    same check, with a password or without; Runtime.carries_token tells the route itself."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    seen: list[bool] = []

    def mounted(rt: Any) -> Mount:
        async def hello(request: Any) -> PlainTextResponse:
            seen.append(rt.carries_token(request.scope))
            return PlainTextResponse("mounted later")
        return Mount("/later", routes=[Route("/hello", hello)])

    settings = Settings.resolve(embedding_model="fake", reranker_model="none")
    for auth in (None, [("anna", LONG)]):
        with page_in_process(settings, monkeypatch, fake_embedder, auth=auth) as (rt, page, url):
            page.app.router.routes.insert(0, mounted(rt))
            assert request(url, "/later/hello", token=None)[0] == 401, auth
            code, _, body = request(url, "/later/hello")
            assert code == 200 and body == "mounted later" and seen[-1], auth
            if auth:  # the password sign-in works as before, and the token signs in as well
                assert request(url, "/config", token=None)[0] == 401
                assert request(url, "/config")[0] == 200
                assert login(url, LONG)[0] == 200


def test_the_token_is_kept_private_and_can_be_set(tmp_path: Path) -> None:
    from search.page.token import page_token

    data = tmp_path / "data"
    old = os.umask(0)
    try:
        token = page_token(data, env={})
    finally:
        os.umask(old)
    kept = data / "page-token"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and len(token) >= 32
    assert page_token(data, env={}) == token  # the same after a restart
    assert page_token(data, env={"FATHOM_TOKEN": "my-own-token-0123456789"}) == "my-own-token-0123456789"
    kept.chmod(0o644)  # readable by others: no longer a secret, so a new one
    fresh = page_token(data, env={})
    assert fresh != token and stat.S_IMODE(kept.stat().st_mode) == 0o600
    with pytest.raises(FathomError, match="at least 16"):
        page_token(data, env={"FATHOM_TOKEN": "short"})


# -- nothing of the index before login ---------------------------------------------------------------


def test_the_login_page_shows_nothing_of_the_index(tmp_path: Path, minilm_path: str, minilm: Any, isolated_env: Path) -> None:
    docs = write_corpus(tmp_path / "private-docs")
    settings = Settings.resolve(embedding_model=minilm_path, reranker_model="none")
    rt = Runtime(settings, embedder=minilm).start()
    try:
        assert rt.loader.wait(60)
        assert folder_actions.add_folder(rt, str(docs))[0] and rt.library.wait_idle(60)
        settings_actions.save(rt, settings_actions.SettingsForm(minilm_path, "none", "cpu", None, 7))
    finally:
        rt.close()
    server, url = start_server("--embedding-model", minilm_path, "--reranker-model", "none",
                               env={"FATHOM_AUTH": f"anna:{LONG}"})
    try:
        for path in ("/", "/?page=", "/config", "/gradio_api/info", "/gradio_api/openapi.json", "/gradio_api/queue/status"):
            code, _, body = request(url, path, token=None)
            for secret in (str(docs), "private-docs", minilm_path, str(isolated_env), "fathom-data", "sourdough"):
                assert secret not in body, (path, secret)
            if path == "/":
                assert code == 200 and '"auth_required":true' in body.replace(" ", "")
    finally:
        stop(server)


# -- guessing passwords -----------------------------------------------------------------------------------


def login(url: str, password: str, forwarded_for: str | None = None, **kw: Any) -> tuple[int, dict[str, str], str, float]:
    began = time.monotonic()
    body = f"username=anna&password={password}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    code, headers, text = request(url, "/login", "POST", body=body, headers=headers, token=None, **kw)
    return code, headers, text, time.monotonic() - began


def test_wrong_passwords_are_slowed_then_locked_out(monkeypatch: pytest.MonkeyPatch, fake_embedder: Any) -> None:
    attempts = LoginAttempts(backoff=0.3, backoff_max=0.6, lock_after=3, lock_for=2.0)
    settings = Settings.resolve(embedding_model="fake", reranker_model="none")
    with page_in_process(settings, monkeypatch, fake_embedder, auth=[("anna", "right")], attempts=attempts) as (_, _, url):
        code, _, _, took = login(url, "wrong-1")
        assert code == 400 and took >= 0.3

        # While one answer is held back, the same client may not try another password.
        second: list[tuple[int, float]] = []
        worker = threading.Thread(target=lambda: second.append(login(url, "wrong-2")[::3]))
        worker.start()
        time.sleep(0.15)
        code, headers, text, _ = login(url, "right")
        worker.join()
        assert code == 429 and "One sign-in at a time" in text
        assert second[0][0] == 400 and second[0][1] >= 0.6
        code, _, _, took = login(url, "wrong-3")
        assert code == 400 and took >= 0.6

        # Three wrong in a row: locked, even with the right password (50 tries no longer fit).
        code, headers, text, _ = login(url, "right")
        assert code == 429 and "Too many wrong passwords" in text and int(headers["retry-after"]) >= 1
        try:  # another client (another address on this computer) is not locked out
            assert login(url, "right", source="127.0.0.2")[0] == 200
        except OSError:
            pass  # no 127.0.0.2 here (macOS): the per-client count is checked below, without HTTP
        time.sleep(2.1)
        assert login(url, "right")[0] == 200


def test_a_slow_sign_in_holds_no_one_else_up_and_one_name_locks_only_itself(
    monkeypatch: pytest.MonkeyPatch, fake_embedder: Any
) -> None:
    """A sign-in that announces 1,000 bytes and sends 11 used to hold the sign-in turn for as
    long as its connection lasted (everyone got 429); ten wrong passwords for any name locked
    out the whole address, the right user included."""
    import socket
    from urllib.parse import urlsplit

    attempts = LoginAttempts(backoff=0.01, backoff_max=0.01, lock_after=2, lock_for=60, body_timeout=1.0)
    settings = Settings.resolve(embedding_model="fake", reranker_model="none")
    with page_in_process(settings, monkeypatch, fake_embedder, auth=[("anna", LONG)], attempts=attempts) as (_, _, url):
        where = urlsplit(url)
        slow = socket.create_connection((where.hostname, where.port))
        try:
            slow.sendall(f"POST /login HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Length: 1000\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=an".encode())
            time.sleep(0.3)
            code, _, _, took = login(url, LONG)
            assert code == 200 and took < 1.0  # not 429, and not held up by the slow one
            slow.settimeout(5)
            assert b" 408 " in slow.recv(4096).split(b"\r\n", 1)[0] + b" "  # it is sent away after 1 s
        finally:
            slow.close()
        # Guessing another name locks that name, not anna (same address).
        for _ in range(2):
            assert request(url, "/login", "POST", body=f"username=bob&password=guess", token=None,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 400
        assert request(url, "/login", "POST", body="username=bob&password=guess", token=None,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 429
        assert login(url, LONG)[0] == 200
        # Gradio's page sends the form as multipart: the name is read from there too.
        boundary = "fathom-login"
        form = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                       for k, v in (("username", "bob"), ("password", LONG))) + f"--{boundary}--\r\n"
        assert request(url, "/login", "POST", body=form, token=None,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})[0] == 429


def test_the_share_link_works_and_its_name_only(monkeypatch: pytest.MonkeyPatch, fake_embedder: Any) -> None:
    """No network here: Gradio's tunnel is replaced by one that hands back a link's address;
    requests through the real tunnel carry that name in Host."""
    import gradio.networking

    link = "abc123def.gradio.live"
    monkeypatch.setattr(gradio.networking, "setup_tunnel", lambda **kw: f"https://{link}")
    attempts = LoginAttempts(backoff=0.01, backoff_max=0.01, lock_after=2, lock_for=60)
    settings = Settings.resolve(embedding_model="fake", reranker_model="none")
    with page_in_process(settings, monkeypatch, fake_embedder, share=True, auth=[("anna", LONG)],
                         attempts=attempts) as (_, page, url):
        assert page.share_url == f"https://{link}"
        assert request(url, "/", host=link)[0] == 200
        assert request(url, "/", host="someone-else.gradio.live")[0] == 400
        assert login(url, LONG, host=link, origin=f"https://{link}")[0] == 200
        assert login(url, LONG, host=link, origin="https://evil.example")[0] == 403
        # Everyone through the link counts as one client: guessing there locks the link, not this computer.
        assert [login(url, "wrong", host=link)[0] for _ in range(2)] == [400, 400]
        assert login(url, LONG, host=link)[0] == 429
        assert login(url, LONG)[0] == 200
        # A new X-Forwarded-For for each guess does not make a new client.
        assert [login(url, "wrong", forwarded_for=f"10.0.0.{i}")[0] for i in (1, 2)] == [400, 400]
        assert login(url, LONG, forwarded_for="10.0.0.3")[0] == 429
        assert login(url, LONG)[0] == 200


# -- download copies: this user's only, gone when Fathom stops -------------------------------------------------


def modes(path: Path, top: Path) -> list[tuple[str, int]]:
    """The mode of `path` and of every folder above it up to `top`."""
    chain = [path, *[p for p in path.parents if top in p.parents or p == top]]
    return [(str(p), stat.S_IMODE(p.stat().st_mode)) for p in chain]


def test_downloads_are_private_copies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, minilm_path: str, minilm: Any, isolated_env: Path
) -> None:
    from gradio_client import Client
    from playwright.sync_api import expect, sync_playwright

    from test_page_browser import CHROMIUM_ARGS, WAIT_MS, chromium

    executable = chromium()
    docs = write_corpus(tmp_path / "docs")
    settings = Settings.resolve(embedding_model=minilm_path, reranker_model="none")
    with page_in_process(settings, monkeypatch, minilm) as (rt, page, url):
        rt.start()
        assert rt.loader.wait(60) and folder_actions.add_folder(rt, str(docs))[0] and rt.library.wait_idle(60)
        client = Client(url + "/", download_files=False, verbose=False, headers=BEARER)
        client.predict("bread with a dark crust", "question", "", False, "hybrid", "", "", "", "", "", "relevance",
                       False, api_name="/do_search")
        # A card's Download, as a person clicks it (the cards' buttons are one event with the card's number).
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            tab = browser.new_context(accept_downloads=True, extra_http_headers=BEARER).new_page()
            tab.goto(url + "/?q=bread+with+a+dark+crust")
            expect(tab.locator("#fathom-result-0 .fathom-name")).to_have_text("sourdough.md", timeout=WAIT_MS)
            with tab.expect_download():
                tab.locator("#fathom-result-0 .fathom-get").click()
            href = tab.locator("#fathom-file a[download]").first.get_attribute("href")
            browser.close()
        copy = Path(urllib.parse.unquote(href.split("file=", 1)[1]))
        private = isolated_env / "page-files"
        assert copy.read_bytes() == (docs / "cooking" / "sourdough.md").read_bytes()
        assert modes(copy, private) == [(str(copy), 0o600)] + [(str(p), 0o700) for p in copy.parents
                                                                 if private in p.parents or p == private]
        code, _, body = request(url, "/gradio_api/file=" + str(copy))
        assert code == 200 and "Dutch oven" in body
        # The one copy there is: Gradio did not make its own (in GRADIO_TEMP_DIR or /tmp/gradio).
        assert not (isolated_env.parent / "gradio-elsewhere").exists()
        served = [p for p in private.rglob("*") if p.is_file()]
        assert served == [copy]
    assert not private.exists()


def test_the_private_folder_goes_at_stop_and_at_the_next_start(minilm_path: str, isolated_env: Path) -> None:
    private = isolated_env / "page-files"
    args = ("--embedding-model", minilm_path, "--reranker-model", "none")

    server, _ = start_server(*args)
    try:
        (mine,) = private.iterdir()
        assert mine.name.startswith(f"{server.pid}-")
        assert stat.S_IMODE(private.stat().st_mode) == stat.S_IMODE(mine.stat().st_mode) == 0o700
    finally:
        stop(server)  # SIGTERM, as `kill` or a service manager stops it
    assert not private.exists()

    crashed, _ = start_server(*args)
    try:
        (left,) = private.iterdir()
    finally:
        crashed.send_signal(signal.SIGKILL)  # no chance to clean up
        crashed.wait(10)
    assert left.exists()
    server, _ = start_server(*args)
    try:
        assert not left.exists()
        assert [p.name.split("-")[0] for p in private.iterdir()] == [str(server.pid)]
    finally:
        stop(server)


# -- --host ::1 -------------------------------------------------------------------------------------------------


def test_ipv6_loopback_as_typed(minilm_path: str) -> None:
    server, url = start_server("--host", "::1", "--embedding-model", minilm_path, "--reranker-model", "none",
                               host="[::1]")
    try:
        port = url.rsplit(":", 1)[1]
        assert request(url, "/")[0] == 200
        assert request(url, "/config", host=f"[::1]:{port}")[0] == 200
        assert request(url, "/config", host=f"localhost:{port}")[0] == 200
        assert request(url, "/config", host=f"evil.example:{port}")[0] == 400
    finally:
        printed = stop(server)
    assert f"http://[::1]:{port}" in printed


def test_what_the_page_prints_is_worded_for_the_edge_that_started_it(capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    fake_embedder: Any) -> None:
    """serve(edge=...): the CLI passes its Terminal; the lines printed name no flag of their own."""

    class Marked:
        def setting(self, name: str, value: str | None) -> str:
            return f"<{name} {value}>"

        def action(self, command: str) -> str:
            return f"<do {command}>"

    settings = Settings.resolve(embedding_model="fake", reranker_model="none")
    with page_in_process(settings, monkeypatch, fake_embedder, allowed_hosts=["mybox.lan"], edge=Marked()):
        pass
    printed = capsys.readouterr().out
    assert "It answers to: " in printed and "mybox.lan" in printed
    assert "(add a name with <allowed_host NAME>)." in printed and "[[" not in printed and "--" not in printed
    with page_in_process(settings, monkeypatch, fake_embedder, allowed_hosts=["mybox.lan"]):
        pass
    assert "(add a name with --allowed-host NAME)." in capsys.readouterr().out  # TERMINAL, by default


# -- the rules, without a web server ------------------------------------------------------------------------------


def test_no_password_is_ever_shown(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import search.page

    monkeypatch.setattr(search.page, "serve", lambda settings, **kw: 0)
    monkeypatch.delenv("FATHOM_AUTH", raising=False)
    secret = "hunter2-correct-horse"
    for given in (secret, f":{secret}", f"anna {secret}", f"anna;{secret}"):
        code, out, err = run_cli(capsys, "serve", "--auth", given)
        assert code == 1 and "USER:PASSWORD" in err and secret not in out + err, given
    monkeypatch.setenv("FATHOM_AUTH", f"anna:{LONG},{secret}")
    code, out, err = run_cli(capsys, "serve")
    assert code == 1 and "FATHOM_AUTH" in err and secret not in out + err and LONG not in out + err
    monkeypatch.delenv("FATHOM_AUTH")
    users = tmp_path / "users.txt"
    users.write_text(f"anna:{LONG}\n{secret}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "serve", "--auth-file", str(users))
    assert code == 1 and "line 2 of" in err and secret not in out + err and LONG not in out + err
    code, out, err = run_cli(capsys, "serve", "--share", "--auth", "anna:short-pw")
    assert code == 1 and "short-pw" not in out + err
    with pytest.raises(FathomError) as error:
        credentials([f"bo:{secret}", "broken"])
    assert secret not in str(error.value) and "broken" not in str(error.value)


def test_help_says_auth_shows_in_ps() -> None:
    import app

    help_text = " ".join(app.build_parser().format_help().split())
    assert "`ps`" in help_text and "FATHOM_AUTH" in help_text and "--auth-file" in help_text


def test_exposed_pages_need_a_long_password(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import search.page

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(search.page, "serve", lambda settings, **kw: calls.append(kw) or 0)
    monkeypatch.delenv("FATHOM_AUTH", raising=False)
    for args in (["--share"], ["--host", "0.0.0.0"], ["--host", "192.168.1.5"]):
        code, _, err = run_cli(capsys, "serve", *args, "--auth", "anna:eleven-char", "--auth", f"bo:{LONG}")
        assert code == 1 and "at least 12 characters" in err and "anna" in err and "bo" not in err.split("the one for")[1]
    assert not calls
    assert run_cli(capsys, "serve", "--share", "--auth", "anna:twelve-chars")[0] == 0
    assert run_cli(capsys, "serve", "--auth", "anna:pw")[0] == 0  # this computer only: any password
    assert run_cli(capsys, "serve", "--host", "::1", "--auth", "anna:pw")[0] == 0
    assert len(calls) == 3
    with pytest.raises(FathomError, match="at least 12"):
        check_exposure("[::]", False, [("anna", "short")])


def test_host_names() -> None:
    assert bind_name("::1") == bind_name("[::1]") == "[::1]"
    assert bind_name("127.0.0.1") == "127.0.0.1" and bind_name("localhost") == "localhost"
    assert set(host_names("127.0.0.1")) == {"localhost", "127.0.0.1", "[::1]"}
    assert set(host_names("[::1]")) == set(host_names("::1")) == {"localhost", "127.0.0.1", "[::1]"}
    assert set(host_names("127.0.0.2")) == {"localhost", "127.0.0.1", "[::1]", "127.0.0.2"}
    assert host_names("192.168.1.5") == ["192.168.1.5"]  # not loopback: loopback cannot reach it
    everywhere = host_names("0.0.0.0")
    assert {"localhost", "127.0.0.1", "[::1]"} <= set(everywhere)
    assert "mybox.lan" in host_names("127.0.0.1", ["mybox.lan"])
    assert [host_name(n) for n in ("MyBox.LAN", "mybox.lan:7860", "http://mybox.lan:7860/", "::1", "*.example.org")] == [
        "mybox.lan", "mybox.lan", "mybox.lan", "[::1]", "*.example.org",
    ]
    for bad in ("*", "", "my box", "a*b.example", "http://"):
        with pytest.raises(FathomError):
            host_name(bad)
    assert allowed_host_names(["a.lan"], " b.lan, a.lan ,") == ["a.lan", "b.lan"]


def test_allowed_host_option_and_variable_reach_the_page(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import search.page

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(search.page, "serve", lambda settings, **kw: calls.append(kw) or 0)
    monkeypatch.setenv("FATHOM_ALLOWED_HOSTS", "nas.lan,Fathom.Example.org")
    assert run_cli(capsys, "serve", "--allowed-host", "mybox.lan", "--allowed-host", "nas.lan:7860")[0] == 0
    assert calls[0]["allowed_hosts"] == ["mybox.lan", "nas.lan", "fathom.example.org"]
    code, _, err = run_cli(capsys, "serve", "--allowed-host", "*")
    assert code == 1 and "DNS rebinding" in err


def test_same_origin() -> None:
    """RFC 6454: an origin is scheme, host and port; the default port of the scheme when none is written."""
    assert same_origin("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert same_origin("https://abc.gradio.live", "abc.gradio.live")
    assert same_origin("https://abc.gradio.live", "abc.gradio.live:443")
    assert same_origin("http://[::1]:7860", "[::1]:7860")
    assert same_origin("http://LOCALHOST:7860", "localhost:7860")
    for origin, host in (("http://evil.example:7860", "127.0.0.1:7860"), ("http://localhost:7861", "localhost:7860"),
                         ("null", "127.0.0.1:7860"), ("http://127.0.0.1:7860", None), ("https://abc.gradio.live", "abc.gradio.live:80"),
                         ("http://127.0.0.1:port", "127.0.0.1:7860"), ("ftp://127.0.0.1:7860", "127.0.0.1:7860")):
        assert not same_origin(origin, host), (origin, host)


def test_login_attempts_per_client() -> None:
    now = [1000.0]
    attempts = LoginAttempts(backoff=0.5, backoff_max=4.0, lock_after=5, lock_for=60, clock=lambda: now[0])
    assert [attempts.failed("a") for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert attempts.locked_for("a") == 0
    assert attempts.failed("a") == 4.0  # capped
    assert attempts.locked_for("a") == 60 and attempts.locked_for("b") == 0
    now[0] += 30
    assert attempts.locked_for("a") == 30
    now[0] += 31
    assert attempts.locked_for("a") == 0 and attempts.failed("a") == 0.5  # forgotten after the lock
    attempts.succeeded("a")
    assert attempts.failed("a") == 0.5


def test_the_auth_file_is_not_echoed_when_unreadable(tmp_path: Path) -> None:
    binary = tmp_path / "users.bin"
    binary.write_bytes(b"anna:\xff\xfe-secret\n")
    with pytest.raises(FathomError, match="not UTF-8") as error:
        credentials(auth_file=str(binary))
    assert "secret" not in str(error.value)


def test_copies_stay_private_under_a_permissive_umask(isolated_env: Path) -> None:
    """The page's private folder is made 0700 even with a permissive umask."""
    from search.page.files import FileCopies

    old = os.umask(0)
    try:
        copies = FileCopies(isolated_env)
        source = isolated_env / "note.txt"
        source.write_text("x", encoding="utf-8")
        copy = copies.copy(source)
    finally:
        os.umask(old)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(copy.parent.stat().st_mode) == stat.S_IMODE(copies.root.stat().st_mode) == 0o700
    copies.close()
    assert not copies.root.exists()
