"""Text embeddings: Qwen3-Embedding by its official recipe, or a plain sentence encoder.

Qwen3-Embedding: left padding, every sequence ends with `<|endoftext|>`, the last token's
hidden state is the embedding, queries (only) get `Instruct: {task}\\nQuery:{query}`, vectors
are L2-normalised, optionally cut to a smaller Matryoshka dimension and re-normalised.
Plain encoders (sentence-transformers folders such as all-MiniLM-L6-v2): mean or CLS pooling
as their `1_Pooling/config.json` says, normalised, no instruction.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from search.errors import ModelLoadError
from search.models.batching import default_token_budget, pad, run_batches
from search.models.device import Placement, place
from search.models.loading import from_transformers, load_pretrained, max_length_of, model_folder, read_json
from search.wording import mark

DEFAULT_TASK = "Given a web search query, retrieve relevant passages that answer the query"
QWEN3_EOS = "<|endoftext|>"


def format_query(query: str, task: str | None) -> str:
    """The Qwen3-Embedding query format (note: no space after `Query:`)."""
    return f"Instruct: {task or DEFAULT_TASK}\nQuery:{query}"


@dataclass(frozen=True)
class Recipe:
    pooling: str  # "last", "mean" or "cls"
    instructions: bool  # queries take an instruction (Qwen3)
    eos_id: int | None  # token every sequence must end with (Qwen3)
    left_padding: bool


@dataclass(eq=False)
class LocalEmbedder:
    """Turns texts into normalised float32 vectors; one batching path for every model.

    A Hugging Face fast tokenizer keeps its truncation settings on its one Rust object, so two
    threads that call it with different settings corrupt each other's results (a chunker's
    call comes back cut at the model's max length). The embedder's own tokenizer is therefore
    only called under its lock, and whoever chunks text gets an instance of its own from
    `chunk_tokenizer()`.
    """

    name: str
    model: Any
    tokenizer: Any
    recipe: Recipe
    placement: Placement
    max_length: int
    dimension: int | None = None  # None: the model's own (its hidden size)
    token_budget: int | None = None

    def __post_init__(self) -> None:
        hidden = int(self.model.config.hidden_size)
        if self.dimension is not None and not 1 <= self.dimension <= hidden:
            raise ModelLoadError(
                f"{mark('dim', self.dimension)} does not fit {self.name}: choose a dimension from 1 to {hidden}."
            )
        self.dimension = self.dimension or hidden
        self.token_budget = self.token_budget or default_token_budget(self.placement)
        self.pad_id = _pad_id(self.tokenizer, self.recipe)
        self._tokenizer_lock = threading.Lock()

    @property
    def takes_instructions(self) -> bool:
        return self.recipe.instructions

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def embed_queries(self, queries: Sequence[str], task: str | None = None) -> np.ndarray:
        if self.recipe.instructions:
            queries = [format_query(q, task) for q in queries]
        return self._embed(list(queries))

    def close(self) -> None:
        """Nothing to let go of: the model is freed with the embedder."""

    def chunk_tokenizer(self) -> Any:
        """A tokenizer for chunking, counting in this model's tokens: a copy that shares no
        state with the one the embedding calls use, so it can run on another thread."""
        with self._tokenizer_lock:
            return copy.deepcopy(self.tokenizer)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids as the model will see them: truncated, EOS-terminated for Qwen3."""
        if not texts:
            return []
        with self._tokenizer_lock:  # search threads and the indexer share this embedder
            encoded = self.tokenizer(
                list(texts), add_special_tokens=True, truncation=True, max_length=self.max_length
            )["input_ids"]
        eos = self.recipe.eos_id
        if eos is None:
            return [list(ids) for ids in encoded]
        return [
            list(ids) if ids and ids[-1] == eos else list(ids)[: self.max_length - 1] + [eos]
            for ids in encoded
        ]

    @torch.inference_mode()
    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        ids = self.token_ids(texts)
        device = self.placement.device

        def run(batch: list[int]) -> None:
            input_ids, mask = pad([ids[i] for i in batch], self.pad_id, self.recipe.left_padding, device)
            hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            pooled = _pool(hidden, mask, self.recipe.pooling)[:, : self.dimension]
            out[batch] = F.normalize(pooled.float(), p=2, dim=-1).cpu().numpy()

        self.token_budget = run_batches([len(x) for x in ids], self.token_budget, device, run)
        return out


def _pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    if pooling == "last":
        # Left padding puts every sequence's last token in the last column; with right
        # padding, pick each row's last real token.
        if bool(mask[:, -1].all()):
            return hidden[:, -1]
        last = mask.sum(dim=1) - 1
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _pad_id(tokenizer: Any, recipe: Recipe) -> int:
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    if recipe.eos_id is not None:
        return recipe.eos_id
    return 0


def _recipe(config: Any, tokenizer: Any, folder: Path) -> Recipe:
    if getattr(config, "model_type", "") in ("qwen3", "qwen2"):
        eos = tokenizer.convert_tokens_to_ids(QWEN3_EOS)
        if eos is None or (tokenizer.unk_token_id is not None and eos == tokenizer.unk_token_id):
            eos = tokenizer.eos_token_id
        return Recipe(pooling="last", instructions=True, eos_id=eos, left_padding=True)
    pooling = read_json(folder / "1_Pooling" / "config.json")
    if pooling.get("pooling_mode_lasttoken"):
        mode = "last"
    elif pooling.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        mode = "mean"
    return Recipe(pooling=mode, instructions=False, eos_id=None, left_padding=mode == "last")


def load_embedder(
    name: str,
    device: str = "auto",
    dimension: int | None = None,
    max_length: int | None = None,
) -> LocalEmbedder:
    """Load an embedding model from a local folder or a hub name (downloaded once)."""
    AutoConfig, AutoModel, AutoTokenizer = from_transformers("AutoConfig", "AutoModel", "AutoTokenizer")

    setting = "embedding_model"
    placement = place(device)
    folder = model_folder(name, setting)
    config = load_pretrained(AutoConfig, folder, name, setting)
    tokenizer = load_pretrained(AutoTokenizer, folder, name, setting)
    recipe = _recipe(config, tokenizer, folder)
    tokenizer.padding_side = "left" if recipe.left_padding else "right"
    model = load_pretrained(
        AutoModel, folder, name, setting, dtype=placement.dtype, attn_implementation=placement.attention
    )
    model.to(placement.device).eval()
    return LocalEmbedder(
        name,
        model,
        tokenizer,
        recipe,
        placement,
        max_length=max_length_of(config, tokenizer, folder, max_length),
        dimension=dimension,
    )
