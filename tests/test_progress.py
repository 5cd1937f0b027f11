"""Progress in both phases: files read, then chunks embedded, the time left from tokens."""
from __future__ import annotations

import pytest

import search.ingest.progress as progress_module
from search.ingest.progress import Progress
from storage import PendingWork


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    return clock


def test_the_words_phase_tells_time_left_from_bytes(clock: Clock) -> None:
    p = Progress()
    p.update(total=4, total_bytes=4000)
    clock.now += 10
    p.update(files=1, size=1000, current="/a.md")  # one file in four, a quarter of the bytes
    assert p.phase == "words" and p.eta_seconds == pytest.approx(30.0)
    assert p.to_json()["current"] == "/a.md"


def test_the_meaning_phase_tells_time_left_from_tokens_not_chunks(clock: Clock) -> None:
    p = Progress()
    p.meaning_begins(PendingWork(files=2, chunks=4, tokens=1000))
    clock.now += 10
    p.update(embedded=2, tokens=100, current="/short.md")  # half the chunks, a tenth of the tokens
    assert p.phase == "meaning"
    assert p.eta_seconds == pytest.approx(90.0)  # by chunks it would say 10 s
    assert p.to_json()["chunks_total"] == 4 and p.to_json()["current"] == "/short.md"
    p.meaning_begins(PendingWork(files=1, chunks=2, tokens=900))  # looked again: what is left
    assert (p.chunks_total, p.tokens_total) == (4, 1000)
    p.update(embedded=2, tokens=900)
    assert p.phase == "done" and p.eta_seconds == 0.0
