"""The command line as a person (or a script) uses it, with the real all-MiniLM-L6-v2; the tests
of an indexed corpus run with the index in SQLite and in PostgreSQL (`--database`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import CORPUS, json_lines, run_cli, write_corpus
from storage import database_name

def as_embedded(context: str, text: str) -> str:
    """A chunk as the README says the embedder sees it: its context, a blank line, then its
    text (written from the README, not taken from the code under test)."""
    return f"{context}\n\n{text}" if context else text


# The contract scripts rely on (issue 2), and the fields added since: extend, never break.
RESULT_KEYS = {"path", "score", "vector_score", "keyword_score", "rerank_score", "page", "start", "end", "text"}
ADDED_KEYS = {"context", "snippet", "highlights", "modified", "embedded", "word_score", "strong"}


@pytest.fixture
def indexed(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            database: Path | str) -> Path:
    if isinstance(database, str):  # PostgreSQL: every command finds it in the environment
        monkeypatch.setenv("FATHOM_DATABASE_URL", database)
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    root = write_corpus(tmp_path / "docs")
    code, out, err = run_cli(capsys, "index", str(root))
    assert code == 0, err
    assert f"{len(CORPUS)} new" in out
    return root


@pytest.mark.parametrize(
    "query, expected",
    [
        ("how do I bake bread at home", "cooking/sourdough.md"),
        ("documents I need for my income tax filing", "finance/taxes.txt"),
        ("function that computes a number sequence", "code/fibonacci.py"),
        ("high speed train trip in Asia", "travel/japan.rst"),
        ("preparing to run a long race", "health/running.txt"),
        ("when does the kitty need shots at the vet", "pets/cat.txt"),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "vector"])
def test_the_right_file_ranks_first(indexed: Path, capsys: pytest.CaptureFixture[str], query: str, expected: str, mode: str) -> None:
    code, out, err = run_cli(capsys, "search", query, "--json", "--mode", mode)
    assert code == 0, err
    (payload,) = json_lines(out)
    assert payload["results"][0]["path"] == str(indexed / expected)


def test_json_contract(indexed: Path, minilm: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", "sourdough bread", "--json", "-k", "5")
    assert code == 0
    (payload,) = json_lines(out)
    assert payload["query"] == "sourdough bread" and payload["corrected"] is None
    results = payload["results"]
    assert 1 <= len(results) <= 5
    for result in results:
        assert set(result) == RESULT_KEYS | ADDED_KEYS
        assert result["modified"] == pytest.approx(Path(result["path"]).stat().st_mtime, abs=1e-3)
        assert Path(result["path"]).is_absolute()
        assert result["rerank_score"] is None  # reranker is `none`: not computed
        source = Path(result["path"]).read_text(encoding="utf-8")
        assert source[result["start"] : result["end"]] == result["text"]
    assert len({r["path"] for r in results}) == len(results), "one result per file"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    # Only the sourdough file contains the words: the others have no keyword score.
    assert results[0]["keyword_score"] > 0
    assert all(r["keyword_score"] is None for r in results[1:])
    # vector_score is the cosine similarity of the query and that chunk (as embedded: under
    # its context line).
    q = minilm.embed_queries(["sourdough bread"])[0]
    # No file of the corpus has a title: a chunk's context is its file's name, then the section
    # it sits under when there is one (the Markdown heading "# Sourdough bread").
    assert results[0]["path"] == str(indexed / "cooking/sourdough.md")
    assert results[0]["context"] == "sourdough.md › Sourdough bread"
    for result in results:
        name = Path(result["path"]).name
        assert result["context"] == name or result["context"].startswith(name + " › ")
        d = minilm.embed_documents([as_embedded(result["context"], result["text"])])[0]
        assert result["vector_score"] == pytest.approx(float(np.dot(q, d)), abs=1e-4)


def test_keyword_mode_needs_no_model_and_reports_no_vector_score(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", "Dutch oven", "--mode", "keyword", "--json",
                           "--embedding-model", "/nonexistent/model")
    assert code == 0
    (payload,) = json_lines(out)
    assert payload["results"][0]["path"].endswith("sourdough.md")
    assert payload["results"][0]["vector_score"] is None


def test_batch_queries_from_file(indexed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text('bake bread\n\n{"query": "marathon training"}\ntomato plants\n', encoding="utf-8")
    code, out, _ = run_cli(capsys, "search", "--queries", str(queries), "--json", "-k", "1")
    assert code == 0
    payloads = json_lines(out)
    assert [p["query"] for p in payloads] == ["bake bread", "marathon training", "tomato plants"]
    assert [Path(p["results"][0]["path"]).name for p in payloads] == ["sourdough.md", "running.txt", "tomatoes.md"]


def test_bad_queries_file_line_is_named(indexed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"q": "no query field"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "search", "--queries", str(queries))
    assert code == 1
    assert "line 1" in err and '"query"' in err


def test_human_output_shows_rank_path_and_snippet(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", "tomatoes in the garden", "-k", "2")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith(" 1.") and first.endswith(str(indexed / "garden/tomatoes.md"))
    assert "seedlings" in out


def test_status_json(indexed: Path, minilm_path: str, isolated_env: Path, capsys: pytest.CaptureFixture[str],
                     database: Path | str) -> None:
    code, out, _ = run_cli(capsys, "status", "--json")
    assert code == 0
    status = json.loads(out)
    assert status["folders"] == [{
        "path": str(indexed), "files": len(CORPUS),
        "indexed": len(CORPUS), "failed": 0, "skipped": 0, "ignored": 0, "ignored_folders": 0, "waiting": 0,
    }]
    assert status["ignored"] == []
    assert status["files"] == status["indexed_files"] == len(CORPUS)
    assert status["chunks"] >= len(CORPUS)
    assert status["failed"] == []
    assert status["embedding_model"] == minilm_path
    assert status["dimension"] == 384
    assert status["database"] == (database_name(database) if isinstance(database, str) else str(isolated_env / "fathom.db"))
    assert status["device"] == "cpu float32"
    assert status["vector_search"]


def test_an_edit_and_a_delete_are_picked_up_by_the_next_index(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (indexed / "pets/cat.txt").write_text("Our parrot repeats every word of the podcast.", encoding="utf-8")
    (indexed / "garden/tomatoes.md").unlink()
    code, out, err = run_cli(capsys, "index", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["updated"], report["removed"], report["added"]) == (1, 1, 0)
    code, out, _ = run_cli(capsys, "search", "parrot podcast", "--json", "-k", "3")
    assert json_lines(out)[0]["results"][0]["path"] == str(indexed / "pets/cat.txt")
    code, out, _ = run_cli(capsys, "search", "growing tomatoes seedlings", "--json")
    found = [r["path"] for r in json_lines(out)[0]["results"]]
    assert str(indexed / "garden/tomatoes.md") not in found and found
    code, out, _ = run_cli(capsys, "search", "veterinarian vaccination", "--json", "--mode", "keyword")
    assert json_lines(out)[0]["results"] == []  # the cat's old words are gone
    code, out, _ = run_cli(capsys, "status", "--json", "--check")
    status = json.loads(out)
    assert status["files"] == len(CORPUS) - 1 and status["waiting"]["chunks"] == 0
    assert all(v is True or v == 0 for v in status["check"]["problems"].values())


def test_search_with_another_model_is_refused(indexed: Path, tiny_qwen3_embedder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "search", "bread", "--embedding-model", str(tiny_qwen3_embedder))
    assert code == 1
    assert "built with" in err and "--embedding-model" in err
    code, _, err = run_cli(capsys, "search", "bread", "--dim", "128")
    assert code == 1
    assert "dimension 384" in err


def test_reindex_with_another_model_rebuilds(indexed: Path, tiny_qwen3_embedder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "index", "--embedding-model", str(tiny_qwen3_embedder), "--dim", "32", "--json")
    assert code == 0, err
    assert "re-embedding every folder" in err
    report = json.loads(out)
    assert report["updated"] == len(CORPUS)
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert (status["embedding_model"], status["dimension"]) == (str(tiny_qwen3_embedder), 32)
    code, out, err = run_cli(capsys, "search", "bread", "--json", "--embedding-model", str(tiny_qwen3_embedder))
    assert code == 0, err
    assert len(json_lines(out)[0]["results"]) > 0


def test_a_misspelled_query_says_what_it_searched_instead(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", "sourdogh bred", "--json", "--mode", "keyword")
    (payload,) = json_lines(out)
    assert code == 0 and payload["query"] == "sourdogh bred" and payload["corrected"] == "sourdough bread"
    assert payload["results"][0]["path"] == str(indexed / "cooking/sourdough.md")
    code, out, _ = run_cli(capsys, "search", "sourdogh bred", "--json", "--mode", "keyword", "--as-typed")
    (payload,) = json_lines(out)
    assert payload["corrected"] is None and payload["results"] == []
    code, out, _ = run_cli(capsys, "search", "sourdogh bred", "--mode", "keyword")
    assert "Showing results for: sourdough bread" in out and "--as-typed" in out


def test_quotes_and_minus_on_the_command_line(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", '"Dutch oven"', "--json", "--mode", "keyword")
    assert [r["path"] for r in json_lines(out)[0]["results"]] == [str(indexed / "cooking/sourdough.md")]
    code, out, _ = run_cli(capsys, "search", '"oven Dutch"', "--json", "--mode", "keyword")
    assert json_lines(out)[0]["results"] == []
    code, out, _ = run_cli(capsys, "search", "bread -sourdough", "--json")
    assert str(indexed / "cooking/sourdough.md") not in [r["path"] for r in json_lines(out)[0]["results"]]


@pytest.mark.parametrize(
    "args, suggestion",
    [(["serch", "bread"], "did you mean 'search'?"), (["statsu"], "did you mean 'status'?"),
     (["search", "bread", "--mode", "hybird"], "did you mean 'hybrid'?")],
)
def test_a_mistyped_command_or_choice_gets_did_you_mean(args: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, *args)
    assert exited.value.code == 2 and suggestion in capsys.readouterr().err


def test_the_progress_bar_reads_well_from_start_to_end() -> None:
    import io

    from search.cli.progress import ProgressBar
    from storage import PendingWork

    out = io.StringIO()
    with ProgressBar(True, file=out) as progress:
        progress.update(total=2, total_bytes=10)
        progress.update(files=2, size=10)
        progress.meaning_begins(PendingWork(files=1, chunks=4, tokens=400))
        for _ in range(4):
            progress.update(embedded=1, tokens=100)
    lines = [line for line in out.getvalue().replace("\r", "\n").splitlines() if line.strip()]
    assert any(line.startswith("Embedding:   0%") for line in lines)
    assert not any("Embedding: :" in line for line in lines)
    assert lines[-1].startswith("Embedding: 100%") and "left" not in lines[-1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "/no/such/folder"], "No folder at /no/such/folder"),
        (["index", "{tmp}", "--embedding-model", "/no/such/model"], "No model folder at /no/such/model"),
        (["index", "{tmp}", "--embedding-model", "nobody/no-such-model"], "Cannot download the model nobody/no-such-model"),
        (["index", "{tmp}", "--reranker-model", "none", "--device", "cuda"], "PyTorch sees no CUDA GPU"),
        (["search", "x", "--task", "question", "--mode", "hybrid"], "Nothing is indexed yet"),
        (["search"], "Nothing to search"),
    ],
)
def test_errors_are_one_clear_sentence(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if "cuda" in args:
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    code, out, err = run_cli(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_index_with_missing_model_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_corpus(tmp_path / "docs")
    code, _, err = run_cli(capsys, "index", str(root), "--embedding-model", "Qwen/Qwen3-Embedding-0.6B")
    assert code == 1
    assert "Cannot download the model Qwen/Qwen3-Embedding-0.6B" in err
    assert "local model folder" in err


def test_env_variables_choose_the_data_dir(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere"
    monkeypatch.setenv("FATHOM_DATA_DIR", str(other))
    code, out, _ = run_cli(capsys, "status", "--json")
    assert json.loads(out)["database"] == str(other / "fathom.db")
    # an option beats the variable, before or after the command name
    code, out, _ = run_cli(capsys, "--data-dir", str(tmp_path / "a"), "status", "--json")
    assert json.loads(out)["database"] == str(tmp_path / "a" / "fathom.db")
    code, out, _ = run_cli(capsys, "status", "--json", "--data-dir", str(tmp_path / "b"))
    assert json.loads(out)["database"] == str(tmp_path / "b" / "fathom.db")


def test_default_command_starts_the_page_on_this_computer_only(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import search.page

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(search.page, "serve", lambda settings, **kw: calls.append(kw) or 0)
    monkeypatch.delenv("FATHOM_AUTH", raising=False)
    code, out, _ = run_cli(capsys)
    assert code == 0 and "Starting Fathom" in out
    (call,) = calls
    assert (call["host"], call["port"], call["share"], call["auth"]) == ("127.0.0.1", 7860, False, [])


def test_reranked_files_come_first_ordered_by_rerank_score(indexed: Path, tiny_qwen3_reranker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "search", "bread", "--json", "-k", "6", "--rerank-top", "3",
                             "--reranker-model", str(tiny_qwen3_reranker), "--rerank")
    assert code == 0, err
    assert "not reranked" not in err
    results = json_lines(out)[0]["results"]
    assert len(results) > 3  # files less like "bread" than the index at large are not shown at all
    reranked, rest = results[:3], results[3:]
    assert all(r["rerank_score"] is not None and r["score"] == r["rerank_score"] for r in reranked)
    assert [r["rerank_score"] for r in reranked] == sorted((r["rerank_score"] for r in reranked), reverse=True)
    assert all(r["rerank_score"] is None for r in rest)
    code, out, _ = run_cli(capsys, "search", "bread", "--json", "--no-rerank",
                           "--reranker-model", str(tiny_qwen3_reranker))
    assert all(r["rerank_score"] is None for r in json_lines(out)[0]["results"])


def test_a_cpu_does_not_rerank_unless_asked_and_says_so_once(indexed: Path, tmp_path: Path, tiny_qwen3_reranker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("bread\ntomatoes\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "search", "--queries", str(queries), "--json", "--rerank-top", "4",
                             "--reranker-model", str(tiny_qwen3_reranker))
    assert code == 0, err
    assert all(r["rerank_score"] is None for payload in json_lines(out) for r in payload["results"])
    assert err.count("not reranked") == 1
    assert "about 6 s a search (4 files); add --rerank to turn it on" in err


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(a b", "a AND OR NOT", "*", "col:umn", "^start", "snake_case CamelCase", "東京 ラーメン", "(", "''"])
def test_typed_punctuation_never_breaks_keyword_search(indexed: Path, capsys: pytest.CaptureFixture[str], query: str) -> None:
    code, out, err = run_cli(capsys, "search", query, "--mode", "keyword", "--json")
    assert code == 0, err
    assert json_lines(out)[0]["query"] == query


def test_snippets_mark_the_query_words(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "search", "Dutch oven crust", "--json", "-k", "1")
    best = json_lines(out)[0]["results"][0]
    marked = [best["snippet"][s:e] for s, e in best["highlights"]]
    assert marked == ["Dutch", "oven", "crust"]  # each word, as the text spells it


@pytest.mark.parametrize(
    "flags, allowed",
    [
        (["--type", "py,js"], {"fibonacci.py", "http_server.js"}),
        (["--folder", "{root}/code"], {"fibonacci.py", "http_server.js"}),
        (["--path", "*.md"], {"sourdough.md", "tomatoes.md"}),
        (["--path", "c*"], {"cat.txt"}),  # the file name, not the folders cooking/ and code/
        (["--path", "{root}/pets/*"], {"cat.txt"}),
        (["--after", "1d"], {Path(p).name for p in CORPUS}),
        (["--before", "2000-01-01"], set()),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_filters_hold_in_every_mode(indexed: Path, capsys: pytest.CaptureFixture[str], flags: list[str], allowed: set[str], mode: str) -> None:
    flags = [f.replace("{root}", str(indexed)) for f in flags]
    code, out, err = run_cli(capsys, "search", "the a function bread cat tomatoes", "--json", "--mode", mode, *flags)
    assert code == 0, err
    names = {Path(r["path"]).name for r in json_lines(out)[0]["results"]}
    assert names <= allowed
    if allowed and mode == "hybrid":
        assert names, "a filter that allows files must still return some"


def test_a_bad_date_says_what_to_type(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "search", "bread", "--after", "last tuesday")
    assert code == 1 and "2024-05-31" in err


def test_more_like_this(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (indexed / "cooking/baguette.md").write_text(
        "Baguette: mix flour, water, yeast and salt, knead the dough, let it rise, bake in a hot oven.", encoding="utf-8")
    assert run_cli(capsys, "index", str(indexed))[0] == 0
    code, out, err = run_cli(capsys, "search", "--like", str(indexed / "cooking/sourdough.md"), "--json", "-k", "3")
    assert code == 0, err
    results = json_lines(out)[0]["results"]
    assert results[0]["path"] == str(indexed / "cooking/baguette.md")
    assert str(indexed / "cooking/sourdough.md") not in [r["path"] for r in results]
    code, _, err = run_cli(capsys, "search", "--like", str(indexed / "nope.md"))
    assert code == 1 and "not an indexed file" in err


@pytest.mark.parametrize("query", ["?!.,;:", "   ", "…—«»"])
def test_a_query_without_words_finds_nothing_and_loads_no_model(indexed: Path, capsys: pytest.CaptureFixture[str], query: str) -> None:
    code, out, err = run_cli(capsys, "search", query, "--json", "--embedding-model", "/nonexistent/model")
    assert code == 0, err
    assert json_lines(out) == [{"query": query, "results": [], "corrected": None}]


def test_a_task_with_a_model_that_takes_no_instructions_says_so_once(indexed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("bake bread\ntomato plants\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "search", "--queries", str(queries), "--task", "code", "--json")
    assert code == 0
    assert err.count("takes no instructions") == 1 and "--task and --instruction change nothing" in err
    assert len(json_lines(out)) == 2
    code, _, err = run_cli(capsys, "search", "bake bread", "--json")
    assert "instructions" not in err


def test_a_tokenizer_that_is_not_there_is_said(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_corpus(tmp_path / "docs")
    code, _, err = run_cli(capsys, "index", str(root), "--embedding-model", minilm_path, "--reranker-model", "none",
                           "--tokenizer", str(tmp_path / "no-tokenizer"))
    assert code == 1 and f"--tokenizer {tmp_path / 'no-tokenizer'}: no tokenizer there" in err


@pytest.fixture
def small_index(tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], isolated_env: Path) -> list[str]:
    """The corpus indexed in SQLite; returns the options every command takes for it."""
    models = ["--embedding-model", minilm_path, "--reranker-model", "none"]
    code, _, err = run_cli(capsys, "index", str(write_corpus(tmp_path / "docs")), *models)
    assert code == 0, err
    return models


def test_dates_beyond_the_calendar_and_files_not_utf8_get_a_sentence(
    small_index: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A date no file time can hold means "any time" on that side; never a traceback."""
    for flags, finds in ((["--after", "99999999999d"], True), (["--after", "0001-01-01"], True),
                         (["--before", "9999-12-31T23:59:59"], True), (["--before", "0001-01-01"], False),
                         (["--after", "9999-12-31T23:59:59"], False)):
        code, out, err = run_cli(capsys, "search", "bread", "--mode", "keyword", "--json", *flags, *small_index)
        assert code == 0 and "Traceback" not in err, (flags, err)
        assert bool(json_lines(out)[0]["results"]) == finds, flags
    queries = tmp_path / "queries.txt"
    queries.write_bytes(b"sourdough bread\n\xff\xfe not text\n")
    code, out, err = run_cli(capsys, "search", "--queries", str(queries), "--mode", "keyword", *small_index)
    assert code == 1 and err.strip() == f"fathom: {queries}, line 2 is not UTF-8 text: save the queries file as UTF-8."


