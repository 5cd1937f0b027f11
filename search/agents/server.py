"""Fathom's tools as an MCP server (the `mcp` SDK's MCPServer): over stdio for an agent that
starts `fathom mcp` itself, or over Streamable HTTP inside the page (`--mcp`), where the
page's own checks (Host, Origin, password) run first.

Exactly the tools of search/agents/tools.py are published, each read-only; every answer
carries its record as structured content (with the record's JSON schema as the tool's output
schema) and a text form to read. A refusal is a tool error whose one sentence names the tool's
arguments.
"""
# No `from __future__ import annotations`: the SDK reads these signatures' types at run time.
import threading
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Callable, Literal, Optional

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from search.agents.backends import Backend, ProcessBackend
from search.agents.reading import MAX_CHARS, Refusal
from search.agents.results import FileText, IndexStatus, SearchAnswer
from search.agents.tools import DEFAULT_K, MAX_K, AgentTools
from search.config import Settings
from search.presets import presets

MCP_PATH = "/mcp"
TOOLS = ("search", "similar", "get", "status")
INSTRUCTIONS = (
    "Fathom searches the files its user indexed on this computer (notes, documents, code, PDFs), by "
    "meaning and by words. Use `search` to find files, `get` to read one (or its lines, or a PDF page), "
    "`similar` for files like one you found, `status` for what is indexed. Everything is read-only: "
    "only the person who runs Fathom adds folders or changes its settings."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)

Mode = Literal["hybrid", "vector", "keyword"]
Task = Literal[tuple(sorted(presets()))]  # type: ignore[valid-type]
Count = Annotated[int, Field(description=f"how many files (default {DEFAULT_K}, at most {MAX_K})")]
Folder = Annotated[Optional[str], Field(description="only files under this folder (a full path)")]
Types = Annotated[Optional[list[str]], Field(description='only these file types, e.g. ["md", "pdf"]')]
After = Annotated[Optional[str], Field(
    description="only files modified after: 2024-05-31, an ISO time, or 7d, 2w, 6m, 1y ago")]
Before = Annotated[Optional[str], Field(description="only files modified before (same forms as modified_after)")]


def build_server(tools: AgentTools) -> MCPServer:
    server = MCPServer("fathom", title="Fathom", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=READ_ONLY, description=(
        "Search the indexed files by meaning and by words. Returns the best files, best first: path, "
        "title, PDF page or line range, a snippet of the passage that matched, the score, and whether "
        "the file is embedded yet. When words_only is true the embedding model is not ready and the "
        "files match the query's words alone."
    ))
    def search(
        query: Annotated[str, Field(description="what to look for: words, a question or a description")],
        task: Annotated[Optional[Task], Field(description=(
            "a task preset that tells the model what the query is for: " + ", ".join(
                f"{p.name} ({p.label.lower()})" for p in presets().values())))] = None,
        instruction: Annotated[Optional[str], Field(description="your own instruction instead of a task")] = None,
        k: Count = DEFAULT_K,
        folder: Folder = None,
        file_types: Types = None,
        modified_after: After = None,
        modified_before: Before = None,
        mode: Annotated[Mode, Field(description=(
            "hybrid (default: meaning and words), vector (meaning alone) or keyword (words alone)"))] = "hybrid",
    ) -> Annotated[CallToolResult, SearchAnswer]:
        return _answer(lambda: tools.search(query, task, instruction, k, folder, file_types, modified_after,
                                            modified_before, mode))

    @server.tool(annotations=READ_ONLY, description=(
        "Files like a given indexed file (the page's More like this): the same answer as search, the file "
        "itself left out."
    ))
    def similar(
        path: Annotated[str, Field(description="the full path of an indexed file, as search returns it")],
        k: Count = DEFAULT_K,
        folder: Folder = None,
        file_types: Types = None,
        modified_after: After = None,
        modified_before: Before = None,
    ) -> Annotated[CallToolResult, SearchAnswer]:
        return _answer(lambda: tools.similar(path, k, folder, file_types, modified_after, modified_before))

    @server.tool(annotations=READ_ONLY, description=(
        "Read an indexed file's text (for PDF, DOCX, HTML...: the text Fathom extracted), whole or "
        f"some of its lines or one PDF page, at most {MAX_CHARS:,} characters per call (a note says "
        "how to read on). Only files that search returns can be read."
    ))
    def get(
        path: Annotated[str, Field(description="the full path of an indexed file, as search returns it")],
        start_line: Annotated[Optional[int], Field(description="first line to read (from 1)")] = None,
        end_line: Annotated[Optional[int], Field(description="last line to read")] = None,
        page: Annotated[Optional[int], Field(description="a PDF page to read (from 1), instead of lines")] = None,
    ) -> Annotated[CallToolResult, FileText]:
        return _answer(lambda: tools.get(path, start_line, end_line, page))

    @server.tool(annotations=READ_ONLY, description=(
        "What is indexed: the folders with their counts, files waiting for their vectors, files that "
        "failed or were skipped and why, the embedding model, and whether the models are ready."
    ))
    def status() -> Annotated[CallToolResult, IndexStatus]:
        return _answer(tools.status)

    return server


def _answer(call: Callable[[], BaseModel]) -> CallToolResult:
    try:
        record = call()
    except Refusal as refusal:
        return CallToolResult(content=[TextContent(type="text", text=str(refusal))], is_error=True)
    return CallToolResult(
        content=[TextContent(type="text", text=record.as_text())],  # type: ignore[attr-defined]
        structured_content=record.model_dump(mode="json"),
    )


# -- stdio: the server an agent starts -----------------------------------------------------------


def serve_stdio(settings: Settings) -> int:
    """Answer an agent on standard input and output until it closes them."""
    import anyio

    backend = ProcessBackend(settings)
    server = build_server(AgentTools(backend))
    threading.Thread(target=_warm_up, args=(backend,), name="fathom-agent-models", daemon=True).start()
    try:
        anyio.run(server.run_stdio_async)
    finally:
        backend.close()
    return 0


def _warm_up(backend: ProcessBackend) -> None:
    """Load the model at once, unless a running Fathom answers searches (it has its own)."""
    from search.channel import serving

    if serving(backend.settings.data_dir):
        return
    try:
        backend.loader(start=True)
    except Exception:  # the first search says what is wrong, in its own words
        pass


# -- Streamable HTTP: the same tools inside the page ---------------------------------------------


def http_app(backend: Backend) -> tuple[Any, Callable[[Any], AbstractAsyncContextManager[None]]]:
    """The ASGI app that answers MCP_PATH (stateless, JSON answers), and the lifespan the page's
    app must run it in. It checks no Host, Origin or password itself: the page's checks, which
    run before it, do (and know the names the page answers to)."""
    server = build_server(AgentTools(backend))
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=True,
        stateless_http=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return app, lambda _app: server.session_manager.run()
