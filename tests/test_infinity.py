"""A real embedding server: Infinity, started by the tests on loopback, serving the packaged
all-MiniLM-L6-v2 under another name. Indexing and searching through it agree with MiniLM in
this process; a stopped server or a refused key is one sentence and exit 1.

Infinity pins transformers 4.x, so it lives in a virtual environment of its own:
FATHOM_INFINITY_VENV, by default ~/.cache/fathom-infinity-venv, which .ci/run makes with

    python -m venv DIR && DIR/bin/pip install "infinity-emb[server,torch]" torch==2.13.0

Without it these tests are skipped, with that reason.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from conftest import json_lines, run_cli
from infinity_server import VENV, Infinity

SERVED_NAME = "minilm-remote"
KEY = "infinity-test-key-0123456789"
MODULES = [
    "argparse", "asyncio", "base64", "bisect", "calendar", "cmd", "collections", "concurrent.futures",
    "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email",
    "enum", "filecmp", "fnmatch", "fractions", "ftplib", "functools", "getpass", "gettext", "glob", "gzip",
    "hashlib", "heapq", "hmac", "html.parser", "http.server", "imaplib", "inspect", "ipaddress", "itertools",
    "json", "logging", "mailbox", "mimetypes", "operator", "optparse", "pathlib", "pickle", "pprint",
    "queue", "random", "re", "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib",
    "socketserver", "sqlite3", "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap",
    "threading", "timeit", "tokenize", "trace", "unittest", "urllib.parse", "uuid", "wave", "zipfile",
]
QUERIES = [
    "parse command line options and arguments", "read and write comma separated values",
    "compress files into an archive", "send an email through a mail server", "work with dates and times",
    "exact decimal arithmetic for money", "run a child process and capture its output",
    "save python objects to a file", "wrap long paragraphs of text", "priority queue with a heap",
    "copy a whole directory tree", "write log messages to a file", "write and run unit tests",
    "match text with regular expressions", "generate random numbers and choices", "encode data as json",
    "store data in an embedded database", "run code in several threads", "serve files over http",
    "create temporary files and folders",
]


def write_library_docs(folder: Path, max_chars: int) -> Path:
    """One file per standard-library module: its docstring, then its public functions' and
    classes' docstrings, cut at a word boundary before `max_chars`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # e.g. a module a Python build leaves out
            continue
        parts = [f"# {name}\n", inspect.getdoc(module) or ""]
        for attr, value in sorted(vars(module).items()):
            if attr.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            doc = inspect.getdoc(value)
            if doc and getattr(value, "__module__", "") == module.__name__:
                parts.append(f"\n## {attr}\n{doc}")
        text = "\n".join(parts)
        if len(text) > max_chars:
            text = text[: text.rfind(" ", 0, max_chars)]
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def infinity(minilm_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infinity]:
    if not Infinity.installed():
        reason = (
            f"Infinity is not installed in {VENV}: .ci/run makes that virtual environment "
            '(python -m venv DIR && DIR/bin/pip install "infinity-emb[server,torch]" torch==2.13.0), '
            "or set FATHOM_INFINITY_VENV to one"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have it.")
        pytest.skip(reason)
    server = Infinity(Path(minilm_path), SERVED_NAME, tmp_path_factory.mktemp("infinity") / "infinity.log", key=KEY)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def remote(infinity: Infinity) -> list[str]:
    return ["--embedding-url", infinity.url, "--embedding-model", SERVED_NAME, "--reranker-model", "none"]


def top_paths(out: str) -> list[list[str]]:
    return [[Path(r["path"]).name for r in line["results"]] for line in json_lines(out)]


def test_a_refused_key(capsys: pytest.CaptureFixture[str], infinity: Infinity, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("a note", encoding="utf-8")
    monkeypatch.setenv("FATHOM_API_KEY", "not-the-key")
    code, _, err = run_cli(capsys, "index", str(docs), *remote(infinity))
    assert code == 1
    assert err.strip() == (
        f"fathom: The embedding server at {infinity.url} refused the API key (HTTP 401): set the key it "
        "expects in FATHOM_EMBEDDING_API_KEY (or FATHOM_API_KEY)."
    )
    assert "not-the-key" not in err
    assert not (tmp_path / "fathom-data" / "fathom.db").exists() or json.loads(
        run_cli(capsys, "status", "--json")[1])["chunks"] == 0


def overlap_at_10(capsys: pytest.CaptureFixture[str], folder: Path, queries: Path, here: list[str],
                  there: list[str]) -> tuple[float, int]:
    """Index `folder` in this process and through the server; the mean share of the top 10
    files the two find for each query, and for how many queries the best file is the same."""
    search = ["search", "--queries", str(queries), "--json", "--mode", "vector", "-k", "10", "--no-rerank"]
    tops = []
    for options in (here, there):
        code, out, err = run_cli(capsys, "index", str(folder), "--json", *options)
        assert code == 0, err
        assert json.loads(out)["added"] == len(list(folder.iterdir())) and json.loads(out)["failed"] == []
        code, out, err = run_cli(capsys, *search, *options)
        assert code == 0, err
        tops.append(top_paths(out))
    pairs = list(zip(*tops))
    assert len(pairs) == len(QUERIES) and all(len(a) == len(b) == 10 for a, b in pairs)
    return sum(len(set(a) & set(b)) / 10 for a, b in pairs) / len(pairs), sum(a[0] == b[0] for a, b in pairs)


def test_index_and_search_through_infinity_agree_with_minilm_here(
    capsys: pytest.CaptureFixture[str], infinity: Infinity, minilm_path: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FATHOM_API_KEY", KEY)
    queries = tmp_path / "queries.txt"
    queries.write_text("\n".join(QUERIES) + "\n", encoding="utf-8")

    def options(name: str, served: bool) -> list[str]:
        model = remote(infinity) if served else ["--embedding-model", minilm_path, "--reranker-model", "none"]
        return ["--data-dir", str(tmp_path / name), *model]

    # Files of one chunk: MiniLM's tokenizer here and the approximate one used with the
    # served name cut them alike, so the server must give what this process gives.
    notes = write_library_docs(tmp_path / "notes", max_chars=400)
    overlap, same_best = overlap_at_10(capsys, notes, queries, options("notes-here", False), options("notes-there", True))
    with capsys.disabled():
        print(f"\none-chunk files: top-10 overlap {overlap:.3f}, same best file {same_best}/20")
    assert overlap >= 0.9 and same_best >= 18
    status = json.loads(run_cli(capsys, "status", "--json", *options("notes-there", True))[1])
    assert status["embedding_model"] == f"{SERVED_NAME} @ {infinity.url}" and status["dimension"] == 384

    # Files of several chunks: the approximate tokenizer overestimates, so its chunks are
    # smaller than MiniLM's own, and some results move.
    docs = write_library_docs(tmp_path / "docs", max_chars=3000)
    overlap, same_best = overlap_at_10(capsys, docs, queries, options("docs-here", False), options("docs-there", True))
    with capsys.disabled():
        print(f"files of several chunks: top-10 overlap {overlap:.3f}, same best file {same_best}/20")
    assert overlap >= 0.8
    # With MiniLM's own tokenizer named for the served model, they are cut alike again.
    overlap, same_best = overlap_at_10(
        capsys, docs, queries, options("docs-here-again", False), [*options("docs-tokenizer", True), "--tokenizer", minilm_path]
    )
    with capsys.disabled():
        print(f"files of several chunks, --tokenizer: top-10 overlap {overlap:.3f}, same best file {same_best}/20")
    assert overlap >= 0.9 and same_best >= 18

    infinity.stop()
    code, out, err = run_cli(capsys, "search", "parse command line options", "--mode", "vector", *options("notes-there", True))
    assert code == 1 and out == ""
    line = err.strip()
    assert "\n" not in line and line.endswith(".") and "Traceback" not in err
    assert line.startswith(f"fathom: The embedding server at {infinity.url} could not be used (cannot connect")
