"""A running Fathom answers terminal searches over a socket only this user can open."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Iterator

import pytest

from search.cli import search_command
from conftest import json_lines, run_cli, write_corpus
from search.channel import Channel, ask, available, socket_path
from search.config import Settings
from search.engine import Engine

pytestmark = pytest.mark.skipif(not available(), reason="this platform has no Unix sockets")


@pytest.fixture
def indexed(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    root = write_corpus(tmp_path / "docs")
    assert run_cli(capsys, "index", str(root))[0] == 0
    return root


@pytest.fixture
def running(indexed: Path, minilm: Any) -> Iterator[Channel]:
    engine = Engine(Settings.resolve())
    engine._embedder = minilm
    channel = Channel(lambda: engine, engine.settings.data_dir, "index --watch").start()
    assert channel is not None
    yield channel
    channel.stop()
    engine.close()


def test_a_running_fathom_answers_with_the_same_json(running: Channel, indexed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["search", "how do I bake bread at home", "--json", "--folder", str(indexed / "cooking"), "-k", "3"]
    served = json_lines(run_cli(capsys, *args)[1])
    monkeypatch.setattr(search_command, "_ask_running_fathom", lambda *a: None)
    here = json_lines(run_cli(capsys, *args)[1])
    assert served == here and served[0]["results"][0]["path"].endswith("sourdough.md")


def test_nothing_is_loaded_here_when_it_answers(running: Channel, indexed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*_: Any) -> None:
        raise AssertionError("the CLI searched in its own process")

    monkeypatch.setattr(search_command, "_search_here", no_model)
    code, out, err = run_cli(capsys, "search", "--like", str(indexed / "cooking/sourdough.md"), "--json", "-k", "2")
    assert code == 0, err
    assert "sourdough" not in json_lines(out)[0]["results"][0]["path"]


def test_other_models_are_declined_and_searched_here(running: Channel, indexed: Path, capsys: pytest.CaptureFixture[str], tiny_qwen3_embedder: Path) -> None:
    code, _, err = run_cli(capsys, "search", "bread", "--embedding-model", str(tiny_qwen3_embedder))
    assert code == 1 and "built with" in err  # searched here: the index's model differs


def test_errors_come_back_as_one_sentence(running: Channel, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "search", "--like", "/nowhere/file.md")
    assert code == 1 and "not an indexed file" in err


def test_status_names_the_process_that_answers(running: Channel, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "status", "--json")
    server = json.loads(out)["server"]
    assert server["role"] == "index --watch" and server["pid"] > 0
    running.stop()
    assert json.loads(run_cli(capsys, "status", "--json")[1])["server"] is None


def test_only_this_user_can_open_the_socket(running: Channel, isolated_env: Path) -> None:
    mode = running.path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    assert running.path == socket_path(isolated_env)


def test_a_long_data_folder_gets_a_private_socket_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    path = socket_path(deep)
    assert len(str(path)) < 100 and path.parent.name.startswith("fathom-")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_socket_folder_made_by_someone_else_is_passed_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another user of a shared /tmp makes /tmp/fathom-UID first: Fathom must still start (it
    exited), in a private folder of its own that its callers find as well."""
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="ft-"))  # short, as /tmp is: the socket's path must fit
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(shared))
        taken = shared / f"fathom-{os.getuid()}"
        taken.mkdir()
        taken.chmod(0o777)  # someone else's (or open to all): not a place for this user's socket
        data = tmp_path / ("d" * 120)
        data.mkdir()
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
        path = socket_path(data)
        assert taken not in path.parents and len(str(path)) < 100
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.getuid()
        assert socket_path(data) == path  # the callers find the same one
        channel = Channel(lambda: None, data, "page").start()
        try:
            assert channel is not None and ask(path, {"hello": True})[0]["role"] == "page"
        finally:
            channel.stop()
        runtime = shared / "run-user"
        runtime.mkdir(mode=0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        assert socket_path(tmp_path / ("e" * 120)).parent == runtime / "fathom"
    finally:
        shutil.rmtree(shared)


def test_a_socket_left_by_a_killed_fathom_is_replaced(indexed: Path, minilm: Any, isolated_env: Path) -> None:
    import socket as sockets

    path = socket_path(isolated_env)
    stale = sockets.socket(sockets.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    assert ask(path, {"hello": True}) is None
    engine = Engine(Settings.resolve())
    channel = Channel(lambda: engine, isolated_env, "page").start()
    try:
        assert channel is not None and ask(path, {"hello": True})[0]["role"] == "page"
    finally:
        channel.stop()
        engine.close()
