"""Who may use the page: passwords from `--auth`, FATHOM_AUTH or a credentials file, and the
rule that Fathom is never reachable beyond this computer without one.

No Gradio here: app.py checks all of this before the (slow) page is imported.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Iterable

from search.errors import FathomError

Credentials = list[tuple[str, str]]


def credentials(
    auth: Iterable[str] | None = None,
    auth_file: str | None = None,
    env_value: str | None = None,
) -> Credentials:
    """Every USER:PASSWORD pair given, in any of the three ways (all of them count)."""
    pairs: Credentials = []
    for value in auth or []:
        pairs.append(_pair(value, "--auth"))
    if env_value and env_value.strip():
        for value in env_value.split(","):
            if value.strip():
                pairs.append(_pair(value.strip(), "FATHOM_AUTH"))
    if auth_file:
        pairs += read_auth_file(auth_file)
    return pairs


def read_auth_file(path: str) -> Credentials:
    """USER:PASSWORD lines; blank lines and lines starting with # are left out."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FathomError(f"Cannot read the credentials file {path}: {exc.strerror or exc}.") from None
    pairs: Credentials = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            pairs.append(_pair(line, f"line {number} of {path}"))
    if not pairs:
        raise FathomError(f"The credentials file {path} holds no USER:PASSWORD line.")
    return pairs


def _pair(value: str, where: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise FathomError(f"{where} must be USER:PASSWORD (e.g. anna:a-long-passphrase), found {_masked(value)!r}.")
    return user.strip(), password


def _masked(value: str) -> str:
    user, sep, password = value.partition(":")
    return f"{user}{sep}{'*' * len(password)}" if sep else value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, share: bool, auth: Credentials) -> None:
    """Refuse to put someone's files on a network without a password: a share link is on
    the internet, and a host other than loopback is on every network this computer joins."""
    if auth:
        return
    how = (
        "add --auth USER:PASSWORD, --auth-file FILE (USER:PASSWORD lines) or set "
        "FATHOM_AUTH=USER:PASSWORD"
    )
    if share:
        raise FathomError(
            "Refusing to make a share link without a password: anyone with the link could "
            f"read your indexed files. {how[0].upper()}{how[1:]}."
        )
    if not is_loopback(host):
        raise FathomError(
            f"Refusing to listen on {host} without a password: anyone on your network could "
            f"read your indexed files. {how[0].upper()}{how[1:]}, or leave --host out "
            "(127.0.0.1: this computer only)."
        )
