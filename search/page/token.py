"""The page's token: a random secret that every request to the page must carry, as Jupyter
Server does, so that the other users of this computer (a port on 127.0.0.1 is open to all of
them) cannot use the page without a password.

It is kept in the data folder (`page-token`, readable by this user only) so that it outlives a
restart; the environment variable TOKEN_VARIABLE sets it instead. A request carries it in one
of three ways:

- `Authorization: Bearer TOKEN` (scripts, MCP clients);
- the cookie the page sets (HttpOnly, SameSite=Strict) when the browser opens the address
  Fathom prints or opens, `http://127.0.0.1:7860/?token=TOKEN`;
- `?token=TOKEN` in the address itself (the page turns it into the cookie at once).

No web framework here: token_gate.py checks requests with `carries_token`, and any other part of
Fathom that answers requests on the page's server can call it too.
"""
from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl

from search.errors import FathomError
from search.settings_table import env_name

TOKEN_FILE = "page-token"
TOKEN_VARIABLE = env_name("token")
QUERY_NAME = "token"
MIN_TOKEN = 16  # characters, for a token set by TOKEN_VARIABLE


def page_token(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """TOKEN_VARIABLE when it is set; otherwise the token kept in the data folder, made on first
    use (32 random bytes, URL-safe). A file that others could read is replaced by a new one."""
    env = os.environ if env is None else env
    given = (env.get(TOKEN_VARIABLE) or "").strip()
    if given:
        if len(given) < MIN_TOKEN or not given.isprintable() or " " in given:
            raise FathomError(
                f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN} characters without spaces (it opens "
                "your files to whoever has it): leave it unset and Fathom makes one."
            )
        return given
    path = token_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = _read_private(path)
    if kept:
        return kept
    token = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.write(descriptor, (token + "\n").encode("ascii"))
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    return token


def token_file(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / TOKEN_FILE


def _read_private(path: Path) -> str | None:
    """The token in `path`, if it is a file of this user that nobody else can read."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            path.unlink()  # a link, someone else's or readable by others: not a secret any more
            return None
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return None
    return token if len(token) >= MIN_TOKEN else None


def cookie_name(port: int) -> str:
    """One cookie per port: two Fathom pages on this computer (two data folders) keep theirs."""
    return f"fathom-token-{port}"


def presented(headers: Iterable[tuple[bytes, bytes]], query_string: bytes, port: int) -> list[str]:
    """The tokens a request carries, from an ASGI scope's raw headers and query string."""
    found: list[str] = []
    wanted = cookie_name(port)
    for key, value in headers:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        if name == "authorization":
            scheme, _, credential = text.strip().partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                found.append(credential.strip())
        elif name == "cookie":
            for part in text.split(";"):
                key_text, sep, cookie = part.strip().partition("=")
                if sep and key_text == wanted:
                    found.append(cookie.strip().strip('"'))
    for key_text, value_text in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key_text == QUERY_NAME:
            found.append(value_text)
    return found


def same_token(candidate: str, token: str) -> bool:
    """Compared in constant time: the answer's timing tells nothing about the token."""
    return hmac.compare_digest(candidate.encode("utf-8", "replace"), token.encode("utf-8"))


def carries_token(scope: Mapping[str, Any], token: str, port: int) -> bool:
    """Whether an ASGI request (http or websocket scope) carries the page's token, in its
    Authorization header, its cookie or its address. For code that answers requests on the
    page's server; guard.TokenGate already calls it for every route."""
    return any(same_token(candidate, token)
               for candidate in presented(scope.get("headers") or [], scope.get("query_string") or b"", port))
