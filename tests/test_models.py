"""The model layer follows the official recipes, checked against plain reference code
written from the model cards, on tiny random Qwen3 models loaded through the real loader."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

from search.errors import ModelLoadError
from search.models import load_embedder, load_reranker
from search.models.batching import token_budget_batches
from search.models.embedder import format_query
from search.wording import TERMINAL, worded

# The Qwen3-Reranker model card's prompt, copied from the card (not from the code under test).
CARD_PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
    'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
)
CARD_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
CARD_DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


def card_body(instruction: str, query: str, doc: str) -> str:
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"

TEXTS = [
    "short",
    "Paris is the capital of France and its largest city.",
    "def add(a, b):\n    return a + b\n" * 6,
    "café über naïve résumé",
    "the quick brown fox jumps over the lazy dog " * 12,
]
EOS = "<|endoftext|>"


def reference_embeddings(folder: Path, texts: list[str], max_length: int, append_eos: bool) -> np.ndarray:
    """The Qwen3-Embedding model card's code: left padding, last-token pool, normalise."""
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    model = AutoModel.from_pretrained(folder).eval()
    if append_eos:  # what a tokenizer without an EOS post-processor needs
        ids = [tokenizer(t, add_special_tokens=True)["input_ids"][: max_length - 1] for t in texts]
        ids = [x + [tokenizer.convert_tokens_to_ids(EOS)] for x in ids]
        batch = tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt")
    else:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    return F.normalize(hidden[:, -1], p=2, dim=1).numpy()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.parametrize("with_eos", [True, False])
def test_qwen3_document_embeddings_match_the_reference(with_eos: bool, tiny_qwen3_embedder: Path, tiny_qwen3_embedder_no_eos: Path) -> None:
    folder = tiny_qwen3_embedder if with_eos else tiny_qwen3_embedder_no_eos
    embedder = load_embedder(str(folder), device="cpu")
    assert embedder.recipe.pooling == "last" and embedder.recipe.left_padding
    ours = embedder.embed_documents(TEXTS)
    ref = reference_embeddings(folder, TEXTS, embedder.max_length, append_eos=not with_eos)
    assert np.all(cosines(ours, ref) >= 0.9999)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    eos_id = embedder.tokenizer.convert_tokens_to_ids(EOS)
    assert all(ids[-1] == eos_id and ids.count(eos_id) == 1 for ids in embedder.token_ids(TEXTS))


def test_qwen3_queries_get_the_instruction_documents_do_not(tiny_qwen3_embedder: Path) -> None:
    embedder = load_embedder(str(tiny_qwen3_embedder), device="cpu")
    task = "Given a question, retrieve code"
    assert format_query("sort a list", task) == "Instruct: Given a question, retrieve code\nQuery:sort a list"
    ours = embedder.embed_queries(["sort a list", "capital of France"], task)
    card = [f"Instruct: {task}\nQuery:{q}" for q in ("sort a list", "capital of France")]  # the card's format
    ref = reference_embeddings(tiny_qwen3_embedder, card, embedder.max_length, False)
    assert np.all(cosines(ours, ref) >= 0.9999)
    plain = embedder.embed_documents(["sort a list"])
    assert cosines(ours[:1], plain)[0] < 0.9999


@pytest.mark.parametrize("dim", [32, 48, 64])
def test_matryoshka_dimension_is_cut_then_renormalised(dim: int, tiny_qwen3_embedder: Path) -> None:
    full = load_embedder(str(tiny_qwen3_embedder), device="cpu").embed_documents(TEXTS)
    small = load_embedder(str(tiny_qwen3_embedder), device="cpu", dimension=dim).embed_documents(TEXTS)
    assert small.shape == (len(TEXTS), dim)
    assert np.all(cosines(small, full[:, :dim]) >= 0.9999)
    assert np.allclose(np.linalg.norm(small, axis=1), 1.0, atol=1e-5)


def test_a_dimension_too_large_is_refused(tiny_qwen3_embedder: Path) -> None:
    with pytest.raises(ModelLoadError, match="choose a dimension from 1 to 64"):
        load_embedder(str(tiny_qwen3_embedder), device="cpu", dimension=65)


