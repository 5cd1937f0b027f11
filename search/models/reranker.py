"""Qwen3-Reranker: a causal LM that answers "yes" or "no"; the score is P("yes").

The prompt is the official template: a fixed system prefix, the body
`<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {doc}` and a fixed suffix. Only the
body is truncated, from its end, so the prefix and suffix always reach the model.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from search.errors import ModelLoadError
from search.models.batching import default_token_budget, pad, run_batches
from search.models.device import Placement, place
from search.models.embedder import DEFAULT_TASK
from search.models.loading import from_transformers, load_pretrained, model_folder
from search.wording import mark

NOT_A_RERANKER = f"use a Qwen3-Reranker model for {mark('reranker_model')}, or {mark('reranker_model', 'none')}."

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
MAX_LENGTH = 8192


def format_body(query: str, document: str, instruction: str | None) -> str:
    return f"<Instruct>: {instruction or DEFAULT_TASK}\n<Query>: {query}\n<Document>: {document}"


class LocalReranker:
    def __init__(
        self,
        name: str,
        model: Any,
        tokenizer: Any,
        placement: Placement,
        max_length: int = MAX_LENGTH,
        token_budget: int | None = None,
    ):
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        self.placement = placement
        self.max_length = max_length
        self.token_budget = token_budget or default_token_budget(placement)
        self.prefix_ids = tokenizer(PREFIX, add_special_tokens=False)["input_ids"]
        self.suffix_ids = tokenizer(SUFFIX, add_special_tokens=False)["input_ids"]
        self.yes_id = _single_token(tokenizer, "yes", name)
        self.no_id = _single_token(tokenizer, "no", name)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def close(self) -> None:
        """Nothing to let go of: the model is freed with the reranker."""

    def token_ids(self, query: str, documents: Sequence[str], instruction: str | None) -> list[list[int]]:
        room = self.max_length - len(self.prefix_ids) - len(self.suffix_ids)
        bodies = [format_body(query, doc, instruction) for doc in documents]
        encoded = self.tokenizer(
            bodies, add_special_tokens=False, truncation=True, max_length=room
        )["input_ids"]
        return [self.prefix_ids + list(body) + self.suffix_ids for body in encoded]

    @torch.inference_mode()
    def rerank(self, query: str, documents: Sequence[str], instruction: str | None = None) -> list[float]:
        """P("yes") for each document, in the order given."""
        ids = self.token_ids(query, documents, instruction)
        scores = [0.0] * len(ids)
        device = self.placement.device

        def run(batch: list[int]) -> None:
            input_ids, mask = pad([ids[i] for i in batch], self.pad_id, True, device)
            logits = self.model(input_ids=input_ids, attention_mask=mask, logits_to_keep=1).logits[:, -1, :]
            pair = torch.stack([logits[:, self.no_id], logits[:, self.yes_id]], dim=1).float()
            for i, score in zip(batch, torch.softmax(pair, dim=1)[:, 1].cpu().tolist()):
                scores[i] = score

        self.token_budget = run_batches([len(x) for x in ids], self.token_budget, device, run)
        return scores


def _single_token(tokenizer: Any, word: str, name: str) -> int:
    ids = tokenizer(word, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ModelLoadError(
            f"{name} does not look like a Qwen3 reranker (the word {word!r} is not one token): {NOT_A_RERANKER}"
        )
    return int(ids[0])


def load_reranker(name: str, device: str = "auto", max_length: int | None = None) -> LocalReranker:
    AutoConfig, AutoModelForCausalLM, AutoTokenizer = from_transformers(
        "AutoConfig", "AutoModelForCausalLM", "AutoTokenizer"
    )

    setting = "reranker_model"
    placement = place(device)
    folder = model_folder(name, setting)
    config = load_pretrained(AutoConfig, folder, name, setting)
    if not any(a.endswith("ForCausalLM") for a in (getattr(config, "architectures", None) or [])):
        if getattr(config, "model_type", "") not in ("qwen3", "qwen2"):
            raise ModelLoadError(
                f"{name} is not a causal language model like Qwen3-Reranker: {NOT_A_RERANKER}"
            )
    tokenizer = load_pretrained(AutoTokenizer, folder, name, setting)
    tokenizer.padding_side = "left"
    model = load_pretrained(
        AutoModelForCausalLM, folder, name, setting, dtype=placement.dtype, attn_implementation=placement.attention
    )
    model.to(placement.device).eval()
    limit = min(max_length or MAX_LENGTH, getattr(config, "max_position_embeddings", MAX_LENGTH))
    return LocalReranker(name, model, tokenizer, placement, max_length=limit)
