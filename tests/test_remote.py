"""Models on another machine, against a stand-in server (tests/model_server.py): the Qwen3
recipes sent over the wire, batching and requests in flight, retries, timeouts, refused
keys, wrong dimensions, the rerank API, and what the CLI, the index and the page make of
each. The real server (Infinity) is in test_infinity.py."""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from conftest import CORPUS, json_lines, run_cli, write_corpus
from model_server import Scripted, StandInServer, bag_of_words
from search.config import Settings, api_key, saved_settings, server_url
from search.errors import FathomError, ModelServerError
from search.wording import PAGE, TERMINAL, worded
from search.models.approx_tokenizer import ApproxTokenizer
from search.models.remote import (
    RemoteEmbedder,
    RemoteReranker,
    char_batches,
    load_remote_embedder,
    load_remote_reranker,
    query_format,
)
from search.models.server import RequestRefused, ServerClient
from search.wording import PAGE, TERMINAL, worded

SECRET = "sk-test-0123456789-secret"
TASK = "Given a web search query, retrieve relevant passages that answer the query"


@pytest.fixture
def server() -> Iterator[StandInServer]:
    with StandInServer() as s:
        yield s


def client(server: StandInServer, key: str | None = None, sleeps: list[float] | None = None, **kw: Any) -> ServerClient:
    record = sleeps if sleeps is not None else []
    return ServerClient(server.url, key, what="embedding", sleep=record.append, **kw)


def cli(capsys: pytest.CaptureFixture[str], server: StandInServer, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, *args, "--embedding-url", server.url, "--embedding-model", "stand-in",
                   "--reranker-model", "none")


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fathom: ") and lines[0].endswith("."), err
    assert "Traceback" not in err
    return lines[0]


def chunk_count(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "fathom.db") as conn:
        return conn.execute("SELECT count(*) FROM chunks").fetchone()[0]


# -- the Qwen3 recipes, as sent --------------------------------------------------------------------------


def test_qwen3_queries_are_formatted_here_and_documents_sent_plain(server: StandInServer) -> None:
    emb = load_remote_embedder(server.url, "Qwen/Qwen3-Embedding-8B", client=client(server))
    assert emb.takes_instructions and emb.dimension == 64
    emb.embed_documents(["A passage about bread.", "Another about taxes."])
    emb.embed_queries(["how to bake bread"], "Find recipes")
    emb.embed_queries(["tax forms"])
    documents, first, second = server.bodies()[-3:]
    # Qwen3-Embedding model card: 'Instruct: {task_description}\nQuery:{query}', documents as they are
    assert documents["input"] == ["A passage about bread.", "Another about taxes."]
    assert first["input"] == ["Instruct: Find recipes\nQuery:how to bake bread"]
    assert second["input"] == [f"Instruct: {TASK}\nQuery:tax forms"]
    assert all(body["model"] == "Qwen/Qwen3-Embedding-8B" and "dimensions" not in body for body in server.bodies())


def test_a_model_whose_name_says_nothing_gets_plain_queries_unless_told(server: StandInServer) -> None:
    assert query_format("minilm-remote", None) == ("plain", "name")
    assert query_format("Qwen/Qwen3-Embedding-0.6B", None) == ("qwen3", "name")
    assert query_format("my-qwen", "qwen3") == ("qwen3", "set")
    plain = load_remote_embedder(server.url, "my-model", client=client(server))
    assert not plain.takes_instructions
    plain.embed_queries(["tax forms"], "Find recipes")
    assert server.bodies()[-1]["input"] == ["tax forms"]
    told = load_remote_embedder(server.url, "my-model", fmt="qwen3", client=client(server))
    told.embed_queries(["tax forms"], "Find recipes")
    assert server.bodies()[-1]["input"] == ["Instruct: Find recipes\nQuery:tax forms"]


