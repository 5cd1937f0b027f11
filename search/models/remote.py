"""An embedder and a reranker that run on another machine, behind an OpenAI-compatible server
(vLLM, Text Embeddings Inference, Infinity, Ollama, llama.cpp's server), with the same
interfaces as the local ones.

Embeddings: `POST {base}/embeddings` with `model`, `input` and, when a smaller one is asked
for, `dimensions`. Servers do not format queries, so Fathom does, as the Qwen3-Embedding
model card says (`Instruct: {task}\\nQuery:{query}`; documents plain) when the model takes
that format: known from its name (Qwen3-Embedding) or set (the query format setting). The
dimension the server answers is checked on every request.

Reranking: `POST {base}/rerank` with `query`, `documents`, `top_n`, answered with
`results[{index, relevance_score}]` (the Cohere/Jina shape vLLM, TEI and Infinity serve). A
Qwen3-Reranker behind a server gets vLLM's documented recipe for it: the query is the
system prefix and `<Instruct>: {instruction}\\n<Query>: {query}\\n`, each document
`<Document>: {doc}` and the assistant suffix, so the server scores exactly the prompt of the
model card.

Chunking still needs the model's tokenizer: the one in a local folder or the Hugging Face
cache when it is there (never downloaded), else an approximate one that overestimates
(approx_tokenizer.py).
"""
from __future__ import annotations

import base64
import copy
import threading
from typing import Any, Sequence

import numpy as np

from search.errors import ModelServerError
from search.models.approx_tokenizer import ApproxTokenizer
from search.models.loading import local_tokenizer
from search.models.server import PayloadTooLarge, RequestRefused, ServerClient, ServerPlacement
from search.wording import mark

CHAR_BUDGET = 64_000  # characters of text in one request (about 16k tokens of prose)
MAX_INPUTS = 32  # texts in one request: TEI refuses more than 32 by default
QWEN3_MAX_LENGTH = 8192  # as the local embedder reads Qwen3 (search/models/embedder.py)
UNKNOWN_MAX_LENGTH = 256  # the smallest common limit, when neither config nor server says
PROBE = "Fathom checks which vectors this server answers."


def query_format(name: str, chosen: str | None) -> tuple[str, str]:
    """(format, why): whether queries take Qwen3-Embedding's instruction format."""
    if chosen:
        return chosen, "set"
    return ("qwen3" if "qwen3-embedding" in name.lower() else "plain"), "name"


def rerank_format(name: str, chosen: str | None) -> tuple[str, str]:
    """(format, why): whether the reranker takes Qwen3-Reranker's prompt template."""
    if chosen:
        return chosen, "set"
    return ("qwen3" if "qwen3-reranker" in name.lower() else "plain"), "name"


def format_words(fmt: str, why: str, kind: str) -> str:
    """How `status` says it: `qwen3 (from the model's name)`."""
    setting = "query_format" if kind == "embedding" else "reranker_format"
    if why == "set":
        return f"{fmt} (set by {mark(setting)})"
    other = "plain" if fmt == "qwen3" else "qwen3"
    return f"{fmt} (from the model's name; {mark(setting, other)} to change)"


def char_batches(lengths: Sequence[int], budget: int = CHAR_BUDGET, max_inputs: int = MAX_INPUTS) -> list[list[int]]:
    """Indices in order, grouped so that a group's characters stay within `budget` and it
    holds at most `max_inputs` texts (a lone long text still gets a group of its own)."""
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, n in enumerate(lengths):
        if current and (size + n > budget or len(current) >= max_inputs):
            batches.append(current)
            current, size = [], 0
        current.append(i)
        size += n
    if current:
        batches.append(current)
    return batches


class RemoteEmbedder:
    """Embeddings from a server; what the rest of Fathom needs of an embedder."""

    def __init__(
        self,
        client: ServerClient,
        name: str,
        dimension: int,
        fmt: str = "plain",
        *,
        ask_dimensions: int | None = None,
        cut: bool = False,
        max_length: int = UNKNOWN_MAX_LENGTH,
        tokenizer: Any = None,
        char_budget: int = CHAR_BUDGET,
        max_inputs: int = MAX_INPUTS,
    ):
        self.client = client
        self.name = name
        self.dimension = dimension
        self.query_format = fmt
        self.ask_dimensions = ask_dimensions  # sent as `dimensions`
        self.cut = cut  # a Qwen3 model the server does not shorten: cut here, as the model card does
        self.max_length = max_length
        self.placement = ServerPlacement(client.url)
        self.char_budget = char_budget
        self.max_inputs = max_inputs
        self._tokenizer = tokenizer  # the model's own (None: the approximate one)
        self._tokenizer_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.client.url

    @property
    def takes_instructions(self) -> bool:
        return self.query_format == "qwen3"

    @property
    def exact_tokenizer(self) -> bool:
        return self._tokenizer is not None

    def chunk_tokenizer(self) -> Any:
        if self._tokenizer is None:
            return ApproxTokenizer()
        with self._tokenizer_lock:  # a fast tokenizer keeps settings on one object: a copy each
            return copy.deepcopy(self._tokenizer)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        if self.takes_instructions:
            from search.models.embedder import format_query

            queries = [format_query(q, task) for q in queries]
        return self._embed(list(queries))

    def close(self) -> None:
        self.client.close()

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        batches = char_batches([len(t) for t in texts], self.char_budget, self.max_inputs)
        answers = self.client.map(lambda batch: self._send([texts[i] for i in batch]), batches)
        for batch, vectors in zip(batches, answers):
            out[batch] = vectors
        return out

    def _send(self, texts: list[str]) -> np.ndarray:
        """Vectors for these texts, in one request, or in halves when it is too large."""
        try:
            vectors = request_embeddings(self.client, self.name, texts, self.ask_dimensions)
        except PayloadTooLarge as exc:
            if len(texts) == 1:
                raise RequestRefused(f"{exc} The text is too long for it.") from None
            half = len(texts) // 2
            return np.concatenate([self._send(texts[:half]), self._send(texts[half:])])
        width = vectors.shape[1]
        if width != self.dimension:
            if not (self.cut and width > self.dimension):
                raise ModelServerError(
                    f"The embedding server at {self.url} answered vectors of {width} dimensions for "
                    f"{self.name}, not {self.dimension} as before: check that it still serves the same "
                    f"model; if the model changed, re-index with it (and {mark('dim')}, if it must be smaller)."
                )
            vectors = vectors[:, : self.dimension]
        return _normalised(vectors)


