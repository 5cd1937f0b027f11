"""A stand-in for an OpenAI-compatible model server, on loopback, for what a real server
cannot be made to show on demand: 429s with Retry-After, 500s, a wrong dimension, a slow
answer, a refused key, and the rerank API.

It answers `POST /v1/embeddings` with deterministic bag-of-words vectors (the tests' fake
embedder) and `POST /v1/rerank` with word-overlap scores, records every request (path,
headers, JSON body, time) and how many were in flight at once, and plays scripted answers
first when a test queues them.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

DIMENSION = 64


def bag_of_words(text: str, dimension: int = DIMENSION) -> list[float]:
    vector = np.zeros(dimension, dtype=np.float64)
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dimension] += 1
    vector[0] += 1e-3  # never all zeros
    return (vector / np.linalg.norm(vector)).tolist()


@dataclass
class Scripted:
    """One answer to play instead of the normal one."""

    status: int = 200
    body: Any = None  # JSON; None: the normal answer (after `delay`)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class StandInServer:
    def __init__(self, dimension: int = DIMENSION, key: str | None = None, honours_dimensions: bool = True):
        self.dimension = dimension
        self.key = key  # when set, requests without `Authorization: Bearer KEY` get 401
        self.honours_dimensions = honours_dimensions
        self.models: list[dict[str, Any]] = [{"id": "stand-in", "object": "model"}]  # GET /v1/models
        self.delay = 0.0  # seconds before every normal answer
        self.script: list[Scripted] = []
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._reply(200, {"object": "list", "data": server.models})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                with server._lock:
                    server.requests.append(Seen(self.path, dict(self.headers), body, time.monotonic()))
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                    scripted = server.script.pop(0) if server.script else None
                try:
                    self._answer(body, scripted)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, body: Any, scripted: Scripted | None) -> None:
                time.sleep(scripted.delay if scripted else server.delay)
                if scripted is not None and (scripted.status != 200 or scripted.body is not None):
                    self._reply(scripted.status, scripted.body, scripted.headers)
                    return
                if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                    self._reply(401, {"error": {"message": "Invalid API key", "type": "auth"}})
                elif self.path == "/v1/embeddings":
                    self._reply(200, server.embeddings(body))
                elif self.path == "/v1/rerank":
                    self._reply(200, server.rerank(body))
                else:
                    self._reply(404, {"detail": "Not Found"})

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "StandInServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "StandInServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def bodies(self, path: str = "/v1/embeddings") -> list[Any]:
        return [seen.body for seen in self.requests if seen.path == path]

    # -- the normal answers -------------------------------------------------------------------

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        width = body.get("dimensions") if self.honours_dimensions and body.get("dimensions") else self.dimension
        data = []
        for i, text in enumerate(texts):
            vector = np.asarray(bag_of_words(text, self.dimension)[:width])
            data.append({"object": "embedding", "index": i, "embedding": (vector / np.linalg.norm(vector)).tolist()})
        data.reverse()  # answers may come in any order: `index` says which is which
        return {"object": "list", "data": data, "model": body.get("model"), "usage": {"prompt_tokens": 0}}

    def rerank(self, body: dict[str, Any]) -> dict[str, Any]:
        query_words = set(re.findall(r"\w+", body["query"].lower()))
        results = []
        for i, doc in enumerate(body["documents"]):
            words = set(re.findall(r"\w+", doc.lower()))
            results.append({"index": i, "relevance_score": len(query_words & words) / (1 + len(words))})
        results.sort(key=lambda r: -r["relevance_score"])  # best first, as servers answer
        return {"id": "rerank", "model": body.get("model"), "results": results[: body.get("top_n") or None]}
