"""The token check on every request (token.py): without the page's token, or a password
sign-in, no route answers. One of the page's checks on requests (guard.py). Starlette only."""
from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from search.page.asgi_parts import refuse, route_of
from search.page.token import QUERY_NAME, TOKEN_VARIABLE, carries_token, cookie_name

STARTUP_ROUTE = "/gradio_api/startup-events"
NEEDS_TOKEN = (
    "Fathom needs its token: open the address Fathom printed when it started, or send "
    f"Authorization: Bearer TOKEN (the token is in page-token in the data folder, or {TOKEN_VARIABLE})."
)


class TokenGate:
    """Every request carries the page's token (token.py), or is refused with 401: the page,
    its config, its API, its queue, its files, and any route mounted on the app later.

    The address Fathom opens carries the token once (`/?token=...`): that request gets the
    token as an HttpOnly, SameSite=Strict cookie and is sent on to the same address without it,
    so it stays out of the browser's history and of what the page's scripts can read.

    With passwords, Gradio's sign-in works as before: a request without the token
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
        if not gate.launched and scope["type"] == "http" and route_of(scope) == STARTUP_ROUTE:
            await self.app(scope, receive, send)  # Gradio's own call while it launches
            return
        if gate.passwords and (_gradio_user(scope) is not None or self._gradio_route(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and route_of(scope) in ("", "/") and not gate.passwords:
            await HTMLResponse(_LANDING, status_code=401)(scope, receive, send)
            return
        await refuse(scope, receive, send, 401, NEEDS_TOKEN, **{"WWW-Authenticate": "Bearer"})

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


_LANDING = f"""<!doctype html><html><head><meta charset="utf-8"><title>Fathom</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 38em; margin: 4em auto; line-height: 1.5">
<h1>Fathom</h1>
<p>This page needs its token. Open the address Fathom printed when it started
(<code>http://&hellip;/?token=&hellip;</code>): your browser keeps the token, and the page opens.</p>
<p>The token is in the file <code>page-token</code> in Fathom's data folder (or in
<code>{TOKEN_VARIABLE}</code>); scripts send it as <code>Authorization: Bearer TOKEN</code>.</p>
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
