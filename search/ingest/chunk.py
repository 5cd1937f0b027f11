"""Split text into token-aware windows with overlap, keeping exact char offsets.

Windows are measured in the embedder's own tokens, so no chunk is silently truncated by the
model. A window prefers to end at a paragraph, line or sentence break in its last half.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

DEFAULT_CHUNK_TOKENS = 256
DEFAULT_OVERLAP_TOKENS = 32
# Tokenize long documents piece by piece, so a 50 MB log does not need gigabytes of offsets.
_SEGMENT_CHARS = 100_000


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    text: str
    tokens: int = 0  # in the chunking tokenizer's tokens: what embedding it costs


@dataclass(frozen=True)
class Chunker:
    """How files are cut: windows of `max_tokens` tokens with `overlap`, in the tokens of the
    tokenizer `new_tokenizer()` makes (one for each reading thread: a fast tokenizer's settings
    live on one object). `name` says which tokenizer; `identity` is what the index records, so
    that files cut otherwise are cut again before they are embedded."""

    name: str
    new_tokenizer: Callable[[], Any]
    max_tokens: int = DEFAULT_CHUNK_TOKENS
    overlap: int = DEFAULT_OVERLAP_TOKENS
    exact: bool = True  # the model's own tokenizer; False: an estimate, until the model's is at hand

    @property
    def identity(self) -> str:
        return f"{self.name}|{self.max_tokens}|{self.overlap}"


def chunk_text(
    text: str,
    tokenizer: Any,
    max_tokens: int = DEFAULT_CHUNK_TOKENS,
    overlap: int = DEFAULT_OVERLAP_TOKENS,
    breaks: Sequence[int] = (),
    left_out: Sequence[tuple[int, int]] = (),
    limit: int | None = None,
) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens; none crosses an offset in `breaks` (PDF pages)
    and none holds a character of the `left_out` spans (encoded data, see nontext.py), which
    are never even tokenized. With a `limit`, cutting stops once `limit` chunks are made."""
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, found {max_tokens}")
    overlap = max(0, min(overlap, max_tokens // 2))
    chunks: list[Chunk] = []
    for seg_start, seg_end in _segments(text, breaks, left_out):
        offsets = tokenizer(
            text[seg_start:seg_end], add_special_tokens=False, return_offsets_mapping=True
        )["offset_mapping"]
        spans = [(seg_start + a, seg_start + b) for a, b in offsets]
        for start, end, tokens in _windows(text, spans, max_tokens, overlap):
            chunk = _trimmed(text, start, end, tokens)
            if chunk is not None:
                chunks.append(chunk)
                if limit is not None and len(chunks) >= limit:
                    return chunks
    return chunks


def _segments(
    text: str, breaks: Sequence[int], left_out: Sequence[tuple[int, int]] = ()
) -> Iterator[tuple[int, int]]:
    """Pieces of at most _SEGMENT_CHARS to tokenize, between the breaks, around what is left out."""
    for kept_start, kept_end in _kept(len(text), left_out):
        yield from _pieces(text, kept_start, kept_end, breaks)


def _kept(length: int, left_out: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    start = 0
    for out_start, out_end in sorted(left_out):
        if out_start > start:
            yield start, min(out_start, length)
        start = max(start, out_end)
    if start < length:
        yield start, length


def _pieces(text: str, start: int, stop: int, breaks: Sequence[int]) -> Iterator[tuple[int, int]]:
    bounds = sorted({b for b in breaks if start < b < stop} | {stop})
    for bound in bounds:
        while start < bound:
            end = min(bound, start + _SEGMENT_CHARS)
            if end < bound:
                cut = text.rfind("\n", start + _SEGMENT_CHARS // 2, end)
                end = cut + 1 if cut != -1 else end
            yield start, end
            start = end


def _windows(
    text: str, spans: list[tuple[int, int]], max_tokens: int, overlap: int
) -> Iterator[tuple[int, int, int]]:
    n = len(spans)
    i = 0
    while i < n:
        j = min(i + max_tokens, n)
        if j < n:
            j = _best_break(text, spans, i + max_tokens // 2, j)
        yield spans[i][0], spans[j - 1][1], j - i
        if j >= n:
            return
        i = max(j - overlap, i + 1)


def _best_break(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """The window end in (lo, hi] that falls on the strongest text boundary, latest first."""
    best, best_score = hi, 0
    for e in range(hi, lo, -1):
        gap = text[spans[e - 1][1] : spans[e][1]] if e < len(spans) else ""
        before = text[spans[e - 1][1] - 1] if spans[e - 1][1] > 0 else ""
        if "\n\n" in gap:
            score = 3
        elif "\n" in gap:
            score = 2
        elif before in ".!?;:":
            score = 1
        else:
            score = 0
        if score > best_score:
            best, best_score = e, score
            if score == 3:
                break
    return best


def _trimmed(text: str, start: int, end: int, tokens: int) -> Chunk | None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    start += len(piece) - len(piece.lstrip())
    return Chunk(start, start + len(stripped), stripped, tokens)
