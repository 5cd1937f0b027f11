"""`/mcp` on the page (when `serve` is asked for it): Fathom's read-only tools for AI agents over Streamable HTTP
(search/agents/server.py), answered with the page's own engine and loaded models.

It stands right after the Host allowlist and the Origin check (guard.py), so a request reaches
it only from an allowed host and origin; then it asks for what the page asks for: the page's
token (`Authorization: Bearer TOKEN`, as every script sends it), or, when the page has a
password, the same user and password as HTTP Basic authentication, wrong ones counted, slowed
and locked out exactly as at the sign-in form (access.LoginAttempts). Gradio's sign-in does not
cover it (it is no Gradio route, and no Gradio handler is ever a tool: Gradio's own MCP server
stays off).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from contextlib import AbstractAsyncContextManager
from typing import Any, Callable, Sequence

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from search.page.access import Credentials, LoginAttempts
from search.page.asgi_parts import client_of, route_of, wait_words
from search.page.token import TOKEN_VARIABLE, carries_token

NEEDS_PASSWORD = (
    "Fathom's tools need the page's token (Authorization: Bearer TOKEN; it is in page-token in the data "
    f"folder, or {TOKEN_VARIABLE}), or the page's user and password as HTTP Basic authentication."
)


def agent_route(
    runtime: Any, auth: Credentials | None, attempts: LoginAttempts, tunnel_names: Sequence[str], token: str, port: int,
) -> tuple[Middleware, Callable[[Any], AbstractAsyncContextManager[None]]]:
    """The middleware that answers /mcp, and the lifespan the page's app must run."""
    from search.agents.backends import PageBackend
    from search.agents.server import MCP_PATH, http_app

    tools, lifespan = http_app(PageBackend(runtime))
    route = Middleware(AgentRoute, tools=tools, path=MCP_PATH, auth=list(auth or []), attempts=attempts,
                       tunnel_names=tunnel_names, token=token, port=port)
    return route, lifespan


class AgentRoute:
    def __init__(
        self, app: ASGIApp, tools: ASGIApp, path: str, auth: Credentials, attempts: LoginAttempts,
        tunnel_names: Sequence[str], token: str, port: int,
    ):
        self.app = app
        self.tools = tools
        self.path = path
        self.auth = auth
        self.attempts = attempts
        self.tunnel_names = tunnel_names
        self.token, self.port = token, port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_of(scope).rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        if not carries_token(scope, self.token, self.port):
            refusal = await self._refusal(scope) if self.auth else _unauthorized()
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.tools({**scope, "path": self.path, "root_path": ""}, receive, send)

    async def _refusal(self, scope: Scope) -> PlainTextResponse | None:
        client = client_of(scope, self.tunnel_names)
        wait = self.attempts.locked_for(client)
        if wait > 0:
            return PlainTextResponse(f"Too many wrong passwords: try again in {wait_words(wait)}.", status_code=429,
                                     headers={"Retry-After": str(int(wait) + 1)})
        given = _basic(Headers(scope=scope).get("authorization"))
        if given is None:
            return _unauthorized()
        if any(hmac.compare_digest(_bytes(given), _bytes(pair)) for pair in self.auth):
            self.attempts.succeeded(client)
            return None
        await asyncio.sleep(self.attempts.failed(client))
        return _unauthorized()


def _basic(header: str | None) -> tuple[str, str] | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _bytes(pair: tuple[str, str]) -> bytes:
    user, password = pair
    return f"{len(user)}:{user}:{password}".encode()


def _unauthorized() -> PlainTextResponse:
    return PlainTextResponse(NEEDS_PASSWORD, status_code=401,
                             headers={"WWW-Authenticate": 'Bearer realm="Fathom", Basic realm="Fathom", charset="UTF-8"'})
