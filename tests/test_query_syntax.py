"""Query syntax people know from search engines, on both backends: "an exact phrase" ranks the
files that hold it above files with its words scattered, -word leaves files out in every mode,
and a misspelled word is matched to the index's nearest word, saying so."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from search.query import SearchOptions, search, understood
from search.query_syntax import Part, as_typed, parse_query
from conftest import FixedQuery, unit
from storage import ChunkRow, EmbeddingSpace, IndexStore, WordQuery, open_store
from storage.spelling import distance

DIM = 4
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod"


@pytest.fixture
def store(database: Path | str) -> IndexStore:
    with open_store(database) as s:
        s.set_embedding_space(EmbeddingSpace("m", DIM))
        yield s


def write(store: IndexStore, path: str, texts: Sequence[str], vector: np.ndarray) -> None:
    folder = store.add_folder("/docs")
    rows, at = [], 0
    for i, text in enumerate(texts):
        rows.append(ChunkRow(i, at, at + len(text), None, text, vector.astype(np.float32).tobytes()))
        at += len(text) + 1
    store.write_file(folder.id, path, 1, 1, "h", rows)


def names(store: IndexStore, query: str, mode: str = "hybrid", vector: np.ndarray | None = None, **more: object) -> list[str]:
    options = SearchOptions(k=10, mode=mode, rerank=False, **more)  # type: ignore[arg-type]
    embedder = FixedQuery(vector if vector is not None else unit(0, 0, 0, 1))
    return [Path(r.path).name for r in search(store, query, options, embedder)]


# -- reading the query ------------------------------------------------------------------------


def test_phrases_and_left_out_words_are_read_as_search_engines_read_them() -> None:
    q = parse_query('lamp "exact  phrase" -harbor -"dry dock" well-known -1 --verbose “curly quotes”')
    assert q.words == ["lamp", "well-known", "-1", "--verbose"]
    assert q.phrases == ["exact phrase", "curly quotes"]
    assert q.excluded == ["harbor", "dry dock"]
    assert q.meaning == "lamp exact phrase well-known -1 --verbose curly quotes"  # no marks, nothing left out
    assert parse_query('an "unclosed quote runs on').phrases == ["unclosed quote runs on"]
    assert parse_query("how do I renew my passport?").meaning == "how do I renew my passport?"  # as typed
    assert parse_query('-" " - "" ...').parts == ()


def test_a_query_of_left_out_words_alone_finds_nothing(store: IndexStore) -> None:
    write(store, "/docs/a.txt", ["lamp"], unit(1, 0, 0, 0))
    assert names(store, "-lamp") == [] and names(store, "-lamp", mode="keyword") == []


def test_edit_distance_counts_a_swap_of_neighbours_as_one() -> None:
    assert distance("directroy", "directory", 2) == 1
    assert distance("tempory", "temporary", 2) == 2
    assert distance("kitten", "sitting", 2) == 3  # past the limit: limit + 1
    assert distance("severity", "security", 2) > 2  # two letters struck for others: no slip


def test_another_form_of_an_indexed_word_is_no_slip(store: IndexStore) -> None:
    for word in ("font", "root", "operator", "enclosed", "configurator"):
        write(store, f"/docs/{word}.txt", [word], unit(1, 0, 0, 0))
    assert store.nearest_words(["fonts", "rooted", "operators", "encloses", "configuration"]) == {}


# -- "exact phrase" ---------------------------------------------------------------------------

PHRASE = "integrated development and learning environment"


def phrase_corpus(store: IndexStore) -> None:
    # The scattered files say the words more often, and their vectors are the nearest: only
    # the phrase can put idle.txt first.
    write(store, "/docs/idle.txt", [f"IDLE is Python's Integrated Development and Learning Environment. {FILLER}"],
          unit(0.7, 0.7, 0, 0.1))
    write(store, "/docs/scattered.txt", [
        "Development of the environment: learning is integrated with development, an integrated environment "
        "for learning and development."], unit(1, 0, 0, 0))
    write(store, "/docs/also.txt", ["development environment learning integrated environment development"],
          unit(0.9, 0.3, 0, 0))
    for i in range(8):  # so that BM25 finds the words rare enough to count
        write(store, f"/docs/other{i}.txt", [f"{FILLER} number{i}"], unit(0, 0, 0.5, 1))


def test_a_quoted_phrase_ranks_the_file_that_holds_it_first(store: IndexStore) -> None:
    phrase_corpus(store)
    q = unit(1, 0, 0, 0)
    assert names(store, PHRASE, vector=q)[0] != "idle.txt"  # unquoted: the words scattered win
    assert names(store, f'"{PHRASE}"', vector=q)[0] == "idle.txt"
    assert names(store, f'"{PHRASE}"', mode="keyword") == ["idle.txt"]  # Exact words: the phrase or nothing
    assert names(store, '"learning integrated development"', mode="keyword") == []


def test_a_phrase_no_file_holds_still_counts_its_words_in_hybrid_mode(store: IndexStore) -> None:
    phrase_corpus(store)
    found = names(store, '"environment learning development"', vector_weight=0.0)  # the word lists alone
    assert sorted(found[:2]) == ["also.txt", "scattered.txt"]


def test_the_embedder_reads_the_words_without_marks_or_what_is_left_out(store: IndexStore) -> None:
    write(store, "/docs/a.txt", ["lamp"], unit(1, 0, 0, 0))
    embedder = FixedQuery(unit(1, 0, 0, 0))
    search(store, 'desk "reading lamp" -harbor', SearchOptions(rerank=False), embedder)
    assert embedder.asked == ["desk reading lamp"]


def test_phrase_scores_are_the_same_on_both_backends(tmp_path: Path, postgres_url: str) -> None:
    with open_store(tmp_path / "s.db") as sqlite, open_store(postgres_url) as postgres:
        for s in (sqlite, postgres):
            s.set_embedding_space(EmbeddingSpace("m", DIM))
            phrase_corpus(s)
            write(s, "/docs/more.txt", [f"integrated development {FILLER} integrated development and learning"],
                  unit(0, 1, 0, 0))
        for query in (WordQuery(("python", "idle"), (PHRASE,)), WordQuery((), ("integrated development",)),
                      WordQuery(("learning",), ("integrated development", "environment"))):
            for table, ranked in (("chunks", "keyword_chunks"), ("files", "keyword_files"), ("files", "name_files")):
                match = sqlite.keyword_match(query, table)
                assert postgres.keyword_match(query, table) == match
                expected = getattr(sqlite, ranked)(match, 10)
                got = getattr(postgres, ranked)(match, 10)
                assert [i for i, _ in got] == [i for i, _ in expected]
                assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-6)


# -- -word ------------------------------------------------------------------------------------


def lamp_corpus(store: IndexStore) -> None:
    write(store, "/docs/harbor_lamp.txt", [f"The old lamp {FILLER}", "It lit the harbor at night."], unit(1, 0, 0, 0))
    write(store, "/docs/desk_lamp.txt", [f"A desk lamp for reading. {FILLER}"], unit(0.8, 0.6, 0, 0))
    write(store, "/docs/boats.txt", [f"Boats in the harbor. {FILLER}"], unit(0.9, 0, 0.4, 0))


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector"])
def test_a_left_out_word_leaves_out_the_files_that_hold_it(store: IndexStore, mode: str) -> None:
    lamp_corpus(store)
    q = unit(1, 0, 0, 0)
    assert "harbor_lamp.txt" in names(store, "lamp", mode=mode, vector=q)
    kept = names(store, "lamp -harbor", mode=mode, vector=q)
    assert "harbor_lamp.txt" not in kept and "boats.txt" not in kept and kept[0] == "desk_lamp.txt"
    assert "desk_lamp.txt" not in names(store, 'lamp -"desk lamp"', mode=mode, vector=q)
    assert "desk_lamp.txt" in names(store, 'lamp -"lamp desk"', mode=mode, vector=q)  # not that phrase


# -- misspelled words -------------------------------------------------------------------------


def typo_corpus(store: IndexStore) -> None:
    write(store, "/docs/tempfile.py", ["Create a temporary directory and return its name.",
                                       "The temporary directory is removed on exit."], unit(0, 1, 0, 0))
    write(store, "/docs/listing.txt", [f"List the directory tree. {FILLER}"], unit(1, 0, 0, 0))
    write(store, "/docs/time.txt", [f"Temporal logic and the tempo of music. {FILLER}"], unit(1, 0, 0, 0))
    write(store, "/docs/notes.txt", ["A temporary fix, until the directory moves."], unit(1, 0, 0, 0))
    write(store, "/docs/more.txt", ["temporary files"], unit(1, 0, 0, 0))
    for i in range(12):  # so that BM25 finds the words rare enough to count
        write(store, f"/docs/other{i}.txt", [f"{FILLER} number{i}"], unit(0, 0, 1, 0))


def test_misspelled_words_are_matched_to_the_nearest_indexed_words(store: IndexStore) -> None:
    typo_corpus(store)
    assert names(store, "tempory directroy", mode="keyword")[0] == "tempfile.py"
    query = understood(store, "tempory directroy", SearchOptions(mode="keyword"))
    assert query.searched == "temporary directory"
    assert query.corrections == (("tempory", "temporary"), ("directroy", "directory"))
    # Searched as typed, nothing matches; indexed words, phrases and short words stay as typed.
    assert names(store, "tempory directroy", mode="keyword", spelling=False) == []
    assert understood(store, as_typed("tempory directroy"), SearchOptions()).searched is None
    assert understood(store, 'temporary "tempory" dirx', SearchOptions()).searched is None
    write(store, "/docs/dogs.txt", ["dogs"], unit(1, 0, 0, 0))
    assert understood(store, "does", SearchOptions()).searched is None  # a stop word: never a slip


def test_identifiers_and_numbers_are_never_corrected(store: IndexStore) -> None:
    typo_corpus(store)
    assert store.nearest_words(["parseDirectroy", "directroy2", "directroy", "temporary", "dirx"]) == {
        "directroy": "directory"}


def test_a_slip_in_the_first_two_letters_is_caught_too(store: IndexStore) -> None:
    typo_corpus(store)
    assert store.nearest_words(["idrectory", "dxrectory", "xirectory"]) == {
        "idrectory": "directory", "dxrectory": "directory"}  # the first letter is taken as typed


def test_of_equally_near_words_the_one_more_files_hold_wins(store: IndexStore) -> None:
    typo_corpus(store)
    write(store, "/docs/x.txt", ["directors"], unit(1, 0, 0, 0))  # also 1 edit from "directoru"
    assert store.nearest_words(["directoru"]) == {"directoru": "directory"}  # 3 files against 1


def test_a_word_once_indexed_is_no_correction_once_its_files_are_gone(store: IndexStore) -> None:
    write(store, "/docs/a.txt", ["directory"], unit(1, 0, 0, 0))
    write(store, "/docs/b.txt", ["something else"], unit(1, 0, 0, 0))
    assert store.nearest_words(["directroy"]) == {"directroy": "directory"}
    store.delete_files([f.id for f in store.files_under("/docs") if f.path.endswith("a.txt")])
    assert store.nearest_words(["directroy"]) == {}


def test_part_is_written_back_as_typed() -> None:
    assert Part("dry dock", phrase=True, excluded=True).written() == '-"dry dock"'
    q = replace(parse_query('tempory "x y" -z'), corrections=(("tempory", "temporary"),))
    q = replace(q, parts=(Part("temporary"), *q.parts[1:]))
    assert q.searched == 'temporary "x y" -z'
