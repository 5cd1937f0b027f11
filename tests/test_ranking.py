"""Files are ranked by the evidence of their chunks and of the file as a whole: each rule of the
fusion has a case here where it decides the order (search/query.py), on both backends."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from search.query import SearchOptions, _file_lists, search
from conftest import FixedQuery, unit
from storage import ChunkRow, EmbeddingSpace, IndexStore, open_store

Store = IndexStore

DIM = 4
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"


@pytest.fixture
def store(database: Path | str) -> Store:
    with open_store(database) as s:
        s.set_embedding_space(EmbeddingSpace("m", DIM))
        yield s


def write(store: Store, path: str, texts: Sequence[str], vectors: Sequence[np.ndarray], context: str = "") -> None:
    folder = store.add_folder("/docs")
    rows, at = [], 0
    for i, (text, vector) in enumerate(zip(texts, vectors)):
        rows.append(ChunkRow(i, at, at + len(text), None, text, vector.astype(np.float32).tobytes(), context))
        at += len(text) + 1
    store.write_file(folder.id, path, 1, 1, "h", rows, title=context)


def names(store: Store, query: str, vector: np.ndarray, **options: float) -> list[str]:
    base = SearchOptions(k=5, mode="hybrid", rerank=False)
    return [Path(r.path).name for r in search(store, query, replace(base, **options), FixedQuery(vector))]


NEUTRAL = unit(0, 0, 0, 1)  # every chunk alike: the vector lists cannot tell the files apart


def test_a_file_with_all_the_words_beats_one_chunk_with_most_of_them(store: Store) -> None:
    # Chunk BM25 prefers the chunk with three of the words; the file with all four, one per
    # chunk, wins by its whole text.
    for i in range(6):
        write(store, f"/docs/other{i}.txt", [f"{FILLER} number{i}"], [NEUTRAL])
    write(store, "/docs/spread.txt", ["alpha first", "bravo second", "charlie third", "delta fourth"], [NEUTRAL] * 4)
    write(store, "/docs/dense.txt", [f"alpha bravo charlie {FILLER}"], [NEUTRAL])
    query = "alpha bravo charlie delta"
    assert names(store, query, NEUTRAL, vector_weight=0, file_weight=0)[0] == "dense.txt"
    assert names(store, query, NEUTRAL, vector_weight=0)[0] == "spread.txt"


def test_a_file_named_for_the_query_is_found_by_its_name(store: Store) -> None:
    # The passport file's text never says "passport" (its context is its title, not its
    # name); another file mentions it once in passing.
    write(store, "/docs/travel/passport.md", [f"renew at the town hall {FILLER}"], [NEUTRAL], context="Papers")
    write(store, "/docs/notes.md", [f"{FILLER} my passport photo {FILLER} {FILLER}"], [NEUTRAL], context="Notes")
    assert names(store, "passport", NEUTRAL, vector_weight=0, file_weight=0)[0] == "notes.md"
    assert names(store, "passport", NEUTRAL, vector_weight=0)[0] == "passport.md"


def test_files_are_ranked_by_their_opening_and_by_their_summary(store: Store) -> None:
    # The opening is the first chunk; the summary the mean of all of them.
    q = unit(1, 0, 0, 0)
    write(store, "/docs/opens.txt", ["a", "b", "c"], [unit(0.9, 0.1, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)])
    write(store, "/docs/about.txt", ["d", "e", "f"], [unit(0.5, 0, 0, 0.9), unit(0.8, 0.6, 0, 0), unit(0.8, 0, 0.6, 0)])
    ids = {Path(r.path).name: r.id for r in store.files_under("/docs")}
    lists, embedded = _file_lists(store, None, q.tobytes(), SearchOptions(), set(), list(ids.values()))
    by_id = {v: k for k, v in ids.items()}
    opening, summary = lists
    assert [by_id[f] for f in opening.files] == ["opens.txt", "about.txt"]
    assert [by_id[f] for f in summary.files] == ["about.txt", "opens.txt"]
    assert opening.weight > 0 and summary.weight > 0 and opening.by_vector and summary.by_vector
    assert embedded == set(ids.values())


def test_a_file_about_the_query_throughout_beats_one_good_chunk(store: Store) -> None:
    # Neither opens with the query; one is about it in every later chunk (its summary is
    # near the query), the other has one chunk a little nearer and is about something else.
    q = unit(1, 0, 0, 0)
    other = unit(0, 0, 1, 0)
    write(store, "/docs/throughout.txt", ["a", "b", "c", "d"], [other, unit(0.8, 0.6, 0, 0), unit(0.8, 0, 0, 0.6), unit(0.8, 0.3, 0, 0.5)])
    write(store, "/docs/once.txt", ["e", "f", "g", "h"], [other, unit(0.85, 0.5, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 0.6, 0.8)])
    assert names(store, "q", q, keyword_weight=0, file_weight=0)[0] == "once.txt"
    assert names(store, "q", q, keyword_weight=0)[0] == "throughout.txt"


def test_a_file_found_only_by_its_name_is_shown_by_its_best_passage(store: Store) -> None:
    write(store, "/docs/passport.md", [f"{FILLER} one", "renewal takes six weeks"], [unit(0, 1, 0, 0), unit(1, 0, 0, 0)], context="Papers")
    (result,) = search(store, "passport", SearchOptions(k=1, rerank=False), FixedQuery(unit(1, 0, 0, 0)))
    assert result.text == "renewal takes six weeks"  # nearest to the query, though no word matched
    assert result.keyword_score is None and result.vector_score == pytest.approx(1.0, abs=1e-3)


def test_single_modes_keep_their_chunk_scores(store: Store) -> None:
    write(store, "/docs/a.txt", [f"alpha {FILLER}"], [unit(1, 0, 0, 0)])
    write(store, "/docs/b.txt", [f"bravo {FILLER}"], [unit(0.6, 0.8, 0, 0)])
    vector = search(store, "alpha", SearchOptions(mode="vector", rerank=False), FixedQuery(unit(1, 0, 0, 0)))
    assert [round(r.score, 3) for r in vector] == [1.0, 0.6]  # cosine similarity
    (keyword,) = search(store, "alpha", SearchOptions(mode="keyword", rerank=False))
    assert keyword.score == keyword.keyword_score > 0  # BM25 of the chunk


def test_more_like_this_leaves_out_the_file_it_started_from(store: Store) -> None:
    write(store, "/docs/a.txt", [f"alpha {FILLER}"], [unit(1, 0, 0, 0)])
    write(store, "/docs/b.txt", [f"alpha {FILLER}"], [unit(1, 0, 0, 0)])
    options = SearchOptions(rerank=False, exclude_path="/docs/a.txt")
    assert [Path(r.path).name for r in search(store, "alpha", options, FixedQuery(unit(1, 0, 0, 0)))] == ["b.txt"]


def test_the_reranker_reads_the_passage_under_its_title_and_section(store: Store) -> None:
    write(store, "/docs/manual.md", ["Descale it monthly with citric acid."], [unit(1, 0, 0, 0)], context="Coffee maker › Cleaning")

    class Reader:
        documents: list[str] = []

        def rerank(self, query: str, documents: Sequence[str], instruction: str | None = None) -> list[float]:
            Reader.documents = list(documents)
            return [0.9] * len(documents)

    (result,) = search(store, "descale", SearchOptions(rerank=True), FixedQuery(unit(1, 0, 0, 0)), Reader())
    assert Reader.documents == ["Coffee maker › Cleaning\n\nDescale it monthly with citric acid."]
    assert result.rerank_score == result.score == 0.9