def request_embeddings(client: ServerClient, model: str, texts: list[str], dimensions: int | None) -> np.ndarray:
    """One `POST /embeddings`: the vectors as the server gave them, in the order of `texts`."""
    payload: dict[str, Any] = {"model": model, "input": texts, "encoding_format": "float"}
    if dimensions:
        payload["dimensions"] = dimensions
    answer = client.post("/embeddings", payload)
    items = answer.get("data") if isinstance(answer, dict) else None
    not_embeddings = ModelServerError(
        f"The embedding server at {client.url} answered /embeddings with something that is not "
        f"{len(texts)} embedding(s): check that {client.url_setting} points at an OpenAI-compatible API."
    )
    if not isinstance(items, list) or len(items) != len(texts):
        raise not_embeddings
    try:
        if all(isinstance(item.get("index"), int) for item in items):
            items = sorted(items, key=lambda item: item["index"])
        rows = [_vector(item["embedding"]) for item in items]
        matrix = np.stack(rows).astype(np.float32, copy=False)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise not_embeddings from None
    if matrix.ndim != 2 or matrix.shape[1] == 0 or not np.isfinite(matrix).all():
        raise not_embeddings
    return matrix


def _vector(value: Any) -> np.ndarray:
    if isinstance(value, str):  # encoding_format=base64, if a server sends it anyway
        return np.frombuffer(base64.b64decode(value), dtype="<f4")
    return np.asarray(value, dtype=np.float32)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def load_remote_embedder(
    url: str, name: str, *, dimension: int | None = None, fmt: str | None = None, client: ServerClient | None = None,
    **connection: Any,
) -> RemoteEmbedder:
    """Connect to the server (`client`, else one made with ServerClient's `connection`
    keywords: api_key, key_variables, timeout, in_flight) and learn the model's dimension from
    a first, small request, so a server that is down, refuses the key or cannot give
    `dimension` is found before anything is indexed."""
    chosen, _ = query_format(name, fmt)
    client = client or ServerClient(url, what="embedding", **connection)
    try:
        named = f"Check the model's name, as the server knows it ({mark('embedding_model')})."
        full = _probe(client, name, None, named)
        ask, cut = (None, False) if dimension in (None, full) else _shortened(client, name, dimension, full, chosen)
        max_length, tokenizer = _length_and_tokenizer(client, name, chosen)
    except BaseException:
        client.close()
        raise
    return RemoteEmbedder(client, name, dimension or full, chosen, ask_dimensions=ask, cut=cut, max_length=max_length,
                          tokenizer=tokenizer)


def _probe(client: ServerClient, name: str, dimensions: int | None, advice: str) -> int:
    """The width of the vectors the server answers for one short text; a refused request is a
    ModelServerError that ends with `advice`."""
    try:
        return request_embeddings(client, name, [PROBE], dimensions).shape[1]
    except RequestRefused as exc:
        raise ModelServerError(f"{exc} {advice}") from None


def _shortened(client: ServerClient, name: str, dimension: int, full: int, chosen: str) -> tuple[int, bool]:
    """(the `dimensions` to send, whether to cut here) for vectors of `dimension`, not the
    model's `full` width: the server shortens them, or a Qwen3 model is cut here."""
    if dimension > full:
        raise ModelServerError(
            f"The embedding server at {client.url} answers vectors of {full} dimensions for {name}, "
            f"fewer than the {dimension} asked for ({mark('dim')}, or the index's dimension): choose "
            f"{full} or less, or check that the server serves the model the index was built with."
        )
    advice = f"It cannot shorten {name}'s vectors to {dimension} dimensions: drop {mark('dim')} (wherever it is set)."
    width = _probe(client, name, dimension, advice)
    cut = chosen == "qwen3" and width > dimension
    if width != dimension and not cut:
        raise ModelServerError(
            f"The embedding server at {client.url} answered vectors of {width} dimensions for "
            f"{name}, not the {dimension} asked for: it does not shorten this model's vectors. "
            f"Drop {mark('dim')} (wherever it is set), or use a model that can be shortened (Qwen3-Embedding)."
        )
    return dimension, cut


