"""What the page's checks on requests share (guard.py, token_gate.py, login_throttle.py,
agent_route.py): a request's route and client, a refusal, a wait in words. Starlette only."""
from __future__ import annotations

from typing import Any, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send


def route_of(scope: Scope) -> str:
    """The request's path below the app's root."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path


def wait_words(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds) + 1} seconds"
    return f"{round(seconds / 60)} minutes"


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str, **headers: str) -> None:
    await PlainTextResponse(reason, status_code=status, headers=headers or None)(scope, receive, send)


def client_of(scope: Scope, tunnel_names: Sequence[str]) -> str:
    """Who sends a request, as wrong passwords are counted (see login_throttle.LoginThrottle)."""
    headers = Headers(scope=scope)
    host = urlsplit("//" + (headers.get("host") or "")).hostname
    if host and host in tunnel_names:
        return f"share link {host}"
    if "x-forwarded-for" in headers:
        return "forwarded"
    client: Any = scope.get("client")
    return str(client[0]) if client else "unknown"
