"""The Gradio page: search, library, settings. Gradio is imported only by layout.py, and only
when `serve` runs, so `python app.py search` never pays for it; the page itself paints
before any model (or torch) is loaded."""
from __future__ import annotations

from typing import Any

from search.config import Settings


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: list[tuple[str, str]] | None = None,
    open_browser: bool = False,
    sources: dict[str, str] | None = None,
    **launch: Any,
) -> int:
    """Start the page and block until Ctrl-C. Check `access.check_exposure` first."""
    from search.page.access import check_exposure
    from search.page.runtime import Runtime, Serving

    check_exposure(host, share, auth or [])
    runtime = Runtime(settings, Serving(host, port, share, bool(auth), sources or {}))
    try:
        from search.page.layout import build, launch_page

        page = build(runtime)
        launch_page(page, runtime, auth=auth or None, open_browser=open_browser, **launch)
        runtime.start()  # after the first paint: loading torch and a model takes a while
        page.block_thread()
    finally:
        runtime.close()
    return 0
