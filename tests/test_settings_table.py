"""The settings table is the one place each setting is described: this walks it and proves that
every surface (the CLI's options, the environment, settings.json, the page's Settings, the
channel) has each row, with the row's name, default and help."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from search import config
from search.channel import SAME
from search.cli import build_parser
from search.config import Settings, save_settings, saved_settings, setting_sources
from search.settings_table import BY_NAME, EVERY, SEARCH, SERVE, SETTINGS, env_name
from search.wording import AGENT, PAGE, TERMINAL, mark, run, worded

# A value each setting can take, as text (the environment's form) and as Settings holds it.
SAMPLES: dict[str, tuple[str, Any]] = {
    "embedding_model": ("org/other-embedding", "org/other-embedding"),
    "reranker_model": ("org/other-reranker", "org/other-reranker"),
    "device": ("cpu", "cpu"),
    "dim": ("256", 256),
    "max_file_mb": ("7.5", 7.5),
    "max_passages": ("12", 12),
    "embedding_url": ("http://gpu-box:8000/v1", "http://gpu-box:8000/v1"),
    "reranker_url": ("http://gpu-box:8001/v1", "http://gpu-box:8001/v1"),
    "tokenizer": ("org/tokenizer", "org/tokenizer"),
    "query_format": ("plain", "plain"),
    "reranker_format": ("qwen3", "qwen3"),
    "remote_timeout": ("9", 9.0),
    "remote_requests": ("3", 3),
    "database_url": ("postgresql://me@db/fathom", "postgresql://me@db/fathom"),
    "rerank_top": ("7", 7),
}
# Rows the page's server reads itself, not Settings: what reads each one.
READ_ELSEWHERE = {"api_key", "embedding_api_key", "reranker_api_key", "auth", "allowed_host", "token", "data_dir"}


def parsers() -> dict[str, argparse.ArgumentParser]:
    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {"(none)": top, **sub.choices}


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


@pytest.mark.parametrize("row", [r for r in SETTINGS if r.flag], ids=lambda r: r.name)
def test_each_flagged_setting_is_an_option_of_the_commands_of_its_scope(row: Any) -> None:
    takes = {EVERY: set(parsers()), SERVE: {"(none)", "serve"}, SEARCH: {"search"}}[row.scope]
    for name, parser in parsers().items():
        action = option(parser, row.flag)
        if name in takes:
            assert action is not None, f"{name} lacks {row.flag}"
            assert action.dest == row.name and action.help == row.help
            assert tuple(action.choices or ()) == (row.choices or ())
        else:
            assert action is None, f"{name} takes {row.flag}, outside its scope"


def test_an_option_given_sets_the_setting(isolated_env: Path) -> None:
    args = ["search", "q", *(f"{BY_NAME[n].flag}={SAMPLES[n][0]}" for n in ("device", "dim", "max_passages", "embedding_url"))]
    parsed = parsers()["(none)"].parse_args(args)
    from search.cli.parser import setting_options

    settings = Settings.resolve(**setting_options(parsed))
    assert (settings.device, settings.dim, settings.max_passages, settings.embedding_url) == (
        "cpu", 256, 12, "http://gpu-box:8000/v1")


@pytest.mark.parametrize("row", [r for r in SETTINGS if r.env and r.name not in READ_ELSEWHERE], ids=lambda r: r.name)
def test_each_variable_sets_its_setting(row: Any, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, value = SAMPLES[row.name]
    if row.name in ("query_format", "embedding_model"):
        monkeypatch.setenv(env_name("embedding_url"), "http://gpu-box:8000/v1")  # a name on a server
    if row.name == "reranker_model":
        monkeypatch.setenv(env_name("reranker_url"), "http://gpu-box:8001/v1")
    before = getattr(Settings.resolve(), row.name)
    monkeypatch.setenv(row.env, text)
    assert getattr(Settings.resolve(), row.name) == value != before
    assert setting_sources().get(row.name, row.env) == row.env


def test_variables_read_by_the_page_server_and_the_models(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    """The rows Settings does not hold are read where they are used, by the name in the table."""
    from search.page.access import allowed_host_names, credentials
    from search.page.token import TOKEN_VARIABLE

    monkeypatch.setenv(env_name("embedding_api_key"), "own")
    monkeypatch.setenv(env_name("api_key"), "both")
    assert config.api_key("embedding")[0] == "own" and config.api_key("reranker")[0] == "both"
    assert TOKEN_VARIABLE == env_name("token")
    assert "mybox.lan" in allowed_host_names(None, "mybox.lan")
    assert credentials(None, None, "me:a-long-password-here")
    assert Settings.resolve(data_dir=str(isolated_env / "d")).data_dir == isolated_env / "d"


@pytest.mark.parametrize("row", [r for r in SETTINGS if r.saved], ids=lambda r: r.name)
def test_each_saved_setting_round_trips_through_settings_json(row: Any, isolated_env: Path) -> None:
    data = Settings.resolve().data_dir
    text, value = SAMPLES[row.name]
    save_settings(data, {row.name: value})
    assert json.loads((data / "settings.json").read_text())[row.name] == value
    assert saved_settings(data)[row.name] == value
    if row.name not in ("embedding_model", "reranker_model"):  # hub names: see the test below
        assert getattr(Settings.resolve(), row.name) == value
    assert setting_sources()[row.name] == "settings file"
    assert row.page, f"{row.name} is saved from the page: it needs a field there"


def test_what_is_never_saved_cannot_be(isolated_env: Path) -> None:
    for row in SETTINGS:
        if not row.saved:
            with pytest.raises(ValueError):
                save_settings(Settings.resolve().data_dir, {row.name: SAMPLES.get(row.name, ("x", "x"))[1]})


def test_the_pages_settings_have_a_field_for_each_saved_row() -> None:
    from search.page import settings_tab

    assert set(settings_tab.FIELDS) == set(config.SAVED)
    assert {settings_tab.label(name) for name in config.SAVED} == {BY_NAME[n].page for n in config.SAVED}


def test_the_channel_compares_what_the_table_says_must_be_the_same() -> None:
    assert set(SAME) - {"database_name"} == {r.name for r in SETTINGS if r.same}
    assert all(name == "database_name" or BY_NAME[name].saved for name in SAME)


def test_marks_are_worded_for_each_edge() -> None:
    text = f"{mark('dim', 512)} does not fit; {run('index FOLDER')} first, or use {mark('like', 'FILE')}."
    assert worded(text, TERMINAL) == "--dim 512 does not fit; run `fathom index FOLDER` first, or use --like FILE."
    page = worded(text, PAGE)
    assert "Dimension 512 (Settings)" in page and "Library tab" in page and "--" not in page
    agent = worded(text, AGENT)
    assert "similar" in agent and "[[" not in agent and "`fathom" not in agent
    assert worded("a file named [[notes]] and [[run away]]", TERMINAL) == "a file named [[notes]] and [[run away]]"
    with pytest.raises(KeyError):
        mark("no_such_setting")


def test_records_have_their_reasons_worded_never_their_paths() -> None:
    from search.wording import worded_data

    looks_like_a_mark = "/notes/[[dim 5]].txt"
    report = {"failed": [(looks_like_a_mark, f"too large: raise {mark('max_file_mb')}")],
              "cut": [{"path": looks_like_a_mark, "reason": mark("max_passages")}]}
    assert worded_data(report, TERMINAL) == {
        "failed": [(looks_like_a_mark, "too large: raise --max-file-size")],
        "cut": [{"path": looks_like_a_mark, "reason": "--max-passages"}],
    }


def test_an_empty_option_counts_as_not_given(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_name("embedding_model"), "org/from-the-environment")
    assert Settings.resolve(embedding_model="").embedding_model == "org/from-the-environment"
    assert Settings.resolve().device == BY_NAME["device"].default == "auto"
