"""Tiny random Qwen3 models built offline, for tests.

The real Qwen3 embedder/reranker are hundreds of MB and need the hub. These
builders write a folder with the same layout (tokenizer.json, config.json,
model.safetensors) so tests exercise the app's real ``Auto*.from_pretrained``
loading code in about a second, with no network.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM, Qwen3Model

EOS = "<|endoftext|>"
SPECIAL_TOKENS = [EOS, "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
VOCAB_SIZE = 800
_RERANK_PROMPT = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n<Instruct>: Given a web search query, retrieve relevant passages\n"
    "<Query>: {q}\n<Document>: {d}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
)

_SUBJECTS = ["the cat", "a dog", "my friend", "the model", "our team", "this file", "the search", "she", "he", "they"]
_VERBS = ["finds", "reads", "writes", "indexes", "ranks", "likes", "opens", "stores"]
_OBJECTS = ["the report", "a note", "some code", "the answer", "every query", "the documents", "old photos"]
_EXTRA = [
    "yes", "no", "yes no yes no", "Is this relevant? yes", "Is this relevant? no",
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided.",
    "Note that the answer can only be \"yes\" or \"no\".",
    "Instruct: Given a web search query, retrieve relevant passages that answer the query",
    "Query: how do I install python packages?", "Document: use pip install to add packages.",
    "def embed(texts: list[str]) -> list[float]:\n    return model(texts)",
    "for i in range(10):\n    print(i, x[i] + 1)",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)",
    "SELECT id, path FROM chunks WHERE score > 0.5;",
    "{\"key\": \"value\", \"n\": 42}", "café naïve über straße résumé 東京 日本語 привет мир",
    "The quick brown fox jumps over the lazy dog.", "Paris is the capital of France.",
    "Semantic search finds documents by meaning, not only by keywords.",
]


def _corpus() -> list[str]:
    """A few hundred deterministic sentences: prose, code, and non-ASCII."""
    return [f"{s} {v} {o}." for s, v, o in itertools.product(_SUBJECTS, _VERBS, _OBJECTS)] + _EXTRA * 20


def build_tokenizer(folder: Path, add_eos: bool) -> None:
    """Train a byte-level BPE and save it as a transformers fast tokenizer.

    ``add_eos=True`` appends ``<|endoftext|>`` to every encoding, like the
    Qwen3-Embedding tokenizer (the app pools the last token); ``False``
    appends nothing, like a base Qwen3 tokenizer (used by the reranker).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    # The reranker reads the logits of "yes"/"no", so each must be one token.
    # Added tokens match inside words, hence single_word (should rarely trigger).
    for word in ("yes", "no"):
        if tok.token_to_id(word) is None:
            tok.add_tokens([AddedToken(word, single_word=True)])
    if add_eos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {EOS}",
            pair=f"$A {EOS} $B {EOS}",
            special_tokens=[(EOS, tok.token_to_id(EOS))],
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, pad_token=EOS, padding_side="left", model_max_length=131072
    )
    fast.save_pretrained(folder)
    _check_tokenizer(folder, add_eos)


def _check_tokenizer(folder: Path, add_eos: bool) -> None:
    """Reload through AutoTokenizer and fail loudly if behaviour drifted."""
    tok = AutoTokenizer.from_pretrained(folder)
    eos_id = tok.convert_tokens_to_ids(EOS)
    for word in ("yes", "no"):
        wid = tok.convert_tokens_to_ids(word)
        assert wid is not None and wid != tok.unk_token_id, word
        assert tok(word, add_special_tokens=False).input_ids == [wid], word
    ids = tok("hello world").input_ids
    assert (ids[-1] == eos_id) == add_eos, (ids, add_eos)
    assert tok.padding_side == "left" and tok.pad_token_id == eos_id


def _config(folder: Path) -> Qwen3Config:
    """A 64-wide, 2-layer Qwen3 config matching the saved tokenizer."""
    tok = AutoTokenizer.from_pretrained(folder)
    eos_id = tok.convert_tokens_to_ids(EOS)
    return Qwen3Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
        max_window_layers=2, tie_word_embeddings=False, dtype="float32",
        bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id,
    )


def build_tiny_qwen3_embedder(folder: Path, add_eos: bool = True, seed: int = 0) -> Path:
    """Tokenizer + randomly initialised ``Qwen3Model`` (float32 safetensors)."""
    folder = Path(folder)
    build_tokenizer(folder, add_eos=add_eos)
    config = _config(folder)
    with torch.random.fork_rng(devices=[]):  # seeded, without touching caller's RNG
        torch.manual_seed(seed)
        model = Qwen3Model(config).float().eval()
    model.save_pretrained(folder)
    return folder


def build_tiny_qwen3_reranker(folder: Path, seed: int = 0) -> Path:
    """Tokenizer (no eos) + randomly initialised ``Qwen3ForCausalLM``.

    Plain random init leaves every yes/no score near one constant value, so
    the "yes"/"no" lm_head rows are recalibrated (see ``_calibrate_yes_no``).
    """
    folder = Path(folder)
    build_tokenizer(folder, add_eos=False)
    config = _config(folder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(config).float().eval()
    _calibrate_yes_no(model, AutoTokenizer.from_pretrained(folder))
    model.save_pretrained(folder)
    return folder


def _calibrate_yes_no(model: Qwen3ForCausalLM, tok: PreTrainedTokenizerFast) -> None:
    """Aim logit(yes) - logit(no) along the main input-dependent direction.

    Probes use the Qwen3-Reranker prompt layout; the direction is the top
    principal component of their last hidden states, made orthogonal to the
    mean (the constant part), scaled to a logit-difference std of ~2.5.
    """
    docs = _corpus()[::4]
    probes = [_RERANK_PROMPT.format(q=docs[i - 1], d=d) for i, d in enumerate(docs)]
    yes, no = tok.convert_tokens_to_ids(["yes", "no"])
    with torch.no_grad():
        batch = tok(probes, padding=True, return_tensors="pt")
        h = model.model(**batch).last_hidden_state[:, -1]
        mean, centred = h.mean(0), h - h.mean(0)
        d = torch.linalg.svd(centred, full_matrices=False).Vh[0]
        d = d - (d @ mean) / (mean @ mean) * mean
        d = d * torch.sign(d.sum())  # SVD sign is arbitrary; pin it
        d = d * 2.5 / (centred @ d).std()
        w = model.lm_head.weight
        base = (w[yes] + w[no]) / 2
        w[yes], w[no] = base + d / 2, base - d / 2
