"""Pages started for a test, and raw HTTP requests to them: `python app.py serve` in a child
process (as a person starts it), or the page in the test's own process (to hand it a runtime
with a model already loaded, or smaller numbers).

Every page gets the token TOKEN (FATHOM_TOKEN), and requests send it as a script would
(`Authorization: Bearer TOKEN`) unless told otherwise (`token=None`)."""
from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-" + secrets.token_urlsafe(16)
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    *args: str,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
) -> tuple[subprocess.Popen[str], str]:
    """`python app.py serve` on a free port; returns once it answers."""
    port = free_port()
    environment = {**os.environ, "FATHOM_TOKEN": TOKEN, **(env or {})}
    if home:
        environment["HOME"] = str(home)  # paths show as ~/docs/...
    server = subprocess.Popen(
        [sys.executable, "app.py", "serve", "--port", str(port), "--no-browser", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped: {server.stdout.read() if server.stdout else ''}")
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/", headers=BEARER), timeout=2)
            return server, url
        except urllib.error.HTTPError:
            return server, url  # it answers (e.g. with a login page)
        except OSError:
            time.sleep(0.2)
    server.kill()
    pytest.fail("the server did not answer within 90 s")


def stop(server: subprocess.Popen[str]) -> str:
    """Stop the server as a service manager would (SIGTERM); returns what it printed."""
    server.terminate()
    try:
        out, _ = server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        out, _ = server.communicate()
    return out or ""


def printed_address(server: subprocess.Popen[str]) -> str:
    """The address the server printed (and would open in a browser)."""
    assert server.stdout is not None
    for _ in range(500):
        line = server.stdout.readline()
        if "Fathom is running at " in line:
            return line.split("Fathom is running at ", 1)[1].split()[0]
        if not line:
            break
    pytest.fail("the server printed no address")


def status(url: Any, token: str | None = TOKEN) -> int:
    """The status of a GET (or of a urllib Request), sent with the token unless `token=None`."""
    if isinstance(url, str):
        url = urllib.request.Request(url)
    if token is not None:
        url.add_header("Authorization", f"Bearer {token}")
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def request(
    url: str,
    path: str,
    method: str = "GET",
    host: str | None = None,
    origin: str | None = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    source: str | None = None,
    token: str | None = TOKEN,
) -> tuple[int, dict[str, str], str]:
    """One raw HTTP request with exactly the Host (and Origin) given, as a browser tricked by
    another page would send it. `source`: the local address to send from (another client);
    `token`: sent as `Authorization: Bearer` (None: no token)."""
    where = urlsplit(url)
    connection = http.client.HTTPConnection(
        where.hostname, where.port, timeout=30, source_address=(source, 0) if source else None
    )
    sent = {"Host": host or where.netloc, **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    if origin is not None:
        sent["Origin"] = origin
    try:
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


@contextmanager
def page_in_process(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    embedder: Any = None,
    share: bool = False,
    auth: list[tuple[str, str]] | None = None,
    mcp: bool = False,
    **launch: Any,
) -> Iterator[tuple[Any, Any, str]]:
    """The page in this process: (runtime, Gradio Blocks, URL). GRADIO_TEMP_DIR is set to a
    folder Fathom must not use (it points Gradio at its own), and restored afterwards."""
    from search.page import open_page
    from search.page.runtime import Runtime, Serving

    elsewhere = Path(settings.data_dir).parent / "gradio-elsewhere"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(elsewhere))
    monkeypatch.setenv("GRADIO_EXAMPLES_CACHE", str(elsewhere / "examples"))
    monkeypatch.setenv("FATHOM_TOKEN", TOKEN)
    port = free_port()
    runtime = Runtime(settings, Serving("127.0.0.1", port, share, bool(auth), mcp=mcp), embedder=embedder)
    page = None
    try:
        page = open_page(runtime, auth=auth, **launch)
        yield runtime, page, f"http://127.0.0.1:{port}"
    finally:
        if page is not None:
            page.close(verbose=False)
        runtime.close()
