"""Agents search through Fathom's MCP server, driven by the official MCP Python SDK client: over
stdio as an agent starts it (`python app.py mcp`), and over Streamable HTTP inside the page
(`--mcp`). Read-only tools, files handed out only as the page's downloads are, errors worded
for an agent, words-only answers while the model loads, and both index backends."""
from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from conftest import write_corpus
from page_server import BEARER, page_in_process
from page_server import request as raw_request
from pdf_fixtures import write_text_pdf
from search.agents.backends import ProcessBackend
from search.agents.reading import Refusal
from search.agents.results import Failure, SearchAnswer
from search.agents.tools import AgentTools
from search.channel import Channel, available
from search.config import Settings
from search.engine import Engine
from search.errors import FathomError
from search.wording import mark, run

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"search", "similar", "get", "status"}
SECRET = "hunter2-never-shown"
BREAD = "how do I bake bread at home"
DESCALE = "how to descale the espresso machine with citric acid"
PASSWORD = "a-long-passphrase"


def make_folder(root: Path, long_files: bool = True) -> Path:
    """The test corpus, a PDF, a long file, and what an agent must never read: a hidden file, a
    file in .git, a link inside the folder to the hidden file, and a link out of the folder."""
    write_corpus(root)
    (root / ".env").write_text(f"API_KEY={SECRET}\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"[remote]\n\ttoken = {SECRET}\n", encoding="utf-8")
    (root / "visible.txt").symlink_to(root / ".env")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    if not long_files:  # embedding a long file, or reading a PDF, takes seconds on a busy machine
        return root
    (root / "logs").mkdir()
    (root / "logs" / "long.txt").write_text(
        "".join(f"line {n}: the nightly backup finished without errors\n" for n in range(1, 501)), encoding="utf-8"
    )
    (root / "manuals").mkdir()
    write_text_pdf(root / "manuals" / "espresso.pdf", [
        "Unpacking the espresso machine. Place it on a flat surface near a socket.",
        "Descaling. Once a month, run a solution of citric acid through the boiler and rinse twice.",
    ])
    return root


def forbidden(root: Path) -> list[str]:
    return ["/etc/passwd", str(root / ".env"), str(root / ".git" / "config"), str(root / "visible.txt"),
            str(root / "passwd.txt"), str(root / "cooking" / ".." / ".env")]


def settings_for(data: Path, minilm_path: str, database_url: str | None = None) -> Settings:
    data.mkdir(parents=True, exist_ok=True)
    return Settings.resolve(data_dir=str(data), embedding_model=minilm_path, reranker_model="none",
                            database_url=database_url)


def index_here(settings: Settings, minilm: Any, root: Path) -> None:
    with Engine(settings) as engine:
        engine._embedder = minilm
        engine.index([root])


async def converse(server: Any, root: Path) -> dict[str, Any]:
    """One agent's session: every tool, once the model has loaded."""
    calls: dict[str, Any] = {}
    async with Client(server) as client:
        calls["tools"] = (await client.list_tools()).tools
        deadline = time.monotonic() + 120
        while True:
            answer = await client.call_tool("search", {"query": BREAD, "k": 3})
            if not answer.structured_content["words_only"] or time.monotonic() > deadline:
                break
            await anyio.sleep(0.5)
        calls["bread"] = answer
        calls["descale"] = await client.call_tool("search", {"query": DESCALE, "file_types": ["pdf", "txt"]})
        calls["get"] = await client.call_tool("get", {"path": str(root / "code" / "fibonacci.py")})
        calls["lines"] = await client.call_tool("get", {"path": str(root / "code" / "fibonacci.py"),
                                                        "start_line": 2, "end_line": 3})
        calls["page"] = await client.call_tool("get", {"path": str(root / "manuals" / "espresso.pdf"), "page": 2})
        calls["long"] = await client.call_tool("get", {"path": str(root / "logs" / "long.txt")})
        calls["refused"] = {path: await client.call_tool("get", {"path": path}) for path in forbidden(root)}
        calls["bad_date"] = await client.call_tool("search", {"query": "tax", "modified_after": "yesterday"})
        calls["similar"] = await client.call_tool("similar", {"path": str(root / "cooking" / "sourdough.md"), "k": 3})
        calls["status"] = await client.call_tool("status", {})
    return calls


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


# -- over stdio, as an agent starts it -------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, minilm_path: str, minilm: Any) -> tuple[Settings, Path]:
    """One index for the module: no tool writes to it."""
    tmp = tmp_path_factory.mktemp("mcp")
    settings = settings_for(tmp / "data", minilm_path)
    root = make_folder(tmp / "docs")
    index_here(settings, minilm, root)
    return settings, root


@pytest.fixture(scope="module")
def stdio(indexed: tuple[Settings, Path], minilm_path: str) -> dict[str, Any]:
    settings, root = indexed
    env = {"FATHOM_DATA_DIR": str(settings.data_dir), "FATHOM_EMBEDDING_MODEL": minilm_path,
           "FATHOM_RERANKER_MODEL": "none", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    server = StdioServerParameters(command=sys.executable, args=["app.py", "mcp"], env=env, cwd=str(ROOT))
    return {"root": root, **anyio.run(converse, server, root)}


def test_the_tools_are_exactly_the_read_only_four(stdio: dict[str, Any]) -> None:
    tools = stdio["tools"]
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.description and tool.output_schema
    search = next(tool for tool in tools if tool.name == "search")
    assert set(search.input_schema["properties"]) == {
        "query", "task", "instruction", "k", "folder", "file_types", "modified_after", "modified_before", "mode"}
    assert search.input_schema["required"] == ["query"]


def test_search_puts_the_right_file_first(stdio: dict[str, Any]) -> None:
    answer = stdio["bread"]
    found = answer.structured_content
    assert not answer.is_error and not found["words_only"]
    first = found["results"][0]
    assert first["path"] == str(stdio["root"] / "cooking" / "sourdough.md")
    assert first["title"] == "Sourdough bread" and first["embedded"] is True
    assert (first["first_line"], first["last_line"]) == (1, 3) and first["page"] is None
    assert "starter" in first["snippet"] and first["score"] > found["results"][1]["score"]
    assert found["answered_by"] == "this server"
    # The text form an agent reads says the same.
    assert text_of(answer).startswith(f'3 file(s) for "{BREAD}"') and "sourdough.md (lines 1-3" in text_of(answer)


def test_a_pdf_result_names_its_page_and_get_reads_that_page(stdio: dict[str, Any]) -> None:
    first = stdio["descale"].structured_content["results"][0]
    assert first["path"].endswith("espresso.pdf") and first["page"] == 2 and first["first_line"] is None
    page = stdio["page"].structured_content
    assert page["page"] == 2 and page["pages"] == 2
    assert "citric acid" in page["text"] and "Unpacking" not in page["text"]


def test_get_returns_the_indexed_text_whole_or_by_lines(stdio: dict[str, Any]) -> None:
    whole = stdio["get"].structured_content
    source = (stdio["root"] / "code" / "fibonacci.py").read_text(encoding="utf-8")
    assert whole["text"] == source and not whole["truncated"]
    lines = stdio["lines"].structured_content
    assert lines["text"] == "".join(source.splitlines(keepends=True)[1:3]).rstrip("\n")
    assert (lines["first_line"], lines["last_line"], lines["total_lines"]) == (2, 3, source.count("\n") + 1)


def test_a_long_file_is_cut_with_a_note_on_how_to_read_on(stdio: dict[str, Any]) -> None:
    long = stdio["long"].structured_content
    assert long["truncated"] and len(long["text"]) <= 20_000
    last = long["last_line"]
    assert long["text"].endswith(f"line {last}: the nightly backup finished without errors")
    assert f"start_line={last + 1}" in long["note"] and f"start_line={last + 1}" in text_of(stdio["long"])


def test_get_refuses_anything_but_an_indexed_file_and_shows_none_of_it(stdio: dict[str, Any]) -> None:
    for path, answer in stdio["refused"].items():
        words = text_of(answer)
        assert answer.is_error, path
        assert "is not a file Fathom indexed" in words, path
        assert SECRET not in words and "root:" not in words and answer.structured_content is None


def test_errors_name_the_tool_arguments_not_command_line_options(stdio: dict[str, Any]) -> None:
    answer = stdio["bad_date"]
    assert answer.is_error and "modified_after 'yesterday' is not a date" in text_of(answer)
    assert "--" not in text_of(answer) and "python app.py" not in text_of(answer)


def test_similar_finds_other_files_and_leaves_the_file_out(stdio: dict[str, Any]) -> None:
    found = stdio["similar"].structured_content
    paths = [hit["path"] for hit in found["results"]]
    assert paths and str(stdio["root"] / "cooking" / "sourdough.md") not in paths


def test_status_says_what_is_indexed_and_what_answers(stdio: dict[str, Any]) -> None:
    status = stdio["status"].structured_content
    (folder,) = status["folders"]
    assert folder["path"] == str(stdio["root"]) and folder["indexed"] == status["indexed_files"] >= 10
    assert status["embedding_model"] and status["dimension"] == 384
    assert status["models"].startswith("loaded in this server")


# -- the tools themselves: words while the model loads, a running Fathom first, both backends ---------------


class Loading:
    """A model loader that has not finished."""

    ready = failed = reranker_ready = False

    def view(self) -> Any:
        return SimpleNamespace(seconds=12.0, device="", stage="Loading")


def test_while_the_model_loads_searches_match_words_and_say_so(indexed: tuple[Settings, Path]) -> None:
    settings, root = indexed
    backend = ProcessBackend(settings)
    backend._loader = Loading()  # type: ignore[assignment]
    answer = AgentTools(backend).search("sourdough starter", k=3)
    backend.close()
    assert answer.words_only and answer.results[0].path.endswith("sourdough.md")
    assert "still loading (12 s so far)" in answer.notes[0]
    assert "(by words only)" in answer.as_text()


@pytest.mark.skipif(not available(), reason="this platform has no Unix sockets")
def test_a_running_fathom_answers_and_no_model_is_loaded_here(indexed: tuple[Settings, Path], minilm: Any) -> None:
    settings, root = indexed
    engine = Engine(settings)
    engine._embedder = minilm
    channel = Channel(lambda: engine, settings.data_dir, "index --watch").start()
    backend = ProcessBackend(settings)
    try:
        answer = AgentTools(backend).search(BREAD, k=3)
        assert answer.answered_by.startswith("the running Fathom") and not answer.words_only
        assert answer.results[0].path.endswith("sourdough.md")
        assert backend._loader is None  # nothing was loaded in this process
    finally:
        channel.stop()
        engine.close()
        backend.close()


@pytest.mark.skipif(not available(), reason="this platform has no Unix sockets")
def test_a_running_fathom_still_loading_gets_words_and_no_second_model(indexed: tuple[Settings, Path]) -> None:
    settings, _ = indexed
    channel = Channel(lambda: None, settings.data_dir, "page").start()  # its models still load
    backend = ProcessBackend(settings)
    try:
        answer = AgentTools(backend).search("sourdough starter")
        assert answer.words_only and "running Fathom is still loading" in answer.notes[0]
        assert backend._loader is None
    finally:
        channel.stop()
        backend.close()


@pytest.mark.parametrize("arguments, words", [
    ({"task": "code", "instruction": "find code"}, "Give task or instruction, not both."),
    ({"k": 0}, "k must be at least 1, found 0."),
    ({"folder": "notes"}, "folder must be a full path"),
    ({"folder": "/somewhere/else"}, "folder /somewhere/else holds no indexed files; the indexed folders are:"),
    ({"modified_before": "soon"}, "modified_before 'soon' is not a date"),
])
def test_bad_arguments_get_one_sentence_naming_them(
    indexed: tuple[Settings, Path], arguments: dict[str, Any], words: str
) -> None:
    backend = ProcessBackend(indexed[0])
    backend._loader = Loading()  # type: ignore[assignment]
    with pytest.raises(Refusal) as refusal:
        AgentTools(backend).search("bread", **arguments)
    backend.close()
    assert words in str(refusal.value) and "--" not in str(refusal.value)


class MarkedFailure:
    """A backend whose index fails with a message written below the edges, in marks."""

    asks_running_fathom = False
    where = "this server"

    def __init__(self, settings: Settings, message: str):
        self.settings, self.message = settings, message

    def engine(self) -> Any:
        raise FathomError(self.message)


def test_messages_reach_the_agent_in_its_words_not_in_marks_or_flags(indexed: tuple[Settings, Path]) -> None:
    message = f"nothing found from {mark('after', '2024-05-31')}: {run('index FOLDER')} first."
    tools = AgentTools(MarkedFailure(indexed[0], message))  # type: ignore[arg-type]
    for call in (lambda: tools.search("bread"), tools.status, lambda: tools.get("/n/a.md"),
                 lambda: tools.similar("/n/a.md")):
        with pytest.raises(Refusal) as refusal:
            call()
        said = str(refusal.value)
        assert "nothing found from modified_after='2024-05-31': ask the person to index a folder with Fathom" in said
        assert "[[" not in said and "--" not in said and "fathom index" not in said
    # what Fathom recorded or noted, with a setting in it: the setting is the person's to change
    reason = f"too large: raise {mark('max_file_mb')}"
    failure = Failure(path="/n/big.log", kind="skipped", reason=reason)
    answer = SearchAnswer(query="bread", results=[], words_only=True, notes=[reason], answered_by="this server")
    for said in (failure.reason, answer.notes[0], answer.as_text()):
        assert "[[" not in said and "--" not in said and "the person's max file size setting" in said


def test_k_is_capped_and_get_arguments_are_checked(indexed: tuple[Settings, Path]) -> None:
    settings, root = indexed
    backend = ProcessBackend(settings)
    backend._loader = Loading()  # type: ignore[assignment]
    tools = AgentTools(backend)
    assert "k is capped at 50" in tools.search("bread", k=500).notes[0]
    fibonacci = str(root / "code" / "fibonacci.py")
    for arguments, words in [({"page": 1}, "page applies to PDF files only"),
                             ({"start_line": 99}, "start_line must be from 1 to 7"),
                             ({"start_line": 3, "end_line": 2}, "end_line must not be before start_line (3)"),
                             ({"page": 1, "start_line": 1}, "Give either page or start_line/end_line, not both.")]:
        with pytest.raises(Refusal, match=words.replace("(", r"\(").replace(")", r"\)")):
            tools.get(fibonacci, **arguments)
    backend.close()


def test_the_tools_work_on_both_backends(database: Path | str, backend: str, tmp_path: Path, isolated_env: Path,
                                         minilm_path: str, minilm: Any) -> None:
    settings = settings_for(isolated_env, minilm_path, database if backend == "postgres" else None)
    root = make_folder(tmp_path / "docs", long_files=False)
    index_here(settings, minilm, root)
    place = ProcessBackend(settings)
    place.engine()._embedder = minilm
    tools = AgentTools(place)
    place.loader().wait(60)
    try:
        found = tools.search(BREAD, k=3)
        assert not found.words_only and found.results[0].path == str(root / "cooking" / "sourdough.md")
        assert tools.get(str(root / "code" / "fibonacci.py")).text.startswith("def fibonacci(n):")
        with pytest.raises(Refusal):
            tools.get("/etc/passwd")
        with pytest.raises(Refusal):
            tools.get(str(root / "visible.txt"))
        assert tools.status().folders[0].path == str(root)
        sourdough = str(root / "cooking" / "sourdough.md")
        assert sourdough not in [hit.path for hit in tools.similar(sourdough).results]
    finally:
        place.close()


# -- over Streamable HTTP, inside the page -----------------------------------------------------------------


def http_client(url: str, user: str | None = None, password: str | None = None) -> Any:
    """A client that sends the page's token as a script does, or a user and password."""
    headers = dict(BEARER)
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return streamable_http_client(url + "/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=60))


@pytest.fixture
def page(indexed: tuple[Settings, Path], minilm: Any, monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    settings, root = indexed
    auth = getattr(request, "param", None)
    with page_in_process(settings, monkeypatch, minilm, auth=auth, mcp=True) as (rt, _, url):
        rt.start()
        assert rt.loader.wait(60)
        yield url, root


def test_the_page_serves_the_same_tools_over_http(page: tuple[str, Path]) -> None:
    url, root = page
    calls = anyio.run(converse, http_client(url), root)
    assert {tool.name for tool in calls["tools"]} == TOOLS
    assert calls["bread"].structured_content["results"][0]["path"] == str(root / "cooking" / "sourdough.md")
    assert calls["bread"].structured_content["answered_by"] == "the page"
    assert calls["get"].structured_content["text"].startswith("def fibonacci(n):")
    assert all(answer.is_error and SECRET not in text_of(answer) for answer in calls["refused"].values())


INITIALIZE = ('{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", '
              '"capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}')
JSON_POST = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def test_the_page_checks_host_and_origin_before_the_tools(page: tuple[str, Path]) -> None:
    url, _ = page
    assert raw_request(url, "/mcp", "POST", body=INITIALIZE, headers=JSON_POST)[0] == 200  # with the token
    assert raw_request(url, "/mcp", "POST", host="evil.example", body=INITIALIZE, headers=JSON_POST)[0] == 400
    assert raw_request(url, "/mcp", "POST", origin="https://evil.example", body=INITIALIZE, headers=JSON_POST)[0] == 403
    code, headers, body = raw_request(url, "/mcp", "POST", body=INITIALIZE, headers=JSON_POST, token=None)
    assert code == 401 and "Bearer" in headers["www-authenticate"] and "serverInfo" not in body


@pytest.mark.parametrize("page", [[("anna", PASSWORD)]], indirect=True)
def test_with_a_password_the_tools_need_it(page: tuple[str, Path]) -> None:
    url, root = page
    code, headers, body = raw_request(url, "/mcp", "POST", body=INITIALIZE, headers=JSON_POST, token=None)
    assert code == 401 and "Basic" in headers["www-authenticate"] and "user and password" in body
    wrong = "Basic " + base64.b64encode(b"anna:not-it").decode()
    assert raw_request(url, "/mcp", "POST", body=INITIALIZE, headers={**JSON_POST, "Authorization": wrong},
                       token=None)[0] == 401
    assert raw_request(url, "/mcp", "POST", body=INITIALIZE, headers=JSON_POST)[0] == 200  # the token, as scripts

    async def tools() -> set[str]:
        async with Client(http_client(url, "anna", PASSWORD)) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert anyio.run(tools) == TOOLS


def test_without_the_flag_the_page_serves_no_tools(indexed: tuple[Settings, Path], minilm: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with page_in_process(indexed[0], monkeypatch, minilm) as (_, _, url):
        code, _, body = raw_request(url, "/mcp", "POST", body=INITIALIZE, headers=JSON_POST)
    assert code >= 400 and "serverInfo" not in body
