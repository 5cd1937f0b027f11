"""Checks on every request the page's web server gets, as ASGI middleware inside the app
Gradio builds (`launch(app_kwargs={"middleware": ...})`). They run before any Gradio route:

- the Host allowlist (Starlette's TrustedHostMiddleware): a page whose name was re-pointed at
  this computer (DNS rebinding) gets nothing;
- the Origin check: a request a browser sends from another web page is refused, whatever
  its method, so no other site can add a folder, search or download (requests without an
  Origin, from curl or a script, are not a browser's cross-site requests and pass);
- the token (token.py): without the page's token, or a password sign-in, no route answers,
  whatever route is added to the app later;
- wrong passwords are answered ever more slowly, then not at all for a while (access.py);
- uploads are refused: Fathom never takes a file from a browser;
- the file route hands out only the copies Fathom made for a download, whatever paths
  Gradio's own settings or environment variables would allow.

No Gradio here: only Starlette, which Gradio is built on.
"""
from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.page.access import LoginAttempts, same_origin
from search.page.token import QUERY_NAME, carries_token, cookie_name

API = "/gradio_api"
UPLOAD_ROUTES = (f"{API}/upload", f"{API}/process_recording")
FILE_ROUTES = (f"{API}/file=", f"{API}/file/")
LOGIN_ROUTES = ("/login",)
STARTUP_ROUTE = f"{API}/startup-events"


