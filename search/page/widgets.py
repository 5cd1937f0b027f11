"""Small Gradio pieces the tabs share."""
from __future__ import annotations

from typing import Any

import gradio as gr

from search.page.open_file import local_person


def html(value: str) -> Any:
    """An HTML piece that takes no room when it is empty."""
    return gr.HTML(value=value, visible=bool(value))


def focus_js(elem_id: str) -> str:
    return f"() => {{ setTimeout(() => document.querySelector('#{elem_id} textarea, #{elem_id} input')?.focus(), 150); }}"


def is_local(request: gr.Request | None) -> bool:
    """Whether the person is at this computer (Open and Open folder are for them only)."""
    if request is None:
        return False
    client = request.client.host if request.client else None
    return local_person(client, request.headers.get("host"), request.headers)