def test_long_inputs_are_truncated_at_max_length_keeping_eos(tiny_qwen3_embedder: Path) -> None:
    embedder = load_embedder(str(tiny_qwen3_embedder), device="cpu", max_length=16)
    long_text = "one two three four five six seven eight nine ten " * 10
    (ids,) = embedder.token_ids([long_text])
    assert len(ids) == 16 and ids[-1] == embedder.tokenizer.convert_tokens_to_ids(EOS)
    ours = embedder.embed_documents([long_text, "short"])
    ref = reference_embeddings(tiny_qwen3_embedder, [long_text, "short"], 16, append_eos=False)
    assert np.all(cosines(ours, ref) >= 0.9999)


def test_batching_does_not_change_embeddings(tiny_qwen3_embedder: Path) -> None:
    embedder = load_embedder(str(tiny_qwen3_embedder), device="cpu")
    together = embedder.embed_documents(TEXTS)
    alone = np.stack([embedder.embed_documents([t])[0] for t in TEXTS])
    assert np.all(cosines(together, alone) >= 0.9999)


def test_minilm_matches_sentence_transformers(minilm_path: str, minilm: object) -> None:
    import sentence_transformers as st  # in the test extras: this test runs, never skips

    reference = st.SentenceTransformer(minilm_path, device="cpu").encode(TEXTS, normalize_embeddings=True)
    ours = minilm.embed_documents(TEXTS)
    assert np.all(cosines(ours, reference) >= 0.9999)
    assert minilm.recipe.pooling == "mean" and not minilm.takes_instructions


def test_token_budget_batches_sort_by_length_and_respect_the_budget() -> None:
    lengths = [5, 100, 7, 60, 100, 3, 250]
    batches = token_budget_batches(lengths, token_budget=200)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 200
    assert batches[0] == [6]  # the longest first, alone when it fills the budget


