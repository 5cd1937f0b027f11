"""A model-independent tokenizer that overestimates: for chunking text when the model's own
tokenizer is not at hand (the model runs on another machine, or is not loaded yet).

It is called like a Hugging Face fast tokenizer, as the chunker calls one:

    tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    tokenizer([text, ...])["input_ids"]

and gives exact character offsets. Its pieces are meant to be at least as many as a real
subword tokenizer makes of the same text (WordPiece as in BERT and MiniLM, byte-level BPE as
in Qwen3), so a window of N of its tokens is at most about N of the model's:

- letters are cut at case changes (`getElementById`: get|Element|By|Id), then into pieces of
  at most 4 Latin letters (a common English word is one model token, a rare one several of
  3-4 letters), or 2 letters of another alphabet (Cyrillic, Greek, Arabic..., which
  English-centred vocabularies split finely);
- a digit is one token (Qwen3 splits numbers into digits);
- Chinese, Japanese characters and Korean syllables one token each; a Korean syllable
  takes two (uncased BERT splits it into its jamo);
- punctuation, symbols and emoji one token per character;
- a run of whitespace that holds a line break, a tab or two spaces is one token (BPE
  vocabularies keep indentation and blank lines as tokens); a single space is none.

tests/test_approx_tokenizer.py measures the estimate against all-MiniLM-L6-v2's tokenizer.
This module depends on nothing but the standard library.
"""
from __future__ import annotations

import re
import zlib
from typing import Any, Iterator

LATIN_PIECE = 4
OTHER_PIECE = 2

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0003134f"  # CJK extensions B..G
)
_HANGUL = "\uac00-\ud7af"
_TOKEN = re.compile(
    rf"(?P<cjk>[{_CJK}])"
    rf"|(?P<hangul>[{_HANGUL}])"
    r"|(?P<digit>\d)"
    rf"|(?P<word>(?:(?![{_CJK}{_HANGUL}])[^\W\d_])+)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
# Inside a run of letters, a new part starts at an upper-case letter that follows a
# lower-case one (camel|Case) or that starts a capitalised word after capitals (HTTP|Server).
_CASE_CHANGE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class ApproxTokenizer:
    """See the module's docstring. Stateless: one instance can serve many threads."""

    model_max_length = 10**9  # it truncates nothing

    def __call__(
        self,
        text: str | list[str],
        add_special_tokens: bool = False,
        return_offsets_mapping: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        if isinstance(text, (list, tuple)):
            encoded = [self(t, add_special_tokens, return_offsets_mapping) for t in text]
            out: dict[str, Any] = {"input_ids": [e["input_ids"] for e in encoded]}
            if return_offsets_mapping:
                out["offset_mapping"] = [e["offset_mapping"] for e in encoded]
            return out
        spans = list(token_spans(text))
        ids = [zlib.crc32(text[a:b].encode("utf-8", "surrogatepass")) & 0x7FFFFFFF for a, b in spans]
        out = {"input_ids": ids}
        if return_offsets_mapping:
            out["offset_mapping"] = spans
        return out

    def count(self, text: str) -> int:
        return sum(1 for _ in token_spans(text))


def token_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) character offsets of each estimated token, in order."""
    for match in _TOKEN.finditer(text):
        kind, start, end = match.lastgroup, match.start(), match.end()
        if kind == "word":
            yield from _word_pieces(text, start, end)
        elif kind == "space":
            run = match.group()
            if "\n" in run or "\t" in run or "  " in run:
                yield start, end
        elif kind == "hangul":
            yield start, end
            yield start, end
        else:
            yield start, end


def _word_pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    cuts = [m.start() for m in _CASE_CHANGE.finditer(text, start, end)]
    for a, b in zip([start] + cuts, cuts + [end]):
        while a < b:
            size = LATIN_PIECE if text[a] <= "\u024f" else OTHER_PIECE
            cut = min(a + size, b)
            yield a, cut
            a = cut