def _length_and_tokenizer(client: ServerClient, name: str, chosen: str) -> tuple[int, Any]:
    """The most tokens the served model reads, and its own tokenizer when it is here (None:
    the approximate one)."""
    card = _model_card(client, name)
    tokenizer, max_length = local_tokenizer(name)
    if tokenizer is None and isinstance(card.get("root"), str):
        tokenizer, max_length = local_tokenizer(card["root"])  # vLLM: the model it serves under this name
    served = card.get("max_model_len")  # a server may run a model shorter than its config says
    limits = [n for n in (max_length, served) if isinstance(n, int) and n > 0]
    return (min(limits) if limits else QWEN3_MAX_LENGTH if chosen == "qwen3" else UNKNOWN_MAX_LENGTH), tokenizer


def _model_card(client: ServerClient, name: str) -> dict[str, Any]:
    """What GET /models says of this model: vLLM gives `root` (the model it loaded, when it is
    served under another name) and `max_model_len`; other servers little or nothing."""
    answer = client.get("/models")
    models = answer.get("data") if isinstance(answer, dict) else None
    for model in models if isinstance(models, list) else []:
        if isinstance(model, dict) and model.get("id") == name:
            return model
    return {}


# -- reranking ---------------------------------------------------------------------------------


class RemoteReranker:
    """Rerank scores from a server's rerank API, in the order of the documents given."""

    def __init__(self, client: ServerClient, name: str, fmt: str = "plain", char_budget: int = CHAR_BUDGET,
                 max_inputs: int = MAX_INPUTS):
        self.client = client
        self.name = name
        self.format = fmt
        self.placement = ServerPlacement(client.url)
        self.char_budget = char_budget
        self.max_inputs = max_inputs

    def close(self) -> None:
        self.client.close()

    def rerank(self, query: str, documents: Sequence[str], instruction: str | None = None) -> list[float]:
        if not documents:
            return []
        query_text, texts = self.prompts(query, documents, instruction)
        batches = char_batches([len(t) for t in texts], self.char_budget, self.max_inputs)
        answers = self.client.map(lambda batch: self._send(query_text, [texts[i] for i in batch]), batches)
        scores = [0.0] * len(texts)
        for batch, values in zip(batches, answers):
            for i, value in zip(batch, values):
                scores[i] = value
        return scores

    def prompts(self, query: str, documents: Sequence[str], instruction: str | None) -> tuple[str, list[str]]:
        """The query and documents as the server is sent them."""
        if self.format != "qwen3":
            return query, list(documents)
        from search.models.embedder import DEFAULT_TASK
        from search.models.reranker import PREFIX, SUFFIX

        # vLLM's recipe for Qwen3-Reranker (examples/online_serving/qwen3_rerank_client.py):
        # query and document are joined into the model card's prompt on the server.
        head = f"{PREFIX}<Instruct>: {instruction or DEFAULT_TASK}\n<Query>: {query}\n"
        return head, [f"<Document>: {doc}{SUFFIX}" for doc in documents]

    def _send(self, query: str, documents: list[str]) -> list[float]:
        payload = {"model": self.name, "query": query, "documents": documents, "top_n": len(documents),
                   "return_documents": False}
        answer = self.client.post("/rerank", payload)
        results = answer.get("results") if isinstance(answer, dict) else answer
        scores: dict[int, float] = {}
        try:
            for item in results:
                score = item["relevance_score"] if "relevance_score" in item else item["score"]
                scores[int(item["index"])] = float(score)
        except (KeyError, TypeError, ValueError):
            scores = {}
        if sorted(scores) != list(range(len(documents))):
            raise ModelServerError(
                f"The reranker server at {self.client.url} did not answer a score for each of the "
                f"{len(documents)} documents (results[{{index, relevance_score}}]): check that "
                f"{self.client.url_setting} points at a server with a rerank API."
            )
        return [scores[i] for i in range(len(documents))]


def load_remote_reranker(
    url: str, name: str, *, fmt: str | None = None, client: ServerClient | None = None, **connection: Any
) -> RemoteReranker:
    """Connect (as load_remote_embedder does) and rerank one pair, so a server that cannot
    rerank is found at once."""
    chosen, _ = rerank_format(name, fmt)
    client = client or ServerClient(url, what="reranker", **connection)
    reranker = RemoteReranker(client, name, chosen)
    try:
        reranker.rerank(PROBE, [PROBE])
    except RequestRefused as exc:
        client.close()
        raise ModelServerError(
            f"{exc} Check the model's name as the server knows it ({mark('reranker_model')}), and that it serves a "
            "reranker."
        ) from None
    except BaseException:
        client.close()
        raise
    return reranker
