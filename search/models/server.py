"""Talk to a model server over HTTP (an OpenAI-compatible API: vLLM, Text Embeddings
Inference, Infinity, Ollama, llama.cpp's server): JSON requests with a bounded number in
flight, retried with backoff on 429 and 5xx (honouring Retry-After), on timeouts and on
connections that fail; every way it fails becomes one sentence that says what to do.

The API key goes into the Authorization header and nowhere else: no message, log line or
repr holds it, and a server's error text that echoes it is masked.
"""
from __future__ import annotations

import email.utils
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

import httpx

from search import defaults
from search.errors import FathomError, ModelServerError
from search.wording import mark

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TIMEOUT = defaults.REMOTE_TIMEOUT_S
DEFAULT_IN_FLIGHT = defaults.REMOTE_REQUESTS
RETRIES = 3  # after the first try: 4 tries in all
BACKOFF = 0.5  # seconds before the first retry, doubled for each next one
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is cut to this
RETRY_STATUSES = {429, 500, 502, 503, 504}


class RequestRefused(FathomError):
    """The server refused this request for what it holds (HTTP 400/422, e.g. a text too
    long for its model): the inputs are at fault, not the server."""


class PayloadTooLarge(RequestRefused):
    """HTTP 413: the same inputs fit in smaller requests."""


@dataclass(frozen=True)
class ServerPlacement:
    """Where a remote model runs, for `status` and the page (a local model has a Placement)."""

    url: str

    def describe(self) -> str:
        return f"server {self.url}"


class ServerClient:
    """One server's base URL (`http://gpu-box:8000/v1`), its key, and its limits."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        what: str,  # "embedding" or "reranker": whose server
        key_variables: str | None = None,  # where the key is set, in marks; None: the `what`'s key settings
        timeout: float = DEFAULT_TIMEOUT,
        in_flight: int = DEFAULT_IN_FLIGHT,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = base_url.rstrip("/")
        self.what = what
        self.url_setting = mark(f"{what}_url")  # the setting that names this server, for messages
        self.key_variables = key_variables or f"{mark(f'{what}_api_key')} (or {mark('api_key')})"
        self.timeout = timeout
        self.in_flight = max(1, in_flight)
        self.retries = retries
        self._sleep = sleep
        self._key = api_key or None
        headers = {"Accept": "application/json", "User-Agent": "fathom"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=self.in_flight, max_keepalive_connections=self.in_flight),
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:  # never the key
        return f"ServerClient({self.url!r}, key={'set' if self._key else 'none'})"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self._http.close()

    # -- requests --------------------------------------------------------------------------

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST JSON to `{base}{path}` and return the decoded answer, retrying what can be
        retried. Raises ModelServerError when the server cannot be used, RequestRefused when
        it refuses these inputs."""
        url = self.url + path
        failure = ""
        for attempt in range(self.retries + 1):
            wait = min(MAX_BACKOFF, BACKOFF * 2**attempt)
            try:
                response = self._http.post(url, json=payload)
            except httpx.TimeoutException:
                failure = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                failure = _transport_words(exc)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._json(response, path)
                if status not in RETRY_STATUSES:
                    raise self._refusal(response, path)
                failure = f"HTTP {status}: {self._detail(response)}"
                wait = max(wait, _retry_after(response))
            if attempt < self.retries:
                self._sleep(wait)
        tries = self.retries + 1
        raise ModelServerError(
            f"The {self.what} server at {self.url} could not be used ({failure}, "
            f"{tries} {'try' if tries == 1 else 'tries'}): check that it is running and reachable "
            f"at that address ({self.url_setting}), or try again when it is less busy."
        )

    def get(self, path: str) -> Any | None:
        """GET `{base}{path}` once, for optional facts (e.g. a model's length limit): None
        whatever goes wrong."""
        try:
            response = self._http.get(self.url + path)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items with at most `in_flight` running at once (shared by every caller of
        this client: the indexer and searches together), results in order."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.in_flight, thread_name_prefix=f"fathom-{self.what}-server")
            pool = self._pool
        return list(pool.map(fn, items))

    # -- answers ---------------------------------------------------------------------------

    def _json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ModelServerError(
                f"The {self.what} server at {self.url} answered {path} with something that is not "
                f"JSON: check that {self.url_setting} points at an OpenAI-compatible API (it usually ends in /v1)."
            ) from None

    def _refusal(self, response: httpx.Response, path: str) -> FathomError:
        status, detail = response.status_code, self._detail(response)
        if status in (401, 403):
            if self._key:
                return ModelServerError(
                    f"The {self.what} server at {self.url} refused the API key (HTTP {status}): set the "
                    f"key it expects in {self.key_variables}."
                )
            return ModelServerError(
                f"The {self.what} server at {self.url} asks for an API key (HTTP {status}): set it in "
                f"{self.key_variables}."
            )
        if status == 404:
            return ModelServerError(
                f"The {self.what} server at {self.url} answered 404 for {path} ({detail}): check "
                f"{self.url_setting} (it usually ends in /v1) and the model's name, as the server knows it."
            )
        if status == 413:
            return PayloadTooLarge(f"The {self.what} server at {self.url} found the request too large ({detail}).")
        if status in (400, 422):
            return RequestRefused(f"The {self.what} server at {self.url} refused the request (HTTP {status}: {detail}).")
        return ModelServerError(
            f"The {self.what} server at {self.url} answered HTTP {status} ({detail}): check {self.url_setting}."
        )

    def _detail(self, response: httpx.Response) -> str:
        """The server's own words on what went wrong: one line, short, the key masked."""
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                body = error.get("message") or error
            else:
                body = error or body.get("detail") or body.get("message") or body
        text = " ".join(str(body).split()) or response.reason_phrase or "no detail"
        if self._key:
            text = text.replace(self._key, "***")
        return text if len(text) <= 200 else text[:199] + "…"


def _retry_after(response: httpx.Response) -> float:
    """Seconds the server asked to wait (Retry-After: seconds or an HTTP date), or 0."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        seconds = when.timestamp() - time.time()
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _transport_words(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect: " + (str(exc).strip() or "connection refused")
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection was dropped"
    return f"{exc.__class__.__name__}: {str(exc).strip() or 'network error'}"