def test_a_huge_query_is_refused_at_once_and_a_long_one_answers(
    small_index: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A 1 MB query ran for more than half an hour (terms collected in quadratic time, again for
    every result card): now it is refused in a sentence, and a page of text answers, in seconds."""
    import random
    import time

    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)) for _ in range(120_000)]
    huge = tmp_path / "huge-query.txt"
    huge.write_text(" ".join(words)[:1_000_000] + "\n", encoding="utf-8")
    began = time.monotonic()
    code, _, err = run_cli(capsys, "search", "--queries", str(huge), "--mode", "keyword", *small_index)
    assert code == 1 and "at most 10,000" in err and len(err.splitlines()) == 1 and time.monotonic() - began < 5
    page_of_text = "sourdough bread " + " ".join(words)[:9_980]
    began = time.monotonic()
    code, out, err = run_cli(capsys, "search", page_of_text, "--mode", "keyword", "--json", *small_index)
    assert code == 0, err
    assert json_lines(out)[0]["results"] and time.monotonic() - began < 5


def test_collecting_terms_is_bounded_and_linear() -> None:
    import subprocess
    import sys

    script = ("import random, time; from storage.fts import query_terms, MAX_QUERY_TERMS; "
              "r = random.Random(1); text = ' '.join(''.join(r.choice('abcdefghij') for _ in range(9)) for _ in range(110_000)); "
              "t = time.monotonic(); terms = query_terms(text); assert len(terms) == MAX_QUERY_TERMS, len(terms); "
              "print(time.monotonic() - t)")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1.0


def test_words_only_results_and_waiting_files_are_said_in_text(
    tmp_path: Path, fake_embedder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before its vectors come, a file found by its words shows its word score (not a fused
    0.0000) and says it is not embedded yet; `status` says what waits; a weak result says so."""
    from search.cli.output import print_results
    from search.engine import Engine
    from search.config import Settings

    docs = write_corpus(tmp_path / "docs")
    with Engine(Settings.resolve(embedding_model="fake", reranker_model="none")) as engine:
        engine.read([docs])  # the words phase only: nothing embedded
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and f"Waiting:   {len(CORPUS)} files (" in out
    print_results("bread", [{
        "path": "/d/a.md", "score": 0.0, "vector_score": None, "keyword_score": 2.54, "rerank_score": None,
        "page": None, "snippet": "bread", "highlights": [], "embedded": False, "strong": False,
    }], show_query=False)
    line = capsys.readouterr().out.splitlines()[0]
    assert "words 2.5" in line and "0.0000" not in line
    assert "[words only: not embedded yet]" in line and "[weak match]" in line
