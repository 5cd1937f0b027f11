"""Snippets: the passage around the query's words, with the words that matter marked."""
from __future__ import annotations

from search.snippets import make_snippet


def marked(text: str, query: str) -> list[str]:
    snippet = make_snippet(text, query)
    return [snippet.text[s:e] for s, e in snippet.highlights]


def test_stop_words_are_not_marked() -> None:
    words = marked("The passport is renewed at the office. Do bring my old passport.", "how do I renew my passport")
    assert [w.lower() for w in words] == ["passport", "renewed", "passport"]


def test_words_are_marked_whole_not_in_part() -> None:
    words = marked("Redistributions of source code must retain it. REDISTRIBUTIONS in binary form", "redistribution")
    assert words == ["Redistributions", "REDISTRIBUTIONS"]  # never "Redistribution|s"
    assert marked("class HTTPServer and httpd", "http") == ["HTTP", "httpd"]


def test_a_quoted_phrase_is_marked_as_one_span() -> None:
    text = "IDLE is the Integrated Development and Learning Environment; development goes on."
    snippet = make_snippet(text, "", phrases=["integrated development and learning environment"])
    words = [snippet.text[s:e] for s, e in snippet.highlights]
    assert words == ["Integrated Development and Learning Environment", "development"]


def test_words_are_marked_inside_identifiers_but_not_inside_other_words() -> None:
    words = marked("def parse_date(text): return parseDate(text) or update(text)", "parse date")
    assert words == ["parse", "date", "parseDate"]  # touching matches read as one


def test_short_words_only_whole() -> None:
    assert marked("an oxbow, a box and an ox", "ox") == ["ox"]


def test_a_code_snippet_shows_the_matching_lines_not_the_imports() -> None:
    code = "import os\nimport re\nfrom pathlib import Path\n\n" + "x = 1\n" * 40 + "def checksum(data):\n    return sum(data)\n"
    snippet = make_snippet(code, "compute a checksum")
    assert "checksum" in snippet.text and "import" not in snippet.text
    no_words = make_snippet(code, "add numbers together")
    assert no_words.text.startswith("…x = 1") and "import" not in no_words.text


def test_imports_are_shown_when_the_words_match_only_there() -> None:
    code = "import hashlib\n\ndef f(data):\n    return 1\n"
    assert "hashlib" in make_snippet(code, "hashlib").text


def test_prose_keeps_its_opening() -> None:
    assert make_snippet("Important: from now on, imports are taxed.", "nothing matches").text.startswith("Important")
