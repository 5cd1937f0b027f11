"""The engine's sentences name what a person can do by marks, never by the CLI's flags or
program (search/wording.py): worded for a terminal they read as the CLI has always printed them,
and each other edge gets its own words."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import write_corpus
from search.config import Settings
from search.errors import FathomError, IndexMismatchError, ModelLoadError, NotIndexedError
from search.filters import make_filter
from search.engine.index_recipe import chunker_for, fitting_space
from search.limits import MAX_QUERY_CHARS, check_query
from search.query import SearchOptions, search
from search.engine.search_notes import search_with_notes
from search.wording import PAGE, Terminal, has_marks, worded
from storage import EmbeddingSpace, open_store

CLI = Terminal("python app.py")


def raised(error: type[Exception], call: Any, *args: Any, **kwargs: Any) -> str:
    """The message `call` raises, after checking it holds marks and no CLI words."""
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    text = str(caught.value)
    assert has_marks(text) and "python app.py" not in text and " --" not in text, text
    return text


def test_a_query_too_long_points_at_more_like_this() -> None:
    text = raised(FathomError, check_query, "x" * (MAX_QUERY_CHARS + 1))
    assert worded(text, CLI).endswith("or use --like FILE to find files like a file.")
    assert "More like this FILE" in worded(text, PAGE)


def test_a_date_that_is_not_one_names_its_filter() -> None:
    text = raised(FathomError, make_filter, after="the day after tomorrow")
    assert worded(text, CLI).startswith("--after 'the day after tomorrow' is not a date")
    assert worded(raised(FathomError, make_filter, before="soon"), PAGE).startswith("Modified before 'soon'")
    # an edge that passes its own names keeps them
    with pytest.raises(FathomError, match="^modified_after 'soon' is not a date"):
        make_filter(after="soon", after_name="modified_after")


def test_k_below_one_names_the_option(tmp_path: Path) -> None:
    with open_store(tmp_path / "i.db") as store:
        text = raised(FathomError, search, store, "bread", SearchOptions(k=0, mode="keyword"))
    assert worded(text, CLI) == "-k must be at least 1, found 0."


def test_searching_an_empty_or_another_models_index_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings.resolve(embedding_model="model-b", reranker_model="none", dim=128)
    text = raised(NotIndexedError, fitting_space, None, settings)
    assert worded(text, CLI) == "Nothing is indexed yet: run `python app.py index FOLDER` first."
    assert worded(text, PAGE) == "Nothing is indexed yet: add a folder on the Library tab first."
    text = raised(IndexMismatchError, fitting_space, EmbeddingSpace("model-a", 384, "r"), settings)
    assert worded(text, CLI) == (
        "This index was built with model-a (dimension 384), not model-b (dimension 128): search with "
        "--embedding-model model-a --dim 384, or re-index everything with the new one: "
        "run `python app.py index --embedding-model model-b`."
    )
    assert worded(text, PAGE).endswith(
        "or re-index everything with the new one: index your folders again on the Library tab "
        "(with Embedding model model-b (Settings))."
    )
    served = Settings.resolve(embedding_model="model-b", reranker_model="none", embedding_url="http://gpu:8000/v1")
    text = raised(IndexMismatchError, fitting_space, EmbeddingSpace("model-a", 384, "r"), served)
    assert "search with --embedding-model model-a --embedding-url none, or" in worded(text, CLI)
    text = raised(IndexMismatchError, fitting_space, EmbeddingSpace("model-a @ http://old:8000/v1", 384, "r"), settings)
    assert "search with --embedding-model model-a --embedding-url http://old:8000/v1 --dim 384," in worded(text, CLI)


def test_a_tokenizer_that_is_not_there_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-tokenizer"
    settings = Settings.resolve(embedding_model="fake", reranker_model="none", tokenizer=str(missing))
    text = raised(ModelLoadError, chunker_for, settings)
    assert worded(text, CLI).startswith(f"--tokenizer {missing}: no tokenizer there")


class _Engine:
    """As much of an Engine as search_with_notes asks of: an index with no vectors yet."""

    def __init__(self, store: Any, settings: Settings, on_cpu: bool = True):
        self.store, self.settings, self.on_cpu = store, settings, on_cpu

    def search_space(self) -> EmbeddingSpace:
        return fitting_space(self.store.embedding_space(), self.settings)

    def embedder(self, dimension: int | None = None) -> Any:
        raise AssertionError("no model is loaded for a search with no vectors")

    def reranks_on_cpu(self) -> bool:
        return self.on_cpu

    def ignores_instructions(self, options: SearchOptions) -> bool:
        return True

    def search(self, query: Any, options: SearchOptions) -> list[Any]:
        return []


def test_the_notes_of_a_terminal_search_read_as_the_cli_prints_them(tmp_path: Path, fake_embedder: Any) -> None:
    from search.ingest.indexer import Indexer

    docs = write_corpus(tmp_path / "docs")
    settings = Settings.resolve(embedding_model="fake", reranker_model="Qwen/Qwen3-Reranker-0.6B",
                                embedding_url="http://gpu:8000/v1")
    with open_store(tmp_path / "i.db") as store:
        Indexer(store, chunker=fake_embedder_chunker(fake_embedder)).index_folders([docs])
        options = SearchOptions(rerank=None, rerank_top=4, task="code")
        _, notes = search_with_notes(_Engine(store, settings), "bread", options)
    said = [worded(note, CLI) for note in notes]
    assert not any("python app.py" in note or " --" in note for note in notes)
    assert said[0] == ("No file has its vectors yet: run `python app.py index` to embed them. "
                       "These files match your words only.")
    assert said[1].endswith("about 6 s a search (4 files); add --rerank to turn it on.")
    assert said[2] == ("fake takes no instructions and nothing is reranked, so --task and --instruction change nothing "
                       "here (--query-format qwen3 if it is a Qwen3-Embedding model).")


def fake_embedder_chunker(embedder: Any) -> Any:
    from search.ingest.chunk import Chunker

    return Chunker(embedder.name, embedder.chunk_tokenizer, 64, 8)


def test_a_cut_or_too_large_file_says_which_limit_to_raise(tmp_path: Path, fake_embedder: Any) -> None:
    from search.ingest.indexer import Indexer

    root = tmp_path / "docs"
    root.mkdir()
    (root / "big.txt").write_text("a long walk along the fjord " * 2_000, encoding="utf-8")
    (root / "many.txt").write_text("".join(f"Day {i}: the keeper logged the weather.\n\n" for i in range(300)),
                                   encoding="utf-8")
    with open_store(tmp_path / "i.db") as store:
        big = Indexer(store, chunker=fake_embedder_chunker(fake_embedder), max_file_bytes=20_000, max_passages=3)
        report = big.index_folders([root])
    ((_, skipped),), ((_, cut),) = report.skipped, report.cut
    assert worded(skipped, CLI).endswith("; raise it with --max-file-size)")
    assert worded(cut, CLI).endswith("(raise the limit with --max-passages)")
    assert " --" not in skipped + cut
