"""The README, `--help` and the CI script stay in step with the code."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = app.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    commands = [line.split("#")[0].strip() for line in README.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()]
    assert commands[0].endswith("python app.py")
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][a-z0-9-]*)")
COMMANDS = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]  # the README's section


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_and_option_is_documented(name: str) -> None:
    """What `python app.py NAME --help` shows, the README explains: the command, and each
    option with its help."""
    assert f"python app.py {name}" in README
    parser = subcommands()[name]
    shown = set(FLAG.findall(parser.format_help())) - {"-h", "--help"}
    assert shown == options(parser) - {"-h", "--help"}, "an option --help does not show"
    for flag in sorted(shown):
        assert f"`{flag}" in README, f"{flag} of `{name}` is not in the README"
    for action in parser._actions:
        assert action.help or not action.option_strings, f"{action.option_strings} of `{name}` has no help"


def test_the_readme_documents_only_options_that_exist() -> None:
    """An option the README's Commands section names is one Fathom takes, and the synopsis of a
    command (`python app.py index [PATH ...] [--watch]`) names only that command's options."""
    every = set().union(*(options(p) for p in subcommands().values()), options(app.build_parser()))
    named = set(re.findall(r"`(--[a-z][a-z0-9-]*)", COMMANDS))
    assert len(named) >= 20 and named <= every, f"the README names options Fathom lacks: {sorted(named - every)}"
    synopses = re.findall(r"`python app\.py (\w+)([^`]*)`", COMMANDS)
    assert len(synopses) >= 5
    for name, synopsis in synopses:
        assert set(FLAG.findall(synopsis)) <= options(subcommands()[name]), f"`python app.py {name}{synopsis}`"


def test_the_readme_says_which_options_the_settings_file_does_not_keep() -> None:
    """The options every command takes that settings.json cannot hold are the ones the README
    names as such."""
    from search.config import SAVED

    parsers = list(subcommands().values())
    common = [a for a in parsers[0]._actions if all(a.option_strings[:1] and a.option_strings[0] in options(p) for p in parsers)]
    unsaved = {a.option_strings[0] for a in common if a.dest not in SAVED} - {"-h"}
    sentence = re.search(r"all but (.+?) also the\s+page's Settings", COMMANDS, re.S)
    assert sentence is not None
    assert set(re.findall(r"`(--[a-z-]+)`", sentence.group(1))) == unsaved
    assert {"--embedding-model", "--device"} <= {a.option_strings[0] for a in common if a.dest in SAVED}


def test_the_defaults_the_readme_gives_are_the_codes() -> None:
    """Each default is defined once (search/defaults.py); the README, the settings, the readers
    and the model-server client say the same number."""
    from search import defaults
    from search.config import Settings
    from search.ingest.extract import MAX_FILE_BYTES, extract
    from search.models.server import ServerClient

    def readme_default(variable: str) -> str:
        return re.search(rf"`{variable}` \| ([\d.]+):", COMMANDS).group(1)

    assert float(readme_default("FATHOM_MAX_FILE_MB")) == defaults.MAX_FILE_MB
    assert float(readme_default("FATHOM_REMOTE_TIMEOUT")) == defaults.REMOTE_TIMEOUT_S
    assert int(readme_default("FATHOM_REMOTE_REQUESTS")) == defaults.REMOTE_REQUESTS
    settings = Settings(Path("."), "m", None)
    assert settings.max_file_bytes == MAX_FILE_BYTES == extract.__defaults__[0]
    client = ServerClient("http://127.0.0.1:1/v1", None, what="embedding")
    assert (client.timeout, client.in_flight) == (settings.remote_timeout, settings.remote_requests)
    client.close()


def test_every_task_preset_is_documented() -> None:
    from search.presets import presets

    for name in presets():
        assert f"`{name}`" in README


def test_the_readme_points_only_to_files_in_the_repository() -> None:
    """A clone has nothing outside the repository: every path the README names is in it."""
    assert "../" not in README
    named = re.findall(r"`((?:app\.py|search/|storage/|tests/|bench/|assets/|\.ci/)[^`\s]*)`", README)
    assert len(named) >= 10
    for path in named:
        assert (ROOT / path).exists(), f"the README names {path}, which is not in the repository"


def test_the_install_gives_a_fathom_command(tmp_path: Path) -> None:
    import shutil
    import subprocess

    assert 'fathom = "app:console"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    command = shutil.which("fathom")
    if command is None:
        pytest.skip("fathom is not on the PATH: install with the README's command")
    done = subprocess.run([command, "status", "--json", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"database"' in done.stdout
    assert "usage: fathom" in subprocess.run([command, "--help"], capture_output=True, text=True, timeout=120).stdout


def test_the_readme_has_each_section_once() -> None:
    headings = re.findall(r"^## .+$", README, re.M)
    assert len(headings) == len(set(headings)), headings
    assert "## How it is built" in headings