def reference_rerank(folder: Path, query: str, docs: list[str], instruction: str | None, max_length: int = 8192) -> list[float]:
    """The Qwen3-Reranker model card's code."""
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    prefix = tokenizer.encode(CARD_PREFIX, add_special_tokens=False)
    suffix = tokenizer.encode(CARD_SUFFIX, add_special_tokens=False)
    pairs = [card_body(instruction or CARD_DEFAULT_INSTRUCTION, query, d) for d in docs]
    inputs = tokenizer(pairs, padding=False, truncation="longest_first", return_attention_mask=False,
                       max_length=max_length - len(prefix) - len(suffix))
    inputs["input_ids"] = [prefix + ids + suffix for ids in inputs["input_ids"]]
    batch = tokenizer.pad(inputs, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits[:, -1, :]
    yes, no = tokenizer.convert_tokens_to_ids("yes"), tokenizer.convert_tokens_to_ids("no")
    pair = torch.stack([logits[:, no], logits[:, yes]], dim=1)
    return torch.nn.functional.log_softmax(pair, dim=1)[:, 1].exp().tolist()


@pytest.mark.parametrize("instruction", [None, "Find code that answers the question"])
def test_reranker_matches_the_reference(instruction: str | None, tiny_qwen3_reranker: Path) -> None:
    reranker = load_reranker(str(tiny_qwen3_reranker), device="cpu")
    query = "how to bake bread"
    ours = reranker.rerank(query, TEXTS, instruction)
    ref = reference_rerank(tiny_qwen3_reranker, query, TEXTS, instruction)
    assert np.allclose(ours, ref, atol=1e-4)
    assert all(0.0 <= s <= 1.0 for s in ours)
    assert max(ours) - min(ours) > 0.01  # the scores say something


def test_reranker_truncates_the_document_never_the_template(tiny_qwen3_reranker: Path) -> None:
    reranker = load_reranker(str(tiny_qwen3_reranker), device="cpu", max_length=120)
    doc = "lorem ipsum dolor sit amet " * 200
    (ids,) = reranker.token_ids("short query", [doc], None)
    assert len(ids) == 120
    assert ids[: len(reranker.prefix_ids)] == reranker.prefix_ids
    assert ids[-len(reranker.suffix_ids) :] == reranker.suffix_ids
    body = reranker.tokenizer.decode(ids[len(reranker.prefix_ids) : -len(reranker.suffix_ids)])
    assert body.startswith(card_body(CARD_DEFAULT_INSTRUCTION, "short query", ""))
    ours = reranker.rerank("short query", [doc])
    ref = reference_rerank(tiny_qwen3_reranker, "short query", [doc], None, max_length=120)
    assert ours == pytest.approx(ref, abs=1e-4)


def test_a_non_reranker_model_is_refused(minilm_path: str) -> None:
    with pytest.raises(ModelLoadError, match="Qwen3"):
        load_reranker(minilm_path, device="cpu")


def test_an_incomplete_model_folder_is_explained(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="complete model folder"):
        load_embedder(str(tmp_path), device="cpu")


def test_a_batch_that_runs_out_of_memory_is_split_and_retried() -> None:
    from search.errors import OutOfMemoryError
    from search.models.batching import run_batches

    seen: list[list[int]] = []

    def run(batch: list[int]) -> None:
        if len(batch) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        seen.append(batch)

    budget = run_batches([10] * 8, 1000, torch.device("cpu"), run)
    assert sorted(i for b in seen for i in b) == list(range(8))
    assert budget <= 20

    def always(batch: list[int]) -> None:
        raise RuntimeError("MPS backend out of memory")

    with pytest.raises(OutOfMemoryError, match="single text of 10 tokens"):
        run_batches([10, 10], 1000, torch.device("cpu"), always)


def test_threads_loading_models_at_once_do_not_break_each_others_imports(minilm_path: str) -> None:
    """The page's words thread (a tokenizer) and meaning thread (the model) load from
    transformers at the same moment, in a process that has not imported it yet; with plain
    `from transformers import ...` one of them failed ("cannot import name 'AutoConfig'")."""
    program = f"""
import threading
from search.models.embedder import load_embedder
from search.models.loading import local_tokenizer
failed = []
def run(load):
    try:
        load()
    except Exception as exc:
        failed.append(repr(exc))
loads = [lambda: local_tokenizer({minilm_path!r}), lambda: load_embedder({minilm_path!r}, device="cpu")] * 3
threads = [threading.Thread(target=run, args=(load,)) for load in loads]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(failed or "ok")
"""
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip().splitlines()[-1:] == ["ok"], out.stdout + out.stderr


def test_every_place_reads_a_model_name_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading, the index's record of the model, the page's Settings and its download watch
    agree on what a name is: `~/...` is a folder in the home folder everywhere (the page's
    download watch once took it for a Hub name), a missing folder is never downloaded, and a
    server's model is its own name."""
    from search.config import model_id
    from search.errors import FathomError
    from search.models import loading
    from search.page import loader, settings_actions

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "models" / "mini"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    for name in ("~/models/mini", "./models/mini", str(folder), "models/mini"):
        assert loading.model_folder(name, "embedding_model").resolve() == folder.resolve()
        assert model_id(name) == str(folder.resolve())
        assert settings_actions._model(name, "The embedding model") == name
        assert loader._hub_name(name) is None
        assert loading._local_folder(name) is not None
    for missing in ("~/models/gone", "./gone", "/nowhere/gone"):
        with pytest.raises(ModelLoadError, match="No model folder") as error:
            loading.model_folder(missing, "embedding_model")
        assert "check the path given to --embedding-model" in worded(str(error.value), TERMINAL)
        with pytest.raises(FathomError, match="there is no folder"):
            settings_actions._model(missing, "The embedding model")
        assert loader._hub_name(missing) is None and loading._local_folder(missing) is None
    hub = "Qwen/Qwen3-Embedding-0.6B"
    assert model_id(hub) == hub and loader._hub_name(hub) == hub and settings_actions._model(hub, "The embedding model") == hub
    with pytest.raises(FathomError, match="neither a folder nor a Hugging Face name"):
        settings_actions._model("not-a-hub-name", "The embedding model")
    assert settings_actions._model("served-model", "The embedding model", on_server=True) == "served-model"
