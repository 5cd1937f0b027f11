"""The Gradio page: search, library, settings. Gradio is imported only when `serve` runs
(layout.py and what it imports, launch.py), so a search in a terminal never pays for it; the
page itself paints before any model (or torch) is loaded."""
from __future__ import annotations

import os
import signal
from typing import Any, Sequence

from search.config import Settings
from search.wording import TERMINAL, Edge

# Gradio's hot reload and "vibe" editor: for developing a Gradio app, never for Fathom's page.
GRADIO_DEVELOPER_VARIABLES = (
    "GRADIO_VIBE_MODE", "GRADIO_WATCH_DEMO_PATH", "GRADIO_WATCH_DIRS", "GRADIO_WATCH_MODULE_NAME",
    "GRADIO_WATCH_DEMO_NAME", "GRADIO_HOT_RELOAD",
)


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: list[tuple[str, str]] | None = None,
    open_browser: bool = False,
    sources: dict[str, str] | None = None,
    allowed_hosts: Sequence[str] = (),
    mcp: bool = False,
    edge: Edge = TERMINAL,
    **launch: Any,
) -> int:
    """Start the page and block until Ctrl-C; with `mcp`, it also serves the agents' tools.
    What it prints is worded for `edge` (the CLI passes its Terminal, with the program's name)."""
    from search.page.access import bind_name, check_exposure
    from search.page.runtime import Runtime, Serving

    check_exposure(host, share, auth or [])
    _stop_on_sigterm()
    runtime = Runtime(settings, Serving(bind_name(host), port, share, bool(auth), sources or {}, mcp))
    try:
        page = open_page(runtime, auth=auth or None, open_browser=open_browser, allowed_hosts=allowed_hosts, edge=edge,
                         **launch)
        runtime.start()  # after the first paint: loading torch and a model takes a while
        page.block_thread()
    finally:
        runtime.close()
    return 0


def open_page(runtime: Any, **launch: Any) -> Any:
    """Build the page for `runtime` and serve it (see launch.launch_page); returns once it is up.

    Gradio keeps every file it serves in its cache folder, which it takes from GRADIO_TEMP_DIR
    (for each component as it is built, so this comes first): there it is the runtime's
    private folder of download copies, whatever it was. The same for the examples cache,
    which Gradio's file route would also serve from. Gradio's developer modes are turned off
    whatever the environment says: GRADIO_VIBE_MODE opens routes that read and write the file
    GRADIO_WATCH_DEMO_PATH names, to anyone who reaches the page."""
    os.environ["GRADIO_TEMP_DIR"] = str(runtime.files.root)
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(runtime.files.root / "examples")
    for name in GRADIO_DEVELOPER_VARIABLES:
        os.environ.pop(name, None)
    from search.page.launch import launch_page
    from search.page.layout import build

    page = build(runtime)
    launch_page(page, runtime, **launch)
    return page


def _stop_on_sigterm() -> None:
    """Stop on SIGTERM (`kill`, a service manager) as on Ctrl-C, so the page's private folder
    of download copies is removed then too, not only at the next start."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (a test, an embedding program): leave it be
        pass
