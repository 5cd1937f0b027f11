"""Wrong passwords at the sign-in form: answered ever more slowly, then not at all for a while
(access.LoginAttempts). One of the page's checks on requests (guard.py). Starlette only."""
from __future__ import annotations

import asyncio
from typing import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.page.access import LoginAttempts
from search.page.asgi_parts import client_of, refuse, route_of, wait_words

LOGIN_ROUTES = ("/login",)


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
        if scope["type"] != "http" or scope["method"] != "POST" or route_of(scope).rstrip("/") not in LOGIN_ROUTES:
            await self.app(scope, receive, send)
            return
        try:
            body = await asyncio.wait_for(_read_body(receive, self.MAX_FORM), self.attempts.body_timeout)
        except asyncio.TimeoutError:
            await refuse(scope, receive, send, 408, "The sign-in form took too long to arrive: send it again.",
                         Connection="close")
            return
        except ValueError:
            await refuse(scope, receive, send, 413, "A sign-in form holds a user name and a password, nothing more.")
            return
        except ConnectionError:
            return  # the client left before its form arrived: nobody to answer
        client = client_of(scope, self.tunnel_names)
        who = f"{client} user {await _user_name(scope, body)}"
        wait = self.attempts.locked_for(who)
        if wait > 0:
            await refuse(scope, receive, send, 429, f"Too many wrong passwords: try again in {wait_words(wait)}.",
                         **{"Retry-After": str(int(wait) + 1)})
            return
        if client in self._trying:
            await refuse(scope, receive, send, 429, "One sign-in at a time: wait for the answer to the last one.",
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
