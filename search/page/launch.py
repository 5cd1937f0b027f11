"""Serving the built page: Gradio's `launch` with Fathom's checks on every request (guard.py),
the tools for agents when asked for (agent_route.py), and the lines printed once it is up,
worded for the edge that started it (a terminal: search.wording.TERMINAL)."""
from __future__ import annotations

import webbrowser
from typing import Any, Sequence
from urllib.parse import urlsplit

import gradio as gr

from search.errors import FathomError
from search.page import guard
from search.page.access import LoginAttempts, host_names, is_loopback
from search.page.runtime import Runtime
from search.page.theme import asset, favicon, theme
from search.page.token import QUERY_NAME
from search.wording import TERMINAL, Edge, mark, worded

AUTH_MESSAGE = (
    "Fathom: sign in to search these files. Each wrong password makes the next answer slower, "
    "and many in a row pause signing in for a while."
)


def launch_page(
    page: gr.Blocks,
    rt: Runtime,
    auth: Any = None,
    open_browser: bool = False,
    allowed_hosts: Sequence[str] = (),
    attempts: LoginAttempts | None = None,
    edge: Edge = TERMINAL,
    **extra: Any,
) -> None:
    """Serve the page; returns once it is up.

    Fathom's checks (guard.py) go into the app Gradio builds, through `launch(app_kwargs=...)`:
    only `launch` makes the share link, so mounting the page into an app of our own would
    lose the share link. Files are served only from the private folder of download copies
    (`allowed_paths` is given, so GRADIO_ALLOWED_PATHS is never read, and the guard refuses
    anything else); uploads are off; no file-serving workers run beside the guarded server."""
    serving = rt.serving
    names = host_names(serving.host, allowed_hosts)  # live: the share link's name joins it
    tunnel: list[str] = []
    gate = guard.TokenGate.Settings(rt.token, serving.port, passwords=bool(auth))
    attempts = attempts or LoginAttempts()
    checks = guard.middleware(names, rt.files.root, attempts, tunnel, gate)
    page.vibe_mode = False  # whatever GRADIO_VIBE_MODE said when Gradio was imported (see open_page)
    app_kwargs: dict[str, Any] = {"middleware": checks}
    if serving.mcp:  # the agents' tools (agent_route.py)
        from search.page.agent_route import agent_route

        route, app_kwargs["lifespan"] = agent_route(rt, auth, attempts, tunnel, rt.token, serving.port)
        # after the Host and Origin checks, before the token gate: it takes the token or a password
        checks.insert(next(i for i, check in enumerate(checks) if check.cls is guard.TokenGate), route)
    try:
        _launch(page, rt, auth, app_kwargs, **extra)
    except OSError as exc:
        if "port" in str(exc).lower():
            raise FathomError(
                f"Port {serving.port} is taken: is Fathom already running? Open "
                f"http://{serving.host}:{serving.port}, or start it with {mark('port')} and another number."
            ) from None
        raise
    gate.launched = True  # from now on, Gradio's startup route needs the token too
    _say_where(page, rt, bool(auth), open_browser, allowed_hosts, names, tunnel, edge)


def _launch(page: gr.Blocks, rt: Runtime, auth: Any, app_kwargs: dict[str, Any], **extra: Any) -> None:
    serving = rt.serving
    page.launch(
        server_name=serving.host,
        server_port=serving.port,
        share=serving.share,
        auth=auth,
        auth_message=AUTH_MESSAGE if auth else None,
        inbrowser=False,  # Fathom opens its own address, with the token
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        footer_links=[],
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        run_history=False,  # would keep every search's results in the browser
        allowed_paths=[str(rt.files.root)],
        max_file_size=0,
        num_workers=0,
        app_kwargs=app_kwargs,
        theme=theme(),
        css=asset("style.css"),
        js=asset("page.js") or None,
        favicon_path=favicon(),
        **extra,
    )


def _say_where(page: gr.Blocks, rt: Runtime, passwords: bool, open_browser: bool, allowed_hosts: Sequence[str],
               names: list[str], tunnel: list[str], edge: Edge) -> None:
    """Print the page's address (with the token, unless passwords sign in), open it, and the
    share link and the names the page answers to; the share link's name joins `names`."""
    serving = rt.serving

    def say(text: str) -> None:
        print(worded(text, edge), flush=True)

    address = f"http://{serving.host}:{serving.port}/"
    if not passwords:  # with passwords, the sign-in form; without, the token opens the page
        address += f"?{QUERY_NAME}={rt.token}"
    say(f"Fathom is running at {address} (Ctrl-C stops it).")
    if open_browser:
        webbrowser.open(address)
    if serving.share:
        share_host = urlsplit(page.share_url).hostname if page.share_url else None
        if share_host:
            names.append(share_host.lower())
            tunnel.append(share_host.lower())
            say(f"Share link (password required): {page.share_url}")
        else:
            say("No share link: Gradio could not make one (is this computer online?). "
                "The page runs on this computer only.")
    if serving.share or not is_loopback(serving.host) or allowed_hosts:
        say(f"It answers to: {', '.join(names)} (add a name with {mark('allowed_host', 'NAME')}).")
