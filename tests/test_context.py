"""Chunks know the title and section they sit under."""
from __future__ import annotations

from pathlib import Path

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
    headings = Headings(TEXT)
    assert headings.at(0) is None
    assert headings.at(TEXT.index("Run pip")) == "Installation"
    assert headings.at(TEXT.index("Call the")) == "Usage"
    assert headings.at(TEXT.index("Tune")) == "Advanced"


def test_a_huge_single_line_has_no_headings() -> None:
    assert Headings("word " * 100_000).at(10) is None


def test_context_names_the_title_or_file_and_the_section() -> None:
    assert chunk_context(Path("/n/guide.md"), None, "Usage") == "guide.md › Usage"
    assert chunk_context(Path("/n/guide.html"), "The Guide", None) == "The Guide"
    assert chunk_context(Path("/n/g.md"), "Usage", "Usage") == "Usage"
    assert len(chunk_context(Path("/n/g.md"), "t" * 500, None)) == 160
    assert embedding_text("guide.md › Usage", "Call it.") == "guide.md › Usage\n\nCall it."