def middleware(
    names: list[str],
    files_root: Path,
    attempts: LoginAttempts,
    tunnel_names: list[str],
    gate: "TokenGate.Settings",
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


class TokenGate:
    """Every request carries the page's token (token.py), or is refused with 401: the page,
    its config, its API, its queue, its files, and any route mounted on the app later.

    The address Fathom opens carries the token once (`/?token=...`): that request gets the
    token as an HttpOnly, SameSite=Strict cookie and is sent on to the same address without it,
    so it stays out of the browser's history and of what the page's scripts can read.

    With passwords (`--auth`), Gradio's sign-in works as before: a request without the token
    may still reach Gradio's own routes, which let nobody in before signing in (and show only
    the sign-in form), and a signed-in browser passes everywhere. A request with the token is
    signed in as well, so scripts use the same `Authorization: Bearer` either way."""

    class Settings:
        def __init__(self, token: str, port: int, passwords: bool):
            self.token, self.port, self.passwords = token, port, passwords
            self.gradio_routes: set[int] | None = None  # ids of the routes Gradio made
            self.session = secrets.token_urlsafe(32)  # Gradio's sign-in, for requests with the token
            self.launched = False  # until then, Gradio calls its own startup route, without a token

        def know_routes(self, app: Any) -> None:
            """Take the app's routes as Gradio's own, at the first request: Gradio makes the app
            and calls it (its startup route) inside `launch`, before anyone else can mount a
            route on it."""
            if self.gradio_routes is None:
                routes = getattr(getattr(app, "router", None), "routes", None) or []
                self.gradio_routes = {id(route) for route in routes}

    def __init__(self, app: ASGIApp, settings: "TokenGate.Settings"):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        gate = self.settings
        gate.know_routes(scope.get("app"))
        if carries_token(scope, gate.token, gate.port):
            if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and _has_query_token(scope):
                await self._keep_as_cookie(scope, receive, send)
                return
            await self.app(self._signed_in(scope) if gate.passwords else scope, receive, send)
            return
        if not gate.launched and scope["type"] == "http" and _route(scope) == STARTUP_ROUTE:
            await self.app(scope, receive, send)  # Gradio's own call while it launches
            return
        if gate.passwords and (_gradio_user(scope) is not None or self._gradio_route(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and _route(scope) in ("", "/") and not gate.passwords:
            await HTMLResponse(_LANDING, status_code=401)(scope, receive, send)
            return
        await _refuse(scope, receive, send, 401,
                      "Fathom needs its token: open the address Fathom printed when it started, or send "
                      "Authorization: Bearer TOKEN (the token is in page-token in the data folder, or FATHOM_TOKEN).",
                      **{"WWW-Authenticate": "Bearer"})

    async def _keep_as_cookie(self, scope: Scope, receive: Receive, send: Send) -> None:
        """303 to the same address without `token=`, with the token as a cookie."""
        rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
                if k != QUERY_NAME]
        location = "/" + (scope.get("path") or "/").lstrip("/") + (f"?{urlencode(rest)}" if rest else "")
        cookie = (f"{cookie_name(self.settings.port)}={self.settings.token}; Path=/; HttpOnly; SameSite=Strict; "
                  f"Max-Age={30 * 24 * 3600}" + ("; Secure" if scope.get("scheme") == "https" else ""))
        response = PlainTextResponse("Signed in with the page's token.", status_code=303,
                                     headers={"Location": location, "Set-Cookie": cookie, "Cache-Control": "no-store"})
        await response(scope, receive, send)

    def _signed_in(self, scope: Scope) -> Scope:
        """The request as Gradio's sign-in sees it: with a session Fathom made for the token."""
        app: Any = scope.get("app")
        tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return scope
        tokens[self.settings.session] = "token"
        added = f"access-token-{cookie_id}={self.settings.session}".encode("latin-1")
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
        cookies = [v for k, v in scope.get("headers", []) if k.lower() == b"cookie"]
        headers.append((b"cookie", b"; ".join([*cookies, added])))
        return {**scope, "headers": headers}

    def _gradio_route(self, scope: Scope) -> bool:
        """Whether the route that will answer is one of Gradio's own (which guard themselves
        behind the sign-in), found as Starlette's router finds it: the first full match, else
        the first partial one."""
        app: Any = scope.get("app")
        routes = getattr(getattr(app, "router", None), "routes", None) or []
        partial = None
        for route in routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return id(route) in (self.settings.gradio_routes or ())
            if match == Match.PARTIAL and partial is None:
                partial = route
        return partial is not None and id(partial) in (self.settings.gradio_routes or ())


_LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>Fathom</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 38em; margin: 4em auto; line-height: 1.5">
<h1>Fathom</h1>
<p>This page needs its token. Open the address Fathom printed when it started
(<code>http://&hellip;/?token=&hellip;</code>): your browser keeps the token, and the page opens.</p>
<p>The token is in the file <code>page-token</code> in Fathom's data folder (or in
<code>FATHOM_TOKEN</code>); scripts send it as <code>Authorization: Bearer TOKEN</code>.</p>
</body></html>"""


def _has_query_token(scope: Scope) -> bool:
    return any(k == QUERY_NAME for k, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                    keep_blank_values=True))


def _gradio_user(scope: Scope) -> str | None:
    """The user of a Gradio sign-in session the request carries, if any."""
    app: Any = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    names = (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}")
    for value in Headers(scope=scope).getlist("cookie"):
        for part in value.split(";"):
            key, sep, cookie = part.strip().partition("=")
            if sep and key in names and cookie in tokens:
                return str(tokens[cookie])
    return None


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
    client and user name locked out for a while (LoginAttempts). A client is its address,
    except for requests whose address cannot be told apart: everyone coming through the share
    link (they arrive from the tunnel on this computer) counts as one client, the share link;
    and so does everyone whose request says X-Forwarded-For (uvicorn takes the address from
    that header when the request comes from this computer, so anyone here could name a new
    address for each guess).

    The form is read whole, within `attempts.body_timeout` seconds, before the sign-in takes
    the client's turn: a request that announces a body and sends it slowly (or never) holds
    nothing but its own connection. The lockout counts wrong passwords per client *and* user
    name, so guessing one name does not lock out another user at the same address."""

    MAX_FORM = 16 * 1024  # bytes: a user name and a password

    def __init__(self, app: ASGIApp, attempts: LoginAttempts, tunnel_names: Sequence[str]):
        self.app = app
        self.attempts = attempts
        self.tunnel_names = tunnel_names
        self._trying: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _route(scope).rstrip("/") not in LOGIN_ROUTES:
            await self.app(scope, receive, send)
            return
        try:
            body = await asyncio.wait_for(_read_body(receive, self.MAX_FORM), self.attempts.body_timeout)
        except asyncio.TimeoutError:
            await _refuse(scope, receive, send, 408, "The sign-in form took too long to arrive: send it again.",
                          Connection="close")
            return
        except ValueError:
            await _refuse(scope, receive, send, 413, "A sign-in form holds a user name and a password, nothing more.")
            return
        except ConnectionError:
            return  # the client left before its form arrived: nobody to answer
        client = self._client(scope)
        who = f"{client} user {await _user_name(scope, body)}"
        wait = self.attempts.locked_for(who)
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
                    await asyncio.sleep(self.attempts.failed(who))
                elif message["status"] == 200:
                    self.attempts.succeeded(who)
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), answer)
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


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request's whole body; ValueError past `limit` bytes, ConnectionError when the
    client leaves first."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client left")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ValueError("too large")
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits as the real one does."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _user_name(scope: Scope, body: bytes) -> str:
    """The user name a sign-in form carries (urlencoded, as scripts send it, or multipart, as
    Gradio's page sends it); empty when there is none."""
    from starlette.requests import Request

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
        name = form.get("username")
        await form.close()
    except Exception:  # a form that cannot be parsed: Gradio refuses it too
        return ""
    return name.strip()[:200] if isinstance(name, str) else ""
