"""Checks on every request the page's web server gets, as ASGI middleware inside the app
Gradio builds (`launch(app_kwargs={"middleware": ...})`). They run before any Gradio route:

- the Host allowlist (Starlette's TrustedHostMiddleware): a page whose name was re-pointed at
  this computer (DNS rebinding) gets nothing;
- the Origin check: a request a browser sends from another web page is refused, whatever
  its method, so no other site can add a folder, search or download (requests without an
  Origin, from curl or a script, are not a browser's cross-site requests and pass);
- wrong passwords are answered ever more slowly, then not at all for a while (access.py);
- uploads are refused: Fathom never takes a file from a browser;
- the file route hands out only the copies Fathom made for a download, whatever paths
  Gradio's own settings or environment variables would allow.

No Gradio here: only Starlette, which Gradio is built on.
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.page.access import LoginAttempts, same_origin

API = "/gradio_api"
UPLOAD_ROUTES = (f"{API}/upload", f"{API}/process_recording")
FILE_ROUTES = (f"{API}/file=", f"{API}/file/")
LOGIN_ROUTES = ("/login",)


def middleware(
    names: list[str],
    files_root: Path,
    attempts: LoginAttempts,
    tunnel_names: list[str],
) -> list[Middleware]:
    """The checks in the order they run. `names` and `tunnel_names` are live lists: the share
    link's name is added to both once Gradio has made the link."""
    return [
        Middleware(HostAllowlist, names=names),
        Middleware(SameOrigin),
        Middleware(NoUploads),
        Middleware(OnlyDownloadCopies, root=files_root),
        Middleware(LoginThrottle, attempts=attempts, tunnel_names=tunnel_names),
    ]


def _route(scope: Scope) -> str:
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path


def _file_wanted(route: str) -> str | None:
    """The path a request to the file route asks for; None for any other route."""
    for prefix in FILE_ROUTES:
        if route.startswith(prefix):
            return route[len(prefix):]
    return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds) + 1} seconds"
    return f"{round(seconds / 60)} minutes"


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str, **headers: str) -> None:
    await PlainTextResponse(reason, status_code=status, headers=headers or None)(scope, receive, send)


class HostAllowlist(TrustedHostMiddleware):
    """Starlette's Host check, on a list that can grow while the page runs (the share link)."""

    def __init__(self, app: ASGIApp, names: list[str]):
        super().__init__(app, allowed_hosts=names, www_redirect=False)
        self.allowed_hosts = names  # the live list, not a copy


class SameOrigin:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, headers.get("host")):
                await _refuse(scope, receive, send, 403,
                              "Refused: this request was sent by another web page, not by Fathom's page.")
                return
        await self.app(scope, receive, send)


class NoUploads:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _route(scope).rstrip("/") in UPLOAD_ROUTES:
            await _refuse(scope, receive, send, 403, "Refused: Fathom takes no uploads.")
            return
        await self.app(scope, receive, send)


class OnlyDownloadCopies:
    """The file route serves what lies in Fathom's private folder of download copies, and
    nothing else: not the indexed folders, not the database, whatever GRADIO_ALLOWED_PATHS or
    any other setting would let Gradio serve. Gradio still answers first (so a request that
    is not signed in gets its 401); only an answer that would serve a file outside that
    folder is turned into a refusal, before a byte of the file is sent."""

    def __init__(self, app: ASGIApp, root: Path):
        self.app = app
        self.root = os.path.realpath(root)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = _file_wanted(_route(scope)) if scope["type"] == "http" else None
        if wanted is None or self._is_copy(wanted):
            await self.app(scope, receive, send)
            return
        refused = False

        async def refusals_only(message: Message) -> None:
            nonlocal refused
            if refused:
                return  # the body of an answer that was not sent
            if message["type"] == "http.response.start" and message["status"] < 400:
                refused = True
                await _refuse(scope, receive, send, 403,
                              "Refused: Fathom hands out only the files you download from its page.")
                return
            await send(message)

        await self.app(scope, receive, refusals_only)

    def _is_copy(self, wanted: str) -> bool:
        if not wanted or "\x00" in wanted or "://" in wanted or not os.path.isabs(wanted):
            return False
        real = os.path.realpath(wanted)
        return real.startswith(self.root + os.sep) and os.path.isfile(real)


class LoginThrottle:
    """One sign-in at a time per client; each wrong password answered more slowly, then the
    client locked out for a while (LoginAttempts). A client is its address, except for
    requests whose address cannot be told apart: everyone coming through the share link
    (they arrive from the tunnel on this computer) counts as one client, the share link; and
    so does everyone whose request says X-Forwarded-For (uvicorn takes the address from that
    header when the request comes from this computer, so anyone here could name a new
    address for each guess)."""

    def __init__(self, app: ASGIApp, attempts: LoginAttempts, tunnel_names: Sequence[str]):
        self.app = app
        self.attempts = attempts
        self.tunnel_names = tunnel_names
        self._trying: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _route(scope).rstrip("/") not in LOGIN_ROUTES:
            await self.app(scope, receive, send)
            return
        client = self._client(scope)
        wait = self.attempts.locked_for(client)
        if wait > 0:
            await _refuse(scope, receive, send, 429, f"Too many wrong passwords: try again in {_duration(wait)}.",
                          **{"Retry-After": str(int(wait) + 1)})
            return
        if client in self._trying:
            await _refuse(scope, receive, send, 429, "One sign-in at a time: wait for the answer to the last one.",
                          **{"Retry-After": "1"})
            return
        self._trying.add(client)

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 400:  # Gradio's answer to a wrong user or password
                    await asyncio.sleep(self.attempts.failed(client))
                elif message["status"] == 200:
                    self.attempts.succeeded(client)
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self._trying.discard(client)

    def _client(self, scope: Scope) -> str:
        return client_of(scope, self.tunnel_names)


def client_of(scope: Scope, tunnel_names: Sequence[str]) -> str:
    """Who sends a request, as wrong passwords are counted (see LoginThrottle)."""
    headers = Headers(scope=scope)
    host = urlsplit("//" + (headers.get("host") or "")).hostname
    if host and host in tunnel_names:
        return f"share link {host}"
    if "x-forwarded-for" in headers:
        return "forwarded"
    client: Any = scope.get("client")
    return str(client[0]) if client else "unknown"
