"""How the page looks: its theme, fonts, style sheet, script and logo (in assets/)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
DEEP = gr.themes.Color(
    c50="#eef6f8", c100="#d6e9ee", c200="#b0d4de", c300="#80b8c8", c400="#4f98ad",
    c500="#2f7c93", c600="#24667b", c700="#1e5465", c800="#1a4554", c900="#163a46", c950="#0c232b",
    name="fathom",
)


def theme() -> gr.themes.Base:
    """Calm and quiet: deep-water blue on slate, the computer's own fonts (no web fonts are
    fetched: the page works offline and tells nobody it was opened)."""
    return gr.themes.Base(
        primary_hue=DEEP,
        secondary_hue=DEEP,
        neutral_hue=gr.themes.colors.slate,
        font=SYSTEM_FONTS,
        font_mono=MONO_FONTS,
        radius_size=gr.themes.sizes.radius_md,
    ).set(
        body_background_fill="#f5f7f8",
        body_background_fill_dark="#0e1418",
        block_background_fill="white",
        block_background_fill_dark="#151d22",
        block_border_width="1px",
        block_shadow="none",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_background_fill_dark="*primary_500",
        button_primary_text_color="white",
        button_large_radius="*radius_md",
        input_background_fill="*neutral_50",
        input_background_fill_dark="#10171b",
        input_border_width="1px",
        input_border_color="*neutral_200",
        input_border_color_dark="*neutral_700",
        input_border_color_focus="*primary_400",
        color_accent_soft="*primary_50",
    )


def asset(name: str) -> str:
    try:
        return (ASSETS / name).read_text(encoding="utf-8")
    except OSError:
        return ""


def favicon() -> str | None:
    return str(ASSETS / "logo.svg") if (ASSETS / "logo.svg").is_file() else None
