"""Who may use the page: passwords from the command line, the environment or a credentials
file; the rule that Fathom is never reachable beyond this computer without a good one; the
names a request may carry in its `Host` and `Origin`; and how many wrong passwords a client
may try. Its errors mark the settings they name (search/wording.py): `serve` raises them at
its start, and the CLI words them as flags.

No Gradio here (nor any web framework): the CLI checks all of this before the (slow) page is
imported, and guard.py turns it into checks on every request.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from search.errors import FathomError
from search.settings_table import env_name
from search.wording import mark

Credentials = list[tuple[str, str]]

MIN_EXPOSED_PASSWORD = 12  # characters, for a share link or an address beyond this computer
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")


# -- passwords ------------------------------------------------------------------------------------


def credentials(
    auth: Iterable[str] | None = None,
    auth_file: str | None = None,
    env_value: str | None = None,
) -> Credentials:
    """Every USER:PASSWORD pair given, in any of the three ways (all of them count)."""
    pairs: Credentials = []
    for value in auth or []:
        pairs.append(_pair(value, mark("auth")))
    if env_value and env_value.strip():
        for value in env_value.split(","):
            if value.strip():
                pairs.append(_pair(value.strip(), env_name("auth")))
    if auth_file:
        pairs += read_auth_file(auth_file)
    return pairs


def read_auth_file(path: str) -> Credentials:
    """USER:PASSWORD lines; blank lines and lines starting with # are left out."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FathomError(f"Cannot read the credentials file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise FathomError(f"The credentials file {path} is not UTF-8 text: write it as USER:PASSWORD lines.") from None
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
        raise FathomError(
            f"{where} must be USER:PASSWORD (e.g. anna:a-long-passphrase), found {masked(value)}."
        )
    return user.strip(), password


def masked(value: str) -> str:
    """A malformed USER:PASSWORD as it may be shown: the user, never any of the password.
    Without a `:` there is no telling which part is the password, so nothing is shown."""
    user, sep, _ = value.partition(":")
    if not sep:
        return "a value without ':' (not shown: it may be a password)"
    return repr(f"{user.strip()}:***") if user.strip() else "':***' (no user before the ':')"


def check_exposure(host: str, share: bool, auth: Credentials) -> None:
    """Refuse to put someone's files on a network without a password, or behind one that is
    easy to guess: a share link is on the internet, and a host other than loopback is on
    every network this computer joins. On loopback, any password will do."""
    how = (
        f"add {mark('auth_file', 'FILE')} (USER:PASSWORD lines), set {env_name('auth')}=USER:PASSWORD or add "
        f"{mark('auth', 'USER:PASSWORD')}"
    )
    if not auth:
        if share:
            raise FathomError(
                "Refusing to make a share link without a password: anyone with the link could "
                f"read your indexed files. {how[0].upper()}{how[1:]}."
            )
        if not is_loopback(host):
            raise FathomError(
                f"Refusing to listen on {host} without a password: anyone on your network could "
                f"read your indexed files. {how[0].upper()}{how[1:]}, or leave {mark('host')} out "
                "(127.0.0.1: this computer only)."
            )
        return
    if share or not is_loopback(host):
        short = sorted({user for user, password in auth if len(password) < MIN_EXPOSED_PASSWORD})
        if short:
            where = "a share link" if share else f"listening on {host}"
            raise FathomError(
                f"A password for {where} must have at least {MIN_EXPOSED_PASSWORD} characters: "
                f"the one for {', '.join(short)} is shorter. Choose a longer one (a few words work "
                f"well), or leave {mark('share')} and {mark('host')} out to use Fathom on this computer only."
            )


# -- the names Fathom answers to ------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def bind_name(host: str) -> str:
    """The address as Gradio and a URL want it: an IPv6 address in brackets (`::1` -> `[::1]`)."""
    text = host.strip()
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return text
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def host_name(text: str, where: str = mark("allowed_host")) -> str:
    """One name for the Host allowlist, as typed by a person: `mybox.lan`, `mybox.lan:7860`,
    `http://mybox.lan:7860/`, `192.168.1.5`, `::1` or `*.example.org` (every subdomain)."""
    value = text.strip().lower()
    if _is_ip(value):
        return bind_name(value)
    hostname = urlsplit(value if "://" in value else "//" + value).hostname if value else None
    if value in ("*", "*.") or not hostname:
        raise FathomError(
            f"{where} needs a host name such as mybox.lan or 192.168.1.5, found {text.strip()!r}"
            + (": a bare * would let any web page reach Fathom by DNS rebinding." if "*" in value else ".")
        )
    if _is_ip(hostname):
        return bind_name(hostname)
    if not _HOST_NAME.fullmatch(hostname):
        raise FathomError(f"{where}: {text.strip()!r} is not a host name (letters, digits, '-' and dots).")
    return hostname


