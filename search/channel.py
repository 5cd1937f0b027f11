"""A running Fathom (the page, or `index --watch`) answers the command line's searches, so a
terminal search does not load the models again: a Unix socket that only this user can open.

The socket lives in the data folder (or, when that path is too long for a socket, in a folder
of this user's own, named after the data folder: `fathom-UID` in the system's temporary
folder; if another user made that first, `fathom` in XDG_RUNTIME_DIR; else a fresh private
folder whose name the data folder keeps), with mode 0600, and the server checks the caller's
user id as well. One JSON object a line each
way: a request, then one answer per query (`{"query", "results"}`, the CLI's own JSON) and a
last line (`{"done": true, "notes": [...]}`), or `{"error": ...}`, or `{"declined": ...}` when
the running Fathom has other models than the caller asks for (the caller then searches in its
own process). `{"hello": true}` asks who is serving (for `status`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import sys
import tempfile
import threading
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Callable, Iterator

from search import settings_table
from search.errors import FathomError
from storage import ChunkFilter, StorageError

log = logging.getLogger(__name__)
SOCKET_NAME = "fathom.sock"
PROTOCOL = 1
_MAX_PATH = 100  # sun_path holds 104 to 108 bytes, depending on the system
CONNECT_SECONDS = 2.0
STILL_LOADING = "its models are still loading"  # a decline that the caller may wait out


def available() -> bool:
    return hasattr(socket, "AF_UNIX") and sys.platform != "win32"


def socket_path(data_dir: Path) -> Path:
    """Where the socket of this data folder is (the same for the server and its callers)."""
    data_dir = Path(data_dir).expanduser().resolve()
    path = data_dir / SOCKET_NAME
    if len(os.fsencode(str(path))) <= _MAX_PATH:
        return path
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return _private_runtime_folder(data_dir) / f"{digest}.sock"


POINTER_NAME = "socket-folder"  # in the data folder: the fresh folder's path, when one was needed


def _private_runtime_folder(data_dir: Path | None = None) -> Path:
    """A folder for sockets that only this user can enter. Another user can make
    /tmp/fathom-UID first (a shared /tmp): then XDG_RUNTIME_DIR (this user's own, 0700), else a
    fresh folder from mkdtemp, named in the data folder so that callers find it too."""
    candidates = [Path(tempfile.gettempdir()) / f"fathom-{os.getuid()}"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        candidates.append(Path(runtime) / "fathom")
    for folder in candidates:
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        if _private(folder):
            return folder
    return _fresh_folder(data_dir)


def _private(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _fresh_folder(data_dir: Path | None) -> Path:
    pointer = Path(data_dir) / POINTER_NAME if data_dir is not None else None
    if pointer is not None:
        try:
            named = Path(pointer.read_text(encoding="utf-8").strip())
            if named.is_absolute() and _private(named):
                return named
        except (OSError, UnicodeDecodeError, ValueError):
            pass
    folder = Path(tempfile.mkdtemp(prefix=f"fathom-{os.getuid()}-"))  # 0700, a name nobody can guess
    if pointer is not None and pointer.parent.is_dir():
        try:
            descriptor = os.open(pointer, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(str(folder) + "\n")
        except OSError:
            pass
    return folder


# -- the server ----------------------------------------------------------------------------------------


class Channel:
    """Serves searches through `engine()` (the page swaps its engine when settings change)."""

    def __init__(self, engine: Callable[[], Any], data_dir: Path, role: str):
        self.engine = engine
        self.role = role
        self.path = socket_path(data_dir)
        self.started = time.time()
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Channel | None":
        """Listen, unless this platform has no Unix sockets or another Fathom already serves
        this data folder (then that one answers, and None is returned)."""
        if not available():
            return None
        if ask(self.path, {"hello": True}) is not None:
            return None
        self.path.unlink(missing_ok=True)  # left by a Fathom that was killed
        channel = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                channel._handle(self.connection, self.rfile, self.wfile)

        old = os.umask(0o177)  # the socket is born 0600: no moment when others could connect
        try:
            server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        finally:
            os.umask(old)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fathom-channel", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.path.unlink(missing_ok=True)

    def _handle(self, connection: socket.socket, rfile: Any, wfile: Any) -> None:
        if not _same_user(connection):
            return
        try:
            request = json.loads(rfile.readline() or b"{}")
        except ValueError:
            return
        try:
            for answer in self._answers(request):
                wfile.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
                wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller went away (Ctrl-C)

    def _answers(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if request.get("hello"):
            yield {"pid": os.getpid(), "role": self.role, "since": self.started, "socket": str(self.path)}
            return
        engine = self.engine()
        if engine is None:
            yield {"declined": STILL_LOADING}
            return
        why = _mismatch(engine.settings, request.get("settings") or {})
        if why or request.get("version") != PROTOCOL:
            yield {"declined": why or "another version of Fathom"}
            return
        try:
            options = options_from_json(request.get("options") or {})
            yield from engine.answers(list(request.get("queries") or []), options, request.get("like"))
        except (FathomError, StorageError) as exc:
            yield {"error": str(exc)}
        except Exception as exc:  # the server must outlive one bad request
            log.exception("a search through the channel failed")
            yield {"error": f"The running Fathom could not answer: {exc.__class__.__name__}: {exc}"}


def _same_user(connection: socket.socket) -> bool:
    """The caller runs as this user (Linux tells; elsewhere the socket's mode is the check)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return uid == os.getuid()


# What must be the same in the running Fathom and in the caller for its answers to be the ones
# the caller would get.
SAME = (*settings_table.SAME, "database_name")


def _mismatch(settings: Any, wanted: dict[str, Any]) -> str | None:
    for key in SAME:
        if key in wanted and wanted[key] != getattr(settings, key):
            return f"it runs with another {key.replace('_', ' ')}"
    return None


# -- the caller -------------------------------------------------------------------------------------------


def ask(path: Path, request: dict[str, Any], timeout: float = CONNECT_SECONDS) -> list[dict[str, Any]] | None:
    """Send one request and read every answer line; None when nothing listens at `path`."""
    if not available():
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        return None
    client.settimeout(None)  # a search may take a while (a reranker on a CPU)
    with client, client.makefile("rwb") as stream:
        stream.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        stream.flush()
        client.shutdown(socket.SHUT_WR)
        return [json.loads(line) for line in stream if line.strip()]


def serving(data_dir: Path) -> dict[str, Any] | None:
    """Who answers searches for this data folder: {pid, role, since, socket}, or None."""
    answers = ask(socket_path(data_dir), {"hello": True})
    return answers[0] if answers else None


def options_to_json(options: Any) -> dict[str, Any]:
    data = asdict(options)
    if options.filters is not None:
        data["filters"] = asdict(options.filters)
    return data


def options_from_json(data: dict[str, Any]) -> Any:
    from search.query import SearchOptions

    known = {f.name for f in fields(SearchOptions)}
    values = {k: v for k, v in data.items() if k in known}
    if values.get("filters"):
        filters = dict(values["filters"])
        filters["extensions"] = tuple(filters.get("extensions") or ())
        values["filters"] = ChunkFilter(**filters)
    return SearchOptions(**values)
