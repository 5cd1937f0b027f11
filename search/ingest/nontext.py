"""Text that is not text: encoded data, hex dumps and long stretches of numbers without words.

A 4 MB base64 log read as text became 17,558 passages, more than the rest of its folder
together: each costs embedding time and answers every query with noise, and nobody searches for
`iVBORw0KGgo`. This module finds such stretches in one linear pass (C-speed regular
expressions, Python only per long token or hex line), so the indexer can leave them out of the
passages, or leave out a file that is nothing else. Prose in any script, code and tables of
numbers of a reasonable size are never matched: CJK, Cyrillic or Arabic letters are not in the
encoded alphabet, identifiers carry no digits or few case changes, and a table of numbers is
only "without words" past a megabyte.

Three kinds:
- encoded: runs of 24+ characters from the base64 / hex alphabet that look random (digits
  among letters, case and digit changes all along): base64, hex strings, UUIDs, random tokens;
- hex dump: lines of an offset and 8+ hex groups (`xxd`, `hexdump -C`, `od -x`);
- without words: a megabyte or more with no two letters side by side (numeric dumps).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Shorter runs are hashes in a log line or a UUID in a sentence: kept.
_ENCODED = re.compile(r"[A-Za-z0-9+/=_-]{24,}")
_SAMPLE = 128  # a run is judged on its first characters: its class changes are uniform
_CLASSES = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "A" * 26 + "a" * 26 + "0" * 10,
)
# Class changes, counted pair by pair: a pair of two different classes never overlaps itself.
_CHANGES = ("Aa", "aA", "A0", "0A", "a0", "0a")
# Random base64 changes class at ~60% of its characters, hex at ~47%; an English word, a
# snake_case name or a path at well under 20%. camelCase changes often but has no digits.
_MIN_CHANGES = 0.25
_MIN_DIGITS = 0.04
# Names such as cuD3D9ResourceGetMappedArray or Canary10Percent10Minutes change class as often,
# but most of their letters stand in lowercase runs of 4 or more (words); random base64 has
# about 7% of its characters there, hex none.
_LOWER_RUN = re.compile("a{4,}")
_MAX_IN_LOWER_RUNS = 0.3
_HEX = re.compile(r"[0-9A-Fa-f-]+")
_ENCODED_REGION = re.compile(r"[A-Za-z0-9+/=_-]{24,}(?:[\W_]*[A-Za-z0-9+/=_-]{24,})*")
# An offset, then 8 or more groups of 2 to 8 hex digits; the rest of the line (the ASCII
# column) goes with it. A table of numbers matches the shape but has no a-f in its groups.
_HEX_DUMP_LINE = re.compile(
    r"^[ \t]*[0-9A-Fa-f]{4,16}:?(?P<groups>(?:[ \t]+[0-9A-Fa-f]{2,8}){8,})[^\n]*$", re.M
)
_HEX_DUMP_REGION = re.compile(
    r"^[ \t]*[0-9A-Fa-f]{4,16}:?(?:[ \t]+[0-9A-Fa-f]{2,8}){8,}[^\n]*"
    r"(?:\n[ \t]*[0-9A-Fa-f]{4,16}:?(?:[ \t]+[0-9A-Fa-f]{2,8}){8,}[^\n]*)*", re.M
)
_NO_HEX_LETTERS = str.maketrans("", "", "abcdefABCDEF")
_MIN_HEX_LETTERS = 2
_WORD = re.compile(r"[^\W\d_]{2}")  # two letters side by side, in any script
_BLOCK = 50_000
WORDLESS_CHARS = 1_000_000  # a table of numbers under a megabyte is data a person may search
_ALNUM = re.compile(r"[^\W_]")  # a letter or digit, in any script
# Stretches this long are left out of a kept file's passages (a data URI image, a PEM block,
# a long hex line); shorter ones (a hash, a UUID, a short token) stay searchable.
LEFT_OUT_CHARS = 200
# A file is left out when such stretches make most of it and what lies between them is only
# labels (a log's timestamps, a CSV's ids): fewer than this many characters per stretch.
_MOSTLY = 0.5
_LABEL_CHARS = 100
# A smaller file is refused only when no word at all stands outside its stretches (they are
# left out of its passages anyway, so it costs little).
_MIN_REFUSED_CHARS = 20_000

KIND_WORDS = {
    "encoded": "base64 or other encoded data",
    "hex": "hex strings (hashes, UUIDs, hex-encoded data)",
    "hex dump": "a hex dump",
    "wordless": "numbers or symbols without words",
}


@dataclass(frozen=True)
class Stretch:
    start: int
    end: int
    kind: str  # a key of KIND_WORDS


@dataclass(frozen=True)
class NonText:
    """What of a text is not text: its stretches in order, and a reason to leave the whole
    file out (None when it keeps its words)."""

    stretches: list[Stretch]
    refusal: str | None

    @property
    def left_out(self) -> list[tuple[int, int]]:
        """The spans to leave out of the passages of a file that is kept."""
        return [(s.start, s.end) for s in self.stretches if s.end - s.start >= LEFT_OUT_CHARS]


def find_non_text(text: str) -> NonText:
    """The stretches of `text` that are not words a person would search, and whether the
    file is nothing else."""
    found = sorted(_encoded(text) + _hex_dumps(text) + _wordless(text))
    stretches = [Stretch(start, end, _main_kind(sizes)) for start, end, sizes in _merged(text, found)]
    return NonText(stretches, _refusal(text, stretches))


# A found stretch: (start, end, {kind: characters}); neighbours with only spaces or punctuation
# between them (a wrapped base64 block, a JSON list of UUIDs, a hex dump's lines) are one.
_Found = tuple[int, int, dict[str, int]]


def _encoded(text: str) -> list[_Found]:
    """Encoded runs. Runs with only spaces or punctuation between them are matched as one
    region (a 4 MB base64 block is one match), judged on runs at its start, middle and end,
    and run by run only when those disagree."""
    out: list[_Found] = []
    for region in _ENCODED_REGION.finditer(text):
        start, end = region.span()
        kinds = [_encoded_kind(text, run) for run in _sampled_runs(text, start, end)]
        if all(kinds):
            _add(text, out, start, end, "hex" if all(k == "hex" for k in kinds) else "encoded")
            continue
        for run in _ENCODED.finditer(text, start, end):
            kind = _encoded_kind(text, run)
            if kind:
                _add(text, out, run.start(), run.end(), kind)
    return out


def _sampled_runs(text: str, start: int, end: int) -> list[re.Match[str]]:
    """A run at the start, the middle and the end of a region (one for a lone run)."""
    first = _ENCODED.match(text, start, end)
    if first is None or first.end() == end:
        return [first] if first else []
    runs = [first]
    for at in ((start + end) // 2, max(start, end - _SAMPLE)):
        run = _ENCODED.search(text, at, end)
        if run is not None:
            runs.append(run)
    return runs


def _encoded_kind(text: str, run: re.Match[str]) -> str | None:
    """"hex" or "encoded" for a run that looks random, None for a word, name or number."""
    start, end = run.span()
    sample = text[start : min(end, start + _SAMPLE)]
    classes = sample.translate(_CLASSES)
    digits = classes.count("0")
    if digits < 2 or digits < _MIN_DIGITS * len(classes):
        return None
    if sum(classes.count(pair) for pair in _CHANGES) < _MIN_CHANGES * len(classes):
        return None
    if len(classes) - len(_LOWER_RUN.sub("", classes)) > _MAX_IN_LOWER_RUNS * len(classes):
        return None
    return "hex" if _HEX.fullmatch(sample) else "encoded"


def _hex_dumps(text: str) -> list[_Found]:
    """Hex dump lines; consecutive ones are matched as one region, judged on the lines at its
    start, middle and end, and line by line only when those disagree."""
    out: list[_Found] = []
    for region in _HEX_DUMP_REGION.finditer(text):
        start, end = region.span()
        lines = [_HEX_DUMP_LINE.match(text, at, end) for at in _line_starts(text, start, end)]
        if all(line is not None and _is_hex_dump(line) for line in lines):
            _add(text, out, start, end, "hex dump")
            continue
        for line in _HEX_DUMP_LINE.finditer(text, start, end):
            if _is_hex_dump(line):
                _add(text, out, line.start(), line.end(), "hex dump")
    return out


def _line_starts(text: str, start: int, end: int) -> list[int]:
    """Where the first, a middle and the last line of a region start."""
    return sorted({start, *((text.rfind("\n", start, at) + 1) or start for at in ((start + end) // 2, end))})


def _is_hex_dump(line: re.Match[str]) -> bool:
    groups = line.group("groups")
    return len(groups) - len(groups.translate(_NO_HEX_LETTERS)) >= _MIN_HEX_LETTERS


def _wordless(text: str) -> list[_Found]:
    """Blocks without two letters side by side, where enough of them follow each other."""
    if len(text) < WORDLESS_CHARS:
        return []
    out: list[_Found] = []
    run_start = None
    for start in range(0, len(text) + _BLOCK, _BLOCK):
        if start < len(text) and _WORD.search(text, start, start + _BLOCK) is None:
            run_start = start if run_start is None else run_start
            continue
        end = min(start, len(text))
        if run_start is not None and end - run_start >= WORDLESS_CHARS:
            # from just after the last word before the run to the first word after it
            before = None
            for before in _WORD.finditer(text, max(0, run_start - _BLOCK), run_start):
                pass
            after = _WORD.search(text, end)
            run_start = before.end() if before else run_start
            end = after.start() if after else len(text)
            out.append((run_start, end, {"wordless": end - run_start}))
        run_start = None
    return out


def _add(text: str, out: list[_Found], start: int, end: int, kind: str, sizes: dict[str, int] | None = None) -> None:
    """Append a stretch, or grow the last one when only spaces and punctuation lie between."""
    sizes = sizes or {kind: end - start}
    if out and (start <= out[-1][1] or _ALNUM.search(text, out[-1][1], start) is None):
        last_start, last_end, last_sizes = out[-1]
        for each, size in sizes.items():
            last_sizes[each] = last_sizes.get(each, 0) + size
        out[-1] = (last_start, max(last_end, end), last_sizes)
    else:
        out.append((start, end, dict(sizes)))


def _merged(text: str, found: list[_Found]) -> list[_Found]:
    """The stretches of all kinds, in order, neighbours joined."""
    out: list[_Found] = []
    for start, end, sizes in found:
        _add(text, out, start, end, "", sizes)
    return out


def _main_kind(sizes: dict[str, int]) -> str:
    return max(sizes, key=sizes.__getitem__)


def _refusal(text: str, stretches: list[Stretch]) -> str | None:
    covered = sum(s.end - s.start for s in stretches)
    if covered < LEFT_OUT_CHARS or covered < _MOSTLY * len(text):
        return None  # a hash or a key alone stays searchable
    small = covered < _MIN_REFUSED_CHARS
    worded = len(text) - covered >= _LABEL_CHARS * len(stretches)  # a note with images, a log with messages
    if (small or worded) and _words_between(text, stretches):
        return None
    by_kind: dict[str, int] = {}
    for s in stretches:
        by_kind[s.kind] = by_kind.get(s.kind, 0) + s.end - s.start
    kind = max(by_kind, key=by_kind.__getitem__)
    return f"mostly {KIND_WORDS[kind]} ({covered / len(text):.0%} of its text), not words to search"


def _words_between(text: str, stretches: list[Stretch]) -> bool:
    """Whether two letters side by side stand anywhere outside the stretches."""
    at = 0
    for s in [*stretches, Stretch(len(text), len(text), "")]:
        if _WORD.search(text, at, s.start):
            return True
        at = s.end
    return False