def test_vectors_match_the_server_and_come_back_normalised_in_order(server: StandInServer) -> None:
    emb = load_remote_embedder(server.url, "stand-in", client=client(server))
    texts = [f"text number {i} about {word}" for i, word in enumerate(["bread", "tax", "cat", "train"] * 5)]
    vectors = emb.embed_documents(texts)
    expected = np.array([bag_of_words(t) for t in texts], dtype=np.float32)
    assert vectors.dtype == np.float32 and vectors.shape == (20, 64)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)  # the server answers in reverse: `index` orders
    assert emb.embed_documents([]).shape == (0, 64)


def test_a_smaller_dimension_is_asked_for_and_checked(server: StandInServer) -> None:
    emb = load_remote_embedder(server.url, "stand-in", dimension=16, client=client(server))
    assert emb.dimension == 16 and emb.embed_documents(["bread"]).shape == (1, 16)
    assert server.bodies()[-1]["dimensions"] == 16

    server.honours_dimensions = False  # a server that ignores `dimensions`
    with pytest.raises(ModelServerError, match=r"64 dimensions for stand-in, not the 16 asked for") as error:
        load_remote_embedder(server.url, "stand-in", dimension=16, client=client(server))
    assert "Drop --dim (wherever it is set)," in worded(str(error.value), TERMINAL)
    assert "Drop the Dimension setting (wherever it is set)," in worded(str(error.value), PAGE)
    with pytest.raises(ModelServerError, match=r"fewer than the 128 asked for"):
        load_remote_embedder(server.url, "stand-in", dimension=128, client=client(server))
    # A Qwen3 model is cut here instead, as its model card does (first dimensions, normalised again).
    qwen = load_remote_embedder(server.url, "Qwen/Qwen3-Embedding-4B", dimension=16, client=client(server))
    vector = qwen.embed_documents(["bread and butter"])[0]
    full = np.array(bag_of_words("bread and butter")[:16])
    np.testing.assert_allclose(vector, full / np.linalg.norm(full), atol=1e-6)


def test_a_server_that_changes_dimension_midway_is_refused(server: StandInServer) -> None:
    emb = load_remote_embedder(server.url, "stand-in", client=client(server))
    server.dimension = 32  # another model behind the same name
    with pytest.raises(ModelServerError, match="answered vectors of 32 dimensions for stand-in, not 64"):
        emb.embed_documents(["bread"])
    server.script.append(Scripted(body={"data": [{"embedding": [1.0, 2.0]}, {"embedding": [3.0]}]}))
    server.dimension = 64
    with pytest.raises(ModelServerError, match="not 1 embedding"):
        emb.embed_documents(["bread"])


# -- throughput -----------------------------------------------------------------------------------------------


def test_batches_keep_to_a_character_budget_and_a_count() -> None:
    assert char_batches([10, 10, 10, 10], budget=25, max_inputs=32) == [[0, 1], [2, 3]]
    assert char_batches([100, 1, 1], budget=25, max_inputs=32) == [[0], [1, 2]]  # a long text alone
    assert char_batches([1] * 5, budget=100, max_inputs=2) == [[0, 1], [2, 3], [4]]


def test_requests_in_flight_are_bounded(server: StandInServer) -> None:
    server.delay = 0.15
    emb = RemoteEmbedder(client(server, in_flight=3), "stand-in", 64, max_inputs=2)
    emb.embed_documents([f"text {i}" for i in range(24)])
    assert len(server.bodies()) == 12 and all(len(b["input"]) <= 2 for b in server.bodies())
    assert 2 <= server.most_in_flight <= 3


def test_a_request_too_large_is_split(server: StandInServer) -> None:
    emb = RemoteEmbedder(client(server), "stand-in", 64)
    server.script.append(Scripted(413, {"error": {"message": "batch size 4 > maximum allowed batch size 2"}}))
    vectors = emb.embed_documents(["a", "b", "c", "d"])
    assert [len(b["input"]) for b in server.bodies()] == [4, 2, 2]
    np.testing.assert_allclose(vectors[3], bag_of_words("d"), atol=1e-6)


