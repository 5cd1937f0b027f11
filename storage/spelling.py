"""Misspelled query words matched to the index's own words (both backends).

A word of a query that no indexed file holds is compared with the indexed words that could be
a slip of the keyboard away: those starting with its first two letters (or with them swapped),
then, if none is near, those starting with its first letter; no more letters longer or shorter
than the edits allowed. The nearest by edit distance wins (`distance`: a swap of neighbours is
one edit, a letter struck for another one and a half); among equally near ones, the word the
most files hold, as a speller that knows the language would guess (Norvig's). Short words,
numbers and identifiers are never corrected: a miss there is more likely a name than a slip;
nor is another form of an indexed word (`fonts` where the index has `font`): the index has it.
On 200 known-item queries (bench/quality.py, functions, seed 1) this corrects 6 words, where
plain edit distance "corrected" 45 (`severity` to `security`, `fonts` to `font`).
"""
from __future__ import annotations

import re
from typing import Iterable

_PLAIN_WORD = re.compile(r"[^\W\d_]+")
SUBSTITUTION = 1.5  # the cost of a letter struck for another (distance)
# Endings that make another form of a word (`font` + `s`, `root` + `ed`), and those that stand
# for one another (`encloses`, `enclosed`; `configuration`, `configurator`).
ENDINGS = frozenset("s es ed d ing ings ly er ers r est st ion ions or ors ation ations ment ments ness ic al".split())
SWAPPED_ENDINGS = frozenset("s es ed d ing er ers r ion ions or ors".split())


def correctable(word: str) -> bool:
    """Whether a word may be corrected: letters only, four or more, not an identifier
    (`parseDate`), not in CJK (indexed as character pairs)."""
    return (
        len(word) >= 4
        and _PLAIN_WORD.fullmatch(word) is not None
        and (word.islower() or word.isupper() or word.istitle())
        and all(ord(ch) < 0x3040 for ch in word)
    )


def max_edits(word: str) -> int:
    """Edits allowed: one in a word of four to six letters, two in a longer one."""
    return 1 if len(word) <= 6 else 2


def prefix_ranges(word: str) -> list[list[tuple[str, str]]]:
    """[low, high) ranges of the indexed words worth comparing with `word` (lower case), in
    rounds: first those sharing its first two letters or having them swapped (a few hundred
    words at most), then, when none of those is near, every word with its first letter."""
    def starting(prefix: str) -> tuple[str, str]:
        return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)

    if len(word) < 2:
        return [[starting(word)]]
    first = [starting(word[:2])] + ([starting(word[1] + word[0])] if word[1] != word[0] else [])
    return [first, [starting(word[0])]]


def distance(a: str, b: str, limit: int) -> float:
    """Edits from `a` to `b`: a letter put in or left out, or two neighbours swapped, count one;
    a letter struck for another counts one and a half (the slips people make are mostly the
    former: "tempory", "directroy"; "severity" is no slip of "security"). Returns more than
    `limit` as soon as it must exceed it."""
    if abs(len(a) - len(b)) > limit:  # each edit changes the length by one at most
        return limit + 1
    before: list[float] | None = None
    previous: list[float] = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        current = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (0 if ca == cb else SUBSTITUTION))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def inflected(a: str, b: str) -> bool:
    """Whether two words are forms of one (`fonts` and `font`, `rooted` and `root`, `encloses`
    and `enclosed`): the index has the word, in another form, and nothing was mistyped."""
    stem = 0
    while stem < min(len(a), len(b)) and a[stem] == b[stem]:
        stem += 1
    tails = {a[stem:], b[stem:]}
    if stem < 3:
        return False
    if "" in tails:
        return (tails - {""}) <= ENDINGS
    return tails <= SWAPPED_ENDINGS


def nearest(word: str, candidates: Iterable[tuple[str, int]]) -> str | None:
    """The indexed word (with how many files hold it) nearest to `word`, or None when none is
    within the edits allowed."""
    limit = max_edits(word)
    letters = set(word)
    best: tuple[float, int, str] | None = None
    for term, files in candidates:
        # Each edit changes the set of letters by two at most: most words are ruled out here.
        if files <= 0 or term == word or len(letters.symmetric_difference(term)) > 2 * limit:
            continue
        if inflected(word, term):
            return None  # a form of an indexed word: no slip to correct
        d = distance(word, term, limit)
        if d <= limit and (best is None or (d, -files, term) < best):
            best = (d, -files, term)
    return best[2] if best else None
