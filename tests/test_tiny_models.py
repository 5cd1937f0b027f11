"""Checks that the offline tiny Qwen3 builders produce loadable, sane folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

from tiny_models import (
    EOS,
    build_tiny_qwen3_embedder,
    build_tiny_qwen3_reranker,
    build_tokenizer,
)

TEXTS = ["hello world", "Paris is the capital of France.", "def f(x):\n    return x + 1", "café über"]


@pytest.fixture(scope="module")
def embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen3_embedder(tmp_path_factory.mktemp("emb"))


@pytest.fixture(scope="module")
def reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen3_reranker(tmp_path_factory.mktemp("rr"))


@pytest.mark.parametrize("add_eos", [True, False])
def test_eos_appended_only_when_asked(tmp_path: Path, add_eos: bool) -> None:
    build_tokenizer(tmp_path, add_eos=add_eos)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    eos_id = tok.convert_tokens_to_ids(EOS)
    plain = tok("some text", add_special_tokens=False).input_ids
    full = tok("some text").input_ids
    assert full == (plain + [eos_id] if add_eos else plain)
    assert tok.eos_token_id == tok.pad_token_id == eos_id
    assert tok.padding_side == "left"
    assert tok.decode(plain) == "some text"


def test_yes_no_are_single_tokens(reranker_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(reranker_dir)
    ids = tok.convert_tokens_to_ids(["yes", "no"])
    assert None not in ids and ids[0] != ids[1]
    for word, wid in zip(["yes", "no"], ids):
        assert tok(word, add_special_tokens=False).input_ids == [wid]
    text = "yesterday nothing, no: yes"
    assert tok.decode(tok(text, add_special_tokens=False).input_ids) == text


def test_embedder_reloads_and_left_padding_is_consistent(embedder_dir: Path) -> None:
    config = AutoConfig.from_pretrained(embedder_dir)
    assert config.model_type == "qwen3" and config.hidden_size == 64
    tok = AutoTokenizer.from_pretrained(embedder_dir)
    model = AutoModel.from_pretrained(embedder_dir).eval()
    assert model.dtype == torch.float32 and config.vocab_size == len(tok)
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    assert (batch.input_ids[:, -1] == tok.eos_token_id).all()  # eos last, left-padded
    with torch.no_grad():
        last = model(**batch).last_hidden_state[:, -1]
        alone = model(**tok(TEXTS[0], return_tensors="pt")).last_hidden_state[:, -1]
    assert torch.allclose(last[0], alone[0], atol=1e-4)
    emb = torch.nn.functional.normalize(last, dim=-1)
    sims = emb @ emb.T
    assert (sims - torch.eye(len(TEXTS))).abs().max() < 0.99  # texts not collapsed


def test_embedder_is_deterministic(tmp_path: Path, embedder_dir: Path) -> None:
    a = AutoModel.from_pretrained(embedder_dir).state_dict()
    b = AutoModel.from_pretrained(build_tiny_qwen3_embedder(tmp_path)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_reranker_yes_no_logits_vary(reranker_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(reranker_dir)
    model = AutoModelForCausalLM.from_pretrained(reranker_dir).eval()
    assert tok("hello").input_ids[-1] != tok.eos_token_id  # base tokenizer: no eos
    yes, no = tok.convert_tokens_to_ids(["yes", "no"])
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    prompts = [f"<|im_start|>user\n<Query>: what is paris\n<Document>: {t}{suffix}" for t in TEXTS]
    batch = tok(prompts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits[:, -1, [no, yes]]
        alone = model(**tok(prompts[0], return_tensors="pt")).logits[0, -1, [no, yes]]
    assert torch.allclose(logits[0], alone, atol=1e-4)
    scores = logits.softmax(-1)[:, 1]
    assert scores.max() - scores.min() > 0.05, scores
