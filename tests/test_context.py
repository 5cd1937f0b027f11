"""Chunks know the title and section they sit under."""
from __future__ import annotations

from pathlib import Path

import pytest

from search.ingest.context import Headings, chunk_context, embedding_text

TEXT = """Intro before any heading.

# Installation

Run pip install.

Usage
=====

Call the function.

## Advanced

Tune it.
"""


def test_the_heading_in_force_is_the_last_one_before_the_chunk() -> None:
    headings = Headings(TEXT, ".md")
    assert headings.at(0) is None
    assert headings.at(TEXT.index("Run pip")) == "Installation"
    assert headings.at(TEXT.index("Call the")) == "Usage"
    assert headings.at(TEXT.index("Tune")) == "Advanced"


def test_a_huge_single_line_has_no_headings() -> None:
    assert Headings("word " * 100_000, ".txt").at(10) is None


@pytest.mark.parametrize("suffix", [".py", ".sh", ".yaml", ".toml", ".conf", ".js", ""])
def test_comments_in_code_and_configuration_are_not_headings(suffix: str) -> None:
    code = "import os\n\n# -- commands -------------------------\n\ndef main():\n    pass\n"
    assert Headings(code, suffix).at(code.index("def main")) is None


def test_a_comment_in_a_code_block_is_not_a_heading() -> None:
    text = "# Setup\n\n```bash\n# install it first\npip install x\n```\n\nThen run it.\n"
    headings = Headings(text, ".md")
    assert headings.at(text.index("pip install")) == "Setup"
    assert headings.at(text.index("Then run")) == "Setup"


def test_underlined_titles_in_rst_and_plain_text() -> None:
    text = "Intro.\n\nUsage\n=====\n\nCall it.\n"
    assert Headings(text, ".rst").at(text.index("Call")) == "Usage"
    assert Headings(text, ".txt").at(text.index("Call")) == "Usage"
    assert Headings(text, ".py").at(text.index("Call")) is None


def test_context_names_the_title_or_file_and_the_section() -> None:
    assert chunk_context(Path("/n/guide.md"), None, "Usage") == "guide.md › Usage"
    assert chunk_context(Path("/n/guide.html"), "The Guide", None) == "The Guide"
    assert chunk_context(Path("/n/g.md"), "Usage", "Usage") == "Usage"
    assert len(chunk_context(Path("/n/g.md"), "t" * 500, None)) == 160
    assert embedding_text("guide.md › Usage", "Call it.") == "guide.md › Usage\n\nCall it."
