"""Checks on every request the page's web server gets, as ASGI middleware inside the app
Gradio builds (`launch(app_kwargs={"middleware": ...})`). They run before any Gradio route:

- the Host allowlist (Starlette's TrustedHostMiddleware): a page whose name was re-pointed at
  this computer (DNS rebinding) gets nothing;
- the Origin check: a request a browser sends from another web page is refused, whatever
  its method, so no other site can add a folder, search or download (requests without an
  Origin, from curl or a script, are not a browser's cross-site requests and pass);
- the token (token.py, token_gate.py): without the page's token, or a password sign-in, no route answers,
  whatever route is added to the app later;
- wrong passwords are answered ever more slowly, then not at all for a while (login_throttle.py);
- uploads are refused: Fathom never takes a file from a browser;
- the file route hands out only the copies Fathom made for a download, whatever paths
  Gradio's own settings or environment variables would allow.

No Gradio here: only Starlette, which Gradio is built on.
"""
from __future__ import annotations

import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.page.access import LoginAttempts, same_origin
from search.page.asgi_parts import refuse, route_of
from search.page.login_throttle import LoginThrottle
from search.page.token_gate import TokenGate

API = "/gradio_api"
UPLOAD_ROUTES = (f"{API}/upload", f"{API}/process_recording")
FILE_ROUTES = (f"{API}/file=", f"{API}/file/")


def middleware(
    names: list[str],
    files_root: Path,
    attempts: LoginAttempts,
    tunnel_names: list[str],
    gate: TokenGate.Settings,
) -> list[Middleware]:
    """The checks in the order they run. `names` and `tunnel_names` are live lists: the share
    link's name is added to both once Gradio has made the link."""
    return [
        Middleware(HostAllowlist, names=names),
        Middleware(SameOrigin),
        Middleware(TokenGate, settings=gate),
        Middleware(NoUploads),
        Middleware(OnlyDownloadCopies, root=files_root),
        Middleware(LoginThrottle, attempts=attempts, tunnel_names=tunnel_names),
    ]


def _file_wanted(route: str) -> str | None:
    """The path a request to the file route asks for; None for any other route."""
    for prefix in FILE_ROUTES:
        if route.startswith(prefix):
            return route[len(prefix):]
    return None


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
                await refuse(scope, receive, send, 403,
                             "Refused: this request was sent by another web page, not by Fathom's page.")
                return
        await self.app(scope, receive, send)


class NoUploads:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_of(scope).rstrip("/") in UPLOAD_ROUTES:
            await refuse(scope, receive, send, 403, "Refused: Fathom takes no uploads.")
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
        wanted = _file_wanted(route_of(scope)) if scope["type"] == "http" else None
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
                await refuse(scope, receive, send, 403,
                             "Refused: Fathom hands out only the files you download from its page.")
                return
            await send(message)

        await self.app(scope, receive, refusals_only)

    def _is_copy(self, wanted: str) -> bool:
        if not wanted or "\x00" in wanted or "://" in wanted or not os.path.isabs(wanted):
            return False
        real = os.path.realpath(wanted)
        return real.startswith(self.root + os.sep) and os.path.isfile(real)