# -- failures -------------------------------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(server: StandInServer) -> None:
    sleeps: list[float] = []
    emb = RemoteEmbedder(client(server, sleeps=sleeps), "stand-in", 64)
    server.script += [Scripted(429, {"error": "slow down"}, {"Retry-After": "3"}), Scripted(429, {"error": "slow down"})]
    assert emb.embed_documents(["bread"]).shape == (1, 64)
    assert sleeps == [3.0, 1.0]  # Retry-After, then the backoff of a second retry (0.5 s doubled)
    server.script.append(Scripted(503, {"error": "busy"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    emb.embed_documents(["bread"])
    assert sleeps[-1] == 0.5  # a date in the past: the plain backoff


def test_5xx_is_retried_then_reported_in_one_sentence(server: StandInServer) -> None:
    sleeps: list[float] = []
    emb = RemoteEmbedder(client(server, sleeps=sleeps), "stand-in", 64)
    server.script += [Scripted(500, {"error": "oops"}), Scripted(502, {"error": "bad gateway"})]
    assert emb.embed_documents(["bread"]).shape == (1, 64)
    assert sleeps == [0.5, 1.0]
    server.script += [Scripted(503, {"error": {"message": "model is loading"}})] * 4
    with pytest.raises(ModelServerError) as error:
        emb.embed_documents(["bread"])
    assert worded(str(error.value), TERMINAL) == (
        f"The embedding server at {server.url} could not be used (HTTP 503: model is loading, 4 tries): check "
        "that it is running and reachable at that address (--embedding-url), or try again when it is less busy."
    )


def test_a_slow_answer_times_out(server: StandInServer) -> None:
    server.delay = 2.0
    emb = RemoteEmbedder(client(server, timeout=0.3, retries=1), "stand-in", 64)
    with pytest.raises(ModelServerError, match=r"no answer within 0.3 s, 2 tries"):
        emb.embed_documents(["bread"])


def test_a_server_that_is_down(server: StandInServer) -> None:
    url = server.url
    server.stop()
    with pytest.raises(ModelServerError, match=r"could not be used \(cannot connect: .*4 tries\)"):
        load_remote_embedder(url, "stand-in", client=client(server))


def test_a_refused_key_and_a_missing_one_say_where_the_key_goes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with StandInServer(key="the-right-key") as server:
        with pytest.raises(ModelServerError, match=r"refused the API key \(HTTP 401\)") as error:
            load_remote_embedder(server.url, "stand-in", client=client(server, key=SECRET))
        assert worded(str(error.value), TERMINAL).endswith(
            "set the key it expects in FATHOM_EMBEDDING_API_KEY (or FATHOM_API_KEY).")
        with pytest.raises(ModelServerError, match="asks for an API key"):
            load_remote_embedder(server.url, "stand-in", client=client(server))
        emb = load_remote_embedder(server.url, "stand-in", client=client(server, key="the-right-key"))
        assert server.requests[-1].headers["Authorization"] == "Bearer the-right-key"
        assert "the-right-key" not in repr(emb.client)
        # a server that echoes the key in its error text: masked
        server.script.append(Scripted(400, {"error": {"message": "bad input for key the-right-key"}}))
        with pytest.raises(RequestRefused) as error:
            emb.embed_documents(["bread"])
        assert "the-right-key" not in str(error.value) and "***" in str(error.value)
    assert SECRET not in caplog.text and "the-right-key" not in caplog.text


def test_a_wrong_name_or_path_is_one_sentence(server: StandInServer) -> None:
    server.script.append(Scripted(404, {"error": {"message": "The model `nope` does not exist."}}))
    with pytest.raises(ModelServerError, match=r"answered 404 for /embeddings \(The model `nope` does not exist.\)"):
        load_remote_embedder(server.url, "nope", client=client(server))
    server.script.append(Scripted(200, "not a json object with data"))
    with pytest.raises(ModelServerError, match="not 1 embedding"):
        load_remote_embedder(server.url, "stand-in", client=client(server))


# -- chunking: the model's own tokenizer when it is here, else the approximate one ----------------------


def test_chunk_tokenizer_is_the_models_own_when_its_files_are_here(server: StandInServer, minilm_path: str) -> None:
    here = load_remote_embedder(server.url, minilm_path, client=client(server))
    assert here.exact_tokenizer and here.max_length == 256  # from its sentence-transformers config
    spans = here.chunk_tokenizer()("Unbelievably good bread", add_special_tokens=False,
                                   return_offsets_mapping=True)["offset_mapping"]
    assert len(spans) > 3  # WordPiece pieces of `unbelievably`, not one approximate piece per 4 letters
    elsewhere = load_remote_embedder(server.url, "Qwen/Qwen3-Embedding-8B", client=client(server))
    assert not elsewhere.exact_tokenizer and isinstance(elsewhere.chunk_tokenizer(), ApproxTokenizer)
    assert elsewhere.max_length == 8192
    assert load_remote_embedder(server.url, "stand-in", client=client(server)).max_length == 256
    # vLLM says which model it serves under a name (`root`) and its length limit
    server.models = [{"id": "served-name", "root": minilm_path, "max_model_len": 512}]
    renamed = load_remote_embedder(server.url, "served-name", client=client(server))
    assert renamed.exact_tokenizer and renamed.max_length == 256  # the folder's own limit is smaller
    server.models = [{"id": "big", "root": "/nowhere/here", "max_model_len": 32768}]
    assert load_remote_embedder(server.url, "big", client=client(server)).max_length == 32768


# -- reranking --------------------------------------------------------------------------------------------


def test_qwen3_reranker_gets_vllms_recipe_with_the_instruction(server: StandInServer) -> None:
    reranker = load_remote_reranker(server.url, "Qwen/Qwen3-Reranker-4B",
                                    client=client(server))
    docs = ["Bake bread in a hot oven.", "File taxes before April.", "Bread needs flour and water."]
    scores = reranker.rerank("how to bake bread", docs, "Find cooking instructions")
    body = server.bodies("/v1/rerank")[-1]
    # vLLM's Qwen3-Reranker recipe (examples/online_serving/qwen3_rerank_client.py), from the model card
    prefix = (
        "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
        'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
    )
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    assert body["query"] == f"{prefix}<Instruct>: Find cooking instructions\n<Query>: how to bake bread\n"
    assert body["documents"] == [f"<Document>: {d}{suffix}" for d in docs]
    assert body["top_n"] == 3 and body["model"] == "Qwen/Qwen3-Reranker-4B"
    # results come best first; scores go back in the documents' order
    expected = server.rerank(body)["results"]
    assert scores == [next(r["relevance_score"] for r in expected if r["index"] == i) for i in range(3)]
    assert scores[1] < min(scores[0], scores[2])
    reranker.rerank("tax", ["a"])
    assert f"<Instruct>: {TASK}\n" in server.bodies("/v1/rerank")[-1]["query"]


def test_a_plain_reranker_gets_query_and_documents_as_they_are(server: StandInServer) -> None:
    reranker = load_remote_reranker(server.url, "BAAI/bge-reranker-v2-m3", client=client(server))
    reranker.rerank("bread", ["Bake bread.", "Taxes."], "ignored by a plain reranker")
    body = server.bodies("/v1/rerank")[-1]
    assert body["query"] == "bread" and body["documents"] == ["Bake bread.", "Taxes."]
    told = load_remote_reranker(server.url, "my-reranker", fmt="qwen3", client=client(server))
    told.rerank("bread", ["Bake bread."])
    assert server.bodies("/v1/rerank")[-1]["query"].startswith("<|im_start|>system")
    assert reranker.rerank("bread", []) == []


def test_a_rerank_answer_missing_scores_is_refused(server: StandInServer) -> None:
    reranker = RemoteReranker(client(server), "r")
    server.script.append(Scripted(body={"results": [{"index": 0, "relevance_score": 0.5}]}))
    with pytest.raises(ModelServerError, match="did not answer a score for each of the 2 documents"):
        reranker.rerank("q", ["a", "b"])
    server.script.append(Scripted(body=[{"index": 1, "score": 0.2}, {"index": 0, "score": 0.9}]))  # TEI's shape
    assert reranker.rerank("q", ["a", "b"]) == [0.9, 0.2]


# -- which model: here or on a server ---------------------------------------------------------------------


def test_the_settings_open_a_model_on_its_server_or_here(server: StandInServer, tmp_path: Path,
                                                         minilm_path: str) -> None:
    from search.models import Embedder, Reranker, open_embedder, open_reranker
    from search.models.embedder import LocalEmbedder

    there = Settings(tmp_path, "stand-in", "my-reranker", embedding_url=server.url, reranker_url=server.url, dim=16,
                     remote_timeout=7.0, remote_requests=3)
    embedder, reranker = open_embedder(there), open_reranker(there)
    try:
        assert isinstance(embedder, RemoteEmbedder) and isinstance(reranker, RemoteReranker)
        assert embedder.dimension == 16 and open_embedder(there, 32).dimension == 32  # asked for: wins
        assert (embedder.client.timeout, embedder.client.in_flight) == (7.0, 3)
        assert embedder.placement.describe() == f"server {server.url}"
        assert reranker.rerank("bread", ["bread and butter", "stones"])[0] > 0
    finally:
        embedder.close()
        reranker.close()
    assert open_reranker(Settings(tmp_path, "stand-in", None, reranker_url=server.url)) is None  # reranking off
    here = open_embedder(Settings(tmp_path, minilm_path, None, device="cpu"))
    assert isinstance(here, LocalEmbedder) and here.dimension == 384
    for model, protocol in ((embedder, Embedder), (here, Embedder), (reranker, Reranker)):
        assert all(hasattr(model, name) for name in protocol.__annotations__), (model, protocol)
        assert all(callable(getattr(model, name)) for name in dir(protocol) if not name.startswith("_")
                   and name != "takes_instructions"), (model, protocol)
    here.close()


# -- settings -------------------------------------------------------------------------------------------


def test_server_urls_are_checked_and_kept_without_secrets(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert server_url("http://gpu-box:8000/v1/", "--embedding-url") == "http://gpu-box:8000/v1"
    assert server_url("http://gpu-box:8000/v1/embeddings", "--embedding-url") == "http://gpu-box:8000/v1"
    assert server_url("none", "--embedding-url") is None and server_url("  ", "x") is None
    with pytest.raises(FathomError, match="keep the password out of the URL") as error:
        server_url(f"http://me:{SECRET}@gpu-box/v1", "--embedding-url")
    assert SECRET not in str(error.value)
    with pytest.raises(FathomError, match="base URL of an OpenAI-compatible server"):
        server_url("gpu-box:8000", "--embedding-url")
    monkeypatch.setenv("FATHOM_EMBEDDING_URL", "http://gpu-box:8000/v1")
    monkeypatch.setenv("FATHOM_QUERY_FORMAT", "qwen3")
    settings = Settings.resolve(embedding_model="./not-a-local-path")
    assert settings.embedding_model == "./not-a-local-path"  # the server's name, never resolved here
    assert settings.embedding_key == "./not-a-local-path @ http://gpu-box:8000/v1"
    assert settings.query_format == "qwen3"
    assert Settings.resolve(embedding_url="none").embedding_url is None  # an option wins over the variable
    with pytest.raises(FathomError) as error:
        Settings.resolve(reranker_format="cohere")
    assert worded(str(error.value), TERMINAL).startswith("--reranker-format takes qwen3 or plain")
    assert worded(str(error.value), PAGE).startswith("the Reranker prompt setting takes qwen3 or plain")
    monkeypatch.setenv("FATHOM_API_KEY", "shared")
    key, where = api_key("embedding")
    assert (key, worded(where, TERMINAL)) == ("shared", "FATHOM_EMBEDDING_API_KEY (or FATHOM_API_KEY)")
    monkeypatch.setenv("FATHOM_RERANKER_API_KEY", "own")
    assert api_key("reranker")[0] == "own" and api_key("embedding")[0] == "shared"
    monkeypatch.setenv("FATHOM_REMOTE_TIMEOUT", "slow")
    with pytest.raises(FathomError, match="FATHOM_REMOTE_TIMEOUT must be a number"):
        Settings.resolve()


# -- the CLI and the index ---------------------------------------------------------------------------------


def test_index_and_search_through_a_server(capsys: pytest.CaptureFixture[str], server: StandInServer,
                                           tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FATHOM_API_KEY", SECRET)
    docs = write_corpus(tmp_path / "docs")
    code, out, err = cli(capsys, server, "index", str(docs), "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == len(CORPUS)
    assert all(seen.headers["Authorization"] == f"Bearer {SECRET}" for seen in server.requests)
    code, out, err = cli(capsys, server, "search", "sourdough starter flour", "--json", "--mode", "vector", "-k", "3",
                         "--task", "question")
    assert code == 0, err
    assert json_lines(out)[0]["results"][0]["path"].endswith("sourdough.md")
    assert "stand-in takes no instructions" in err and "--query-format qwen3" in err  # never a silent guess
    code, out, err = cli(capsys, server, "status", "--json")
    status = json.loads(out)
    assert status["embedding_model"] == f"stand-in @ {server.url}" and status["dimension"] == 64
    assert status["embedding_url"] == server.url and status["device"] == f"server {server.url}"
    assert status["query_format"].startswith("plain (from the model's name")
    code, out, err = cli(capsys, server, "status")
    assert f"Device:    server {server.url}" in out and "Queries:   plain (from the model's name" in out
    assert SECRET not in out + err + json.dumps(status) + json.dumps(saved_settings(isolated_env))

    # The index records the URL: another server, or the model here, is refused as today.
    code, _, err = run_cli(capsys, "search", "bread", "--embedding-url", "http://127.0.0.1:9/v1",
                           "--embedding-model", "stand-in", "--reranker-model", "none")
    assert code == 1 and f"built with stand-in @ {server.url}" in one_sentence(err)
    assert f"--embedding-url {server.url}" in err


def test_a_server_down_midway_stops_indexing_and_fails_no_file(capsys: pytest.CaptureFixture[str],
                                                               server: StandInServer, tmp_path: Path,
                                                               isolated_env: Path) -> None:
    docs = tmp_path / "docs"
    write_corpus(docs, {f"notes/note{i:03}.txt": f"Note {i} about bread, taxes and trains." for i in range(100)})
    # the dimension probe and two requests answer; then the server fails on every try
    server.script += [Scripted()] * 3 + [Scripted(503, {"error": "GPU fell off the bus"})] * 40
    code, out, err = cli(capsys, server, "index", str(docs))
    assert code == 1
    assert "could not be used (HTTP 503: GPU fell off the bus, 4 tries)" in one_sentence(err)
    code, out, _ = cli(capsys, server, "status", "--json")
    status = json.loads(out)
    # every file is searchable by its words; some wait for their vectors
    assert status["failed"] == [] and status["indexed_files"] == 100
    assert 0 < status["waiting"]["files"] < 100
    server.script.clear()  # back up: the next run finishes the job
    code, out, err = cli(capsys, server, "index", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["added"] == 0 and report["chunks"] == status["waiting"]["chunks"]
    assert json.loads(cli(capsys, server, "status", "--json")[1])["waiting"]["files"] == 0


def test_a_wrong_dimension_leaves_the_index_untouched(capsys: pytest.CaptureFixture[str], server: StandInServer,
                                                      tmp_path: Path, isolated_env: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    assert cli(capsys, server, "index", str(docs))[0] == 0
    before = chunk_count(isolated_env)
    (docs / "pets" / "cat.txt").write_text("Our cat now eats dry food.", encoding="utf-8")
    server.dimension = 32  # someone put another model behind the same name
    code, _, err = cli(capsys, server, "index")
    assert code == 1 and "answers vectors of 32 dimensions for stand-in, fewer than the 64" in one_sentence(err)
    code, _, err = cli(capsys, server, "search", "cat food", "--mode", "vector")
    assert code == 1 and "32 dimensions" in one_sentence(err)
    assert chunk_count(isolated_env) == before
    status = json.loads(cli(capsys, server, "status", "--json")[1])
    assert status["dimension"] == 64 and status["failed"] == [] and status["indexed_files"] == len(CORPUS)
    server.honours_dimensions = False  # and a server that cannot shorten vectors
    server.dimension = 64
    code, _, err = cli(capsys, server, "index", "--dim", "16")
    assert code == 1 and "not the 16 asked for" in one_sentence(err)
    assert chunk_count(isolated_env) == before


def test_search_with_the_server_down_is_one_sentence(capsys: pytest.CaptureFixture[str], server: StandInServer,
                                                     tmp_path: Path, isolated_env: Path) -> None:
    assert cli(capsys, server, "index", str(write_corpus(tmp_path / "docs")))[0] == 0
    server.stop()
    code, out, err = cli(capsys, server, "search", "bread", "--mode", "vector")
    assert code == 1 and out == ""
    assert f"The embedding server at {server.url} could not be used (cannot connect" in one_sentence(err)
    code, out, err = cli(capsys, server, "search", "bread", "--mode", "keyword")  # words need no model
    assert code == 0 and "sourdough" in out


def test_rerank_through_a_server_from_the_cli(capsys: pytest.CaptureFixture[str], server: StandInServer,
                                               tmp_path: Path, isolated_env: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    common = ["--embedding-url", server.url, "--embedding-model", "stand-in", "--reranker-url", server.url,
              "--reranker-model", "qwen3-reranker-served"]
    assert run_cli(capsys, "index", str(docs), *common)[0] == 0
    code, out, err = run_cli(capsys, "search", "bread oven", "--json", "--instruction", "Find recipes", *common)
    assert code == 0, err
    results = json_lines(out)[0]["results"]
    assert results[0]["rerank_score"] is not None
    body = server.bodies("/v1/rerank")[-1]
    assert "<Instruct>: Find recipes\n<Query>: bread oven\n" in body["query"]
    assert body["model"] == "qwen3-reranker-served"
    status = json.loads(run_cli(capsys, "status", "--json", *common)[1])
    assert status["reranker_url"] == server.url and status["reranker_format"].startswith("qwen3 (from the model's name")


# -- the page -----------------------------------------------------------------------------------------------


def test_settings_on_the_page_take_a_server(server: StandInServer, tmp_path: Path, isolated_env: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from search.page import folder_actions, render, search_actions, settings_actions
    from search.page.state import page_state
    from search.page.runtime import Runtime

    monkeypatch.setenv("FATHOM_API_KEY", SECRET)
    rt = Runtime(Settings.resolve(embedding_model="stand-in", embedding_url=server.url, reranker_model="none")).start()
    try:
        assert rt.loader.wait(30), rt.loader.view().error
        state = page_state(rt)
        assert f"server {server.url}" in state.models
        assert "<span>Queries</span> <b>plain</b> <em>as the model’s name says</em>" in state.models
        facts = settings_actions.settings_facts(rt)
        assert "API key, embedding server" in facts and "set in the environment" in facts and SECRET not in facts
        ok, words = folder_actions.add_folder(rt, str(write_corpus(tmp_path / "docs")))
        assert ok and rt.library.wait_idle(30)
        view = search_actions.search(rt, search_actions.SearchForm(query="sourdough bread", mode="vector"))
        assert view.results and view.results[0]["path"].endswith("sourdough.md")

        form = settings_actions.SettingsForm("other-name", "none", "auto", None, 10, embedding_url="http://bad host",
                                     query_format="qwen3")
        refused = settings_actions.save(rt, form)
        assert not refused.saved and "give the base URL" in refused.message
        # a new name on the server is a new model: the page asks before rebuilding
        form = settings_actions.SettingsForm("other-name", "none", "auto", None, 10, embedding_url=server.url + "/",
                                     query_format="qwen3")
        assert settings_actions.save(rt, form).confirm
        assert settings_actions.save(rt, form, confirmed=True).saved
        assert saved_settings(isolated_env) | {"rerank_top": None} == {
            "embedding_model": "other-name", "embedding_url": server.url, "query_format": "qwen3",
            "reranker_model": "none", "device": "auto", "rerank_top": None,
        }
        assert settings_actions.settings_values(rt)["embedding_url"] == server.url
        server.stop()  # the server goes away: the page says so, in its words
        rt.apply(Settings.resolve())
        rt.loader.wait(30)
        view = rt.loader.view()
        assert view.state == "failed" and f"The embedding server at {server.url} could not be used" in view.error
        panel = render.model_panel(view, rt.settings)
        assert "clear the URL to run a model on this computer" in panel and SECRET not in panel
    finally:
        rt.close()


def test_the_page_tries_a_server_again_until_it_can_be_used(tmp_path: Path, isolated_env: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from search.page import loader as loader_module
    from search.page.runtime import Runtime

    monkeypatch.setattr(loader_module, "SERVER_RETRY_SECONDS", 0.2)
    with StandInServer() as server:
        server.script += [Scripted(503, {"error": "the model is still loading"})] * 4  # one load: 4 tries
        rt = Runtime(Settings.resolve(embedding_model="stand-in", embedding_url=server.url, reranker_model="none"))
        rt.start()
        try:
            assert not rt.loader.wait(30)
            view = rt.loader.view()
            assert view.state == "failed" and "the model is still loading" in view.error
            assert "Fathom tries again every 0.2 s" in view.error
            deadline = time.monotonic() + 10  # the server is ready now: no restart needed
            while not rt.loader.ready and time.monotonic() < deadline:
                time.sleep(0.05)
            assert rt.loader.ready and rt.loader.view().error is None
            ok, _ = handlers_add(rt, write_corpus(tmp_path / "docs"))
            assert ok and rt.library.wait_idle(30) and rt.library.view().indexed_files == len(CORPUS)
        finally:
            rt.close()


def handlers_add(rt: Any, folder: Path) -> tuple[bool, str]:
    from search.page import folder_actions

    return folder_actions.add_folder(rt, str(folder))


def test_the_key_goes_only_to_the_server_set_outside_the_page(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                              isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever can use the page may point Settings at a server of their own: the key set for
    the real server never reaches it, now or from the CLI later (the URL is saved)."""
    from search.page import settings_actions
    from search.page.runtime import Runtime

    monkeypatch.setenv("FATHOM_API_KEY", SECRET)
    with StandInServer() as real, StandInServer() as theirs:
        monkeypatch.setenv("FATHOM_EMBEDDING_URL", real.url)
        rt = Runtime(Settings.resolve(embedding_model="stand-in", reranker_model="none")).start()
        try:
            assert rt.loader.wait(30), rt.loader.view().error
            assert real.requests and all(seen.headers["Authorization"] == f"Bearer {SECRET}" for seen in real.requests)
            form = settings_actions.SettingsForm("stand-in", "none", "auto", None, 10, embedding_url=theirs.url)
            assert settings_actions.save(rt, form, confirmed=True).saved
            rt.loader.wait(30)
            assert theirs.requests and not any("Authorization" in seen.headers for seen in theirs.requests)
            facts = settings_actions.settings_facts(rt)
            assert "none sent" in facts and "never to one saved from the page" in facts and SECRET not in facts
        finally:
            rt.close()
        monkeypatch.delenv("FATHOM_EMBEDDING_URL")  # the CLI, later: the saved URL only
        before = len(theirs.requests)
        code, _, err = run_cli(capsys, "index", str(write_corpus(tmp_path / "docs")), "--reranker-model", "none")
        assert len(theirs.requests) > before and not any("Authorization" in seen.headers for seen in theirs.requests)
        monkeypatch.setenv("FATHOM_EMBEDDING_URL", theirs.url)  # named outside the page: it gets the key
        assert Settings.resolve().embedding_key_url == theirs.url
