"""Bytes to text for files that do not say their encoding, and binary sniffing.

A person's folders hold UTF-8, old Windows code pages, UTF-16 exports from Windows tools and
the odd binary file with a `.txt` name. Text must never be lost over a few bad bytes, but a
binary file must not fill the index with garbage, so the one error raised here is "binary".
"""
from __future__ import annotations

import codecs
import os
from pathlib import Path

from search.errors import SkippedFile

SNIFF_BYTES = 8192
# How much of a legacy-encoded file the encoding guesser reads; decoding is then done on all.
_GUESS_BYTES = 64 * 1024
# A guess worse than this (charset-normalizer's "chaos", 0 = clean) is not trusted.
_MAX_CHAOS = 0.15
# "Mostly control bytes": random or structured binary data without NULs lands well above.
_MAX_CONTROL_RATIO = 0.30

# Checked in this order: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that occur in real text (`file` counts them as text too): BEL, BS (man
# page overstrike), TAB, LF, VT, FF, CR, ESC (ANSI colours in logs).
_TEXT_CONTROLS = frozenset("\a\b\t\n\v\f\r\x1b")
_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - _TEXT_CONTROLS


def looks_binary(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> bool:
    """True when the first bytes are not text; for files whose name does not say what they are.

    Takes the bytes themselves or a path (of which only the first 8 KB are read). An
    unreadable path raises OSError: the caller decides whether that is a skip or a failure.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        sample = bytes(source[:SNIFF_BYTES])
    else:
        with Path(source).open("rb") as handle:
            sample = handle.read(SNIFF_BYTES)
    return binary_reason(sample) is not None


def binary_reason(sample: bytes) -> str | None:
    """Why these first bytes are binary, or None when they read as text."""
    if unicode_encoding(sample):
        return None
    if b"\x00" in sample:
        return "contains NUL bytes"
    if _control_ratio(sample.decode("latin-1")) > _MAX_CONTROL_RATIO:
        return "mostly control bytes"
    return None


def unicode_encoding(sample: bytes) -> str | None:
    """The encoding a BOM announces, or UTF-16 recognised without one; None otherwise."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    return _bomless_utf16(sample)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode a text file: BOM, then UTF-8, then `declared` (an HTML/XML charset), then a guess.

    Raises SkippedFile (an ExtractError) only for binary data; odd bytes in text become
    U+FFFD instead.
    """
    sample = data[:SNIFF_BYTES]
    encoding = unicode_encoding(sample)
    if encoding:
        text = data.decode(encoding, errors="replace")
        if _control_ratio(text[:SNIFF_BYTES]) > _MAX_CONTROL_RATIO:
            raise SkippedFile("binary file (a Unicode marker, then control bytes), not text")
        return _without_nul(text)
    reason = binary_reason(sample)
    if reason:
        raise SkippedFile(f"binary file ({reason}), not text")
    try:
        return _without_nul(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return _without_nul(data.decode(declared))
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong declaration is common; fall through to guessing
    text = data.decode("utf-8", errors="replace")
    if _mostly_utf8(text):
        return _without_nul(text)
    return _without_nul(data.decode(_legacy_encoding(data), errors="replace"))


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 written without a BOM (some Windows tools): every other byte is NUL.

    Only accepted when the decoded sample is clean text, so arrays of 16-bit numbers stay binary.
    """
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    # ASCII gives a NUL in every other byte; Cyrillic or Greek text only at its spaces.
    if odd.count(0) >= 0.15 * half and even.count(0) <= 0.01 * half:
        encoding = "utf-16-le"
    elif even.count(0) >= 0.15 * half and odd.count(0) <= 0.01 * half:
        encoding = "utf-16-be"
    else:
        return None
    text = sample.decode(encoding, errors="replace")
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\n\r")
    if text.count("\ufffd") > 1 or printable < 0.98 * len(text):
        return None
    return encoding


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for ch in text if ch in _CONTROLS) / len(text)


def _mostly_utf8(text: str) -> bool:
    """UTF-8 with a few stray bytes (a pasted cp1252 quote) is still UTF-8, not a code page.

    Real cp1252 text almost never forms valid multi-byte UTF-8 sequences, so valid non-ASCII
    characters outnumbering the bad bytes is a strong sign.
    """
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return good > bad


def _legacy_encoding(data: bytes) -> str:
    """charset-normalizer's guess when it is confident, else Windows-1252.

    Among single-byte code pages its tie-breaks are arbitrary (it calls short French text
    cp1250), so cp1252, the most common legacy encoding, wins whenever it reads as cleanly.
    """
    sample = data[:_GUESS_BYTES]
    if len(data) > _GUESS_BYTES:
        # Cut after a newline: that byte is never inside a multi-byte character.
        cut = sample.rfind(b"\n")
        if cut > _GUESS_BYTES // 2:
            sample = sample[: cut + 1]
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return "cp1252"
    try:
        matches = [
            m for m in from_bytes(sample) if not m.encoding.startswith(("utf_16", "utf_32"))
        ]
    except Exception:  # a guesser must never cost a person their file
        return "cp1252"
    if not matches:
        return "cp1252"
    best = matches[0]  # charset-normalizer sorts by chaos, then by language coherence
    if any("cp1252" in m.could_be_from_charset and m.chaos <= best.chaos + 0.01 for m in matches):
        return "cp1252"
    # It has no language model for CJK and often calls short Shift-JIS text GB18030; real
    # Japanese is full of kana, which a wrong decoding of Chinese (or of anything) never gives.
    for m in matches:
        if m.chaos <= best.chaos + 0.05 and _is_japanese(m.encoding) and _kana_share(str(m)) >= 0.2:
            return m.encoding
    if best.chaos <= _MAX_CHAOS:
        try:
            return codecs.lookup(best.encoding).name
        except LookupError:
            return "cp1252"
    return "cp1252"


def _is_japanese(encoding: str) -> bool:
    return "jis" in encoding or encoding.startswith(("cp932", "euc_j", "iso2022_jp"))


def _kana_share(text: str) -> float:
    """Hiragana and katakana among the non-ASCII characters."""
    wide = [ch for ch in text if ch > "\x7f"]
    return sum(1 for ch in wide if "\u3040" <= ch <= "\u30ff") / len(wide) if wide else 0.0


def _without_nul(text: str) -> str:
    """NULs deep inside text (past the sniffed head) would only confuse FTS and snippets."""
    return text.replace("\x00", "") if "\x00" in text else text
