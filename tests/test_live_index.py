"""The live index, the one service behind the page and `index --watch`: a change made during a
long catch-up is found by meaning within seconds, and `index --watch` follows changes and
answers terminal searches from its start."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from conftest import FakeEmbedder
from search.config import Settings
from search.engine import Engine
from search.live import LiveIndex
from search.query import SearchOptions, search

ROOT = Path(__file__).resolve().parent.parent
WORDS = "harbor lamp gallery stairs tide ledger anchor rope storm beacon keeper island gull".split()


class SlowEmbedder(FakeEmbedder):
    """A model as slow as a large one on a CPU: every passage costs time."""

    def __init__(self, seconds_per_text: float):
        super().__init__()
        self.seconds = seconds_per_text
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.seconds * len(texts))
        self.embedded += list(texts)
        return super().embed_documents(texts)


def notes(folder: Path, count: int, words: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        text = " ".join(rng.choice(WORDS, words))
        (folder / f"note{i:04}.txt").write_text(f"Note {i}. {text}.", encoding="utf-8")
    return folder


def embedded(engine: Engine, path: Path) -> bool:
    record = engine.store.file_record(str(path))
    if record is None:
        return False
    hits = engine.store.chunks([c for c, _ in engine.store.keyword_chunks(engine.store.keyword_match("quasar"), 20)])
    return any(h.path == str(path) and h.embedded for h in hits.values())


@contextmanager
def live_index(tmp_path: Path, count: int, model: SlowEmbedder) -> Iterator[tuple[Engine, LiveIndex, Path]]:
    """A live index over `count` notes, embedding with `model`."""
    docs = notes(tmp_path / "docs", count)
    engine = Engine(Settings.resolve(data_dir=tmp_path / "data", embedding_model="fake", reranker_model="none"))
    engine._embedder = model
    engine.store.add_folder(str(docs.resolve()))
    live = LiveIndex(engine).start()
    try:
        yield engine, live, docs
    finally:
        live.stop()
        engine.close()


def test_a_change_during_a_long_catch_up_goes_first(tmp_path: Path) -> None:
    model = SlowEmbedder(0.05)  # 300 notes: 15 s of catch-up at least
    with live_index(tmp_path, 300, model) as (engine, live, docs):
        deadline = time.monotonic() + 60
        while not model.embedded and time.monotonic() < deadline:  # the catch-up is embedding
            time.sleep(0.05)
        new = docs / "zz-new.txt"
        new.write_text("A quasar is a very bright galactic nucleus.", encoding="utf-8")
        os.utime(new, (1e9, 1e9))  # copied with its old date kept (cp -p, unzip): the lane, not the date
        began = time.monotonic()
        while not embedded(engine, new.resolve()) and time.monotonic() < deadline:
            time.sleep(0.05)
        seconds = time.monotonic() - began
        print(f"found by meaning after {seconds:.1f} s; chunks waiting {engine.store.pending_work().chunks}")
        assert embedded(engine, new.resolve()), "the new file was never embedded"
        assert engine.store.pending_work().chunks > 0, "the catch-up had finished: nothing went first"
        assert seconds < 20
        hits = search(engine.store, "quasar galactic nucleus", SearchOptions(mode="vector", rerank=False), model)
        assert Path(hits[0].path).name == "zz-new.txt"
        view = live.view()
        assert view.folders[0].state == "embedding" and "searchable by meaning" in view.folders[0].detail


def test_totals_grow_when_files_arrive_during_the_meaning_phase(tmp_path: Path) -> None:
    with live_index(tmp_path, 200, SlowEmbedder(0.05)) as (engine, live, docs):
        deadline = time.monotonic() + 60
        while live.view().embedding is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first_total = live.view().embedding["chunks_total"]
        notes(tmp_path / "docs" / "more", 30)
        while time.monotonic() < deadline:
            current = live.view().embedding
            if current is not None and current["chunks_total"] > first_total:
                break
            time.sleep(0.1)
        assert current is not None and current["chunks_total"] >= first_total + 30


def cli(data: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args, "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_index_watch_answers_and_follows_changes_from_its_start(tmp_path: Path, minilm_path: str) -> None:
    """`index --watch` serves terminal searches and follows changes while its catch-up runs
    (that a change goes before the catch-up is shown above, with a model slow enough to tell)."""
    docs = notes(tmp_path / "docs", 200, words=250)
    data = tmp_path / "data"
    watch = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "index", "--watch", str(docs), "--data-dir", str(data),
         "--embedding-model", minilm_path, "--reranker-model", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 240
        status: dict[str, Any] = {}
        while time.monotonic() < deadline and watch.poll() is None:
            status = json.loads(cli(data, "status", "--json").stdout or "{}")
            if status.get("server"):
                break
            time.sleep(0.5)
        assert watch.poll() is None, watch.communicate()[1]
        assert status["server"]["role"] == "index --watch"
        new = docs / "quasar.txt"
        new.write_text("A quasar is a very bright galactic nucleus, powered by a black hole.", encoding="utf-8")
        found = False
        while time.monotonic() < deadline and not found:
            answer = cli(data, "search", "bright galactic nucleus black hole", "--mode", "vector", "--json",
                         "--embedding-model", minilm_path, "--reranker-model", "none")
            results = json.loads(answer.stdout.splitlines()[0])["results"] if answer.returncode == 0 else []
            found = bool(results) and Path(results[0]["path"]).name == "quasar.txt"
            if not found:
                time.sleep(0.5)
        assert found, "the new file was not found by meaning"
    finally:
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=60)
    assert "Stopped watching." in err and "Indexed: " in out