def allowed_host_names(values: Iterable[str] | None, env_value: str | None) -> list[str]:
    """The names given with the option (repeatable) and the environment variable (comma-separated)."""
    names = [host_name(v) for v in values or []]
    names += [host_name(v, env_name("allowed_host")) for v in (env_value or "").split(",") if v.strip()]
    return list(dict.fromkeys(names))


def host_names(bind: str, extra: Iterable[str] = ()) -> list[str]:
    """Every name a request's Host may carry. Bound to loopback: the loopback names. Bound to
    an address or a name: that one and what it resolves to. Bound to every address (0.0.0.0,
    ::): the loopback names, this computer's names and the addresses they resolve to. Then
    the names the person added. Any other name is a web page playing DNS rebinding."""
    literal = bind_name(bind).lower()
    bare = literal.strip("[]")
    names: list[str] = []
    if is_loopback(literal):
        names += [*LOOPBACK_NAMES, literal]
    elif bare in ("0.0.0.0", "::"):
        names += LOOPBACK_NAMES
        for name in {socket.gethostname(), _fqdn()}:
            if name:
                names += [name.lower(), *_addresses(name)]
        names += _outbound_address()
    else:
        names += [literal, *_addresses(bare)]
    names += extra
    return list(dict.fromkeys(n for n in names if n))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def _fqdn() -> str:
    try:
        return socket.getfqdn()
    except OSError:
        return ""


def _addresses(name: str) -> list[str]:
    if _is_ip(name):
        return []
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [bind_name(str(info[4][0]).split("%")[0]) for info in found]


def _outbound_address() -> list[str]:
    """The address this computer uses on its network (a UDP socket's choice; nothing is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, never answered
            return [probe.getsockname()[0]]
    except OSError:
        return []


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a request's `Origin` is the page it was sent to: same name and port as its
    `Host`. Anything else (another site, another port, `null`) is another web page."""
    try:
        sent_from = urlsplit(origin.strip())
        sent_to = urlsplit("//" + (host or "").strip())
        if sent_from.scheme not in _DEFAULT_PORTS or not sent_from.hostname or not sent_to.hostname:
            return False
        default = _DEFAULT_PORTS[sent_from.scheme]
        return sent_from.hostname == sent_to.hostname and (sent_from.port or default) == (sent_to.port or default)
    except ValueError:  # a port that is not a number
        return False


# -- wrong passwords ------------------------------------------------------------------------------


class LoginAttempts:
    """Wrong passwords, counted per client. Each one holds the answer back longer (`backoff`
    seconds, doubling up to `backoff_max`); after `lock_after` in a row the client may not
    try for `lock_for` seconds. A right password forgets the client's count. A sign-in form
    must arrive whole within `body_timeout` seconds."""

    def __init__(
        self,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        lock_after: int = 10,
        lock_for: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
        body_timeout: float = 5.0,
    ):
        self.body_timeout = body_timeout
        self.backoff, self.backoff_max = backoff, backoff_max
        self.lock_after, self.lock_for = lock_after, lock_for
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (wrong in a row, when the last was)
        self._lock = threading.Lock()

    def locked_for(self, client: str) -> float:
        """Seconds before this client may try again; 0 when it may try now."""
        with self._lock:
            count, last = self._current(client)
            if count < self.lock_after:
                return 0.0
            return max(0.0, last + self.lock_for - self.clock())

    def failed(self, client: str) -> float:
        """Count a wrong password; returns how long to hold back the answer."""
        with self._lock:
            count, _ = self._current(client)
            count += 1
            self._failures[client] = (count, self.clock())
            if len(self._failures) > 10_000:
                self._forget_old()
            return min(self.backoff * 2 ** (count - 1), self.backoff_max)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _current(self, client: str) -> tuple[int, float]:
        count, last = self._failures.get(client, (0, 0.0))
        if count and self.clock() - last > self.lock_for:  # long enough ago: start afresh
            self._failures.pop(client, None)
            return 0, 0.0
        return count, last

    def _forget_old(self) -> None:
        now = self.clock()
        for client, (_, last) in list(self._failures.items()):
            if now - last > self.lock_for:
                del self._failures[client]
