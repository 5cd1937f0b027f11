"""Find a model's folder (a local path, or a hub name downloaded into the HF cache) and load
its config, tokenizer and weights, turning every way this fails into one clear sentence."""
from __future__ import annotations

import functools
import importlib
import json
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from search.errors import ModelLoadError
from search.models.reference import ModelRef
from search.wording import mark

# transformers builds its package lazily, as it is used: two threads loading at once (the page's
# words thread a tokenizer, its meaning thread the model) make one fail with "cannot import name
# 'AutoConfig' from 'transformers'". Fathom loads from it one thing at a time (a download of a
# model's files, before, is not held up by this).
_LOADING = threading.RLock()
_Loader = TypeVar("_Loader", bound=Callable[..., Any])


def one_at_a_time(load: _Loader) -> _Loader:
    """A function that loads from transformers, run by one thread at a time."""

    @functools.wraps(load)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with _LOADING:
            return load(*args, **kwargs)

    return guarded  # type: ignore[return-value]

# What a model needs; skips ONNX/OpenVINO/TF copies that some repositories also carry.
_WANTED_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "merges.txt"]
MAX_LENGTH = 8192  # tokens an embedder reads at most, whatever its config allows


@one_at_a_time
def from_transformers(*names: str, module: str = "transformers") -> tuple[Any, ...]:
    """These names of transformers (or of one of its modules)."""
    imported = importlib.import_module(module)
    return tuple(getattr(imported, name) for name in names)


def model_folder(name: str, setting: str) -> Path:
    """The local folder of a model; downloads a hub model (with a progress bar) if needed.
    `setting` names it in messages: "embedding_model" or "reranker_model"."""
    named = mark(setting)
    model = ModelRef.parse(name)
    if model.path is not None and model.path.is_dir():
        return model.path
    if model.kind == "folder":
        raise ModelLoadError(
            f"No model folder at {name}: check the path given to {named}, "
            "or give a Hugging Face name such as Qwen/Qwen3-Embedding-0.6B."
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        return Path(snapshot_download(name, allow_patterns=_WANTED_FILES))
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise ModelLoadError(
            f"The Hugging Face Hub has no model {name!r} that can be downloaded: "
            f"check the name given to {named}, or point it at a local model folder."
        ) from exc
    except HFValidationError as exc:
        raise ModelLoadError(
            f"{name!r} is neither a folder nor a Hugging Face model name: check {named}."
        ) from exc
    except (LocalEntryNotFoundError, ConnectionError, TimeoutError, OSError) as exc:
        raise ModelLoadError(
            f"Cannot download the model {name}: the Hugging Face Hub cannot be reached and the "
            "model is not in the local cache. Connect to the internet once to download it, "
            f"or point {named} at a local model folder "
            f"(e.g. made with `hf download {name} --local-dir DIR`)"
            + (f", or turn reranking off with {mark(setting, 'none')}." if setting == "reranker_model" else ".")
        ) from exc


def max_length_of(config: Any, tokenizer: Any, folder: Path, limit: int | None) -> int:
    """The most tokens a model takes: the least of `limit` (else MAX_LENGTH), its
    sentence-transformers setting, its position embeddings and its tokenizer's own limit."""
    candidates = [limit or MAX_LENGTH]
    sbert = read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    if sbert:
        candidates.append(int(sbert))
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        candidates.append(int(positions))
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 10**9:
        candidates.append(int(model_max))
    return min(candidates)


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@one_at_a_time
def load_pretrained(loader: Any, folder: Path, name: str, setting: str, **kwargs: Any) -> Any:
    """Call `loader.from_pretrained` and explain failures (missing files, memory)."""
    import torch

    named = mark(setting)
    (hf_logging,) = from_transformers("logging", module="transformers.utils")
    hf_logging.set_verbosity_error()  # length warnings and weight-loading bars are noise here
    hf_logging.disable_progress_bar()
    try:
        return loader.from_pretrained(str(folder), **kwargs)
    except torch.cuda.OutOfMemoryError as exc:
        raise ModelLoadError(
            f"Not enough GPU memory for {name}: choose a smaller model for {named} "
            f"(the 0.6B models) or run on the CPU with {mark('device', 'cpu')}."
        ) from exc
    except MemoryError as exc:
        raise ModelLoadError(
            f"Not enough memory to load {name}: choose a smaller model for {named}."
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(
            f"Cannot load the model in {folder} ({exc.__class__.__name__}: {_first_line(exc)}): "
            f"check that {named} points at a complete model folder (config.json, tokenizer, weights)."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


@one_at_a_time
def local_tokenizer(name: str) -> tuple[Any, int | None]:
    """The model's own tokenizer and length limit when its files are on this machine (a
    folder, or the Hugging Face cache; never downloaded); (None, None) otherwise."""
    folder = _local_folder(name)
    if folder is None:
        return None, None
    try:
        AutoConfig, AutoTokenizer = from_transformers("AutoConfig", "AutoTokenizer")
        (hf_logging,) = from_transformers("logging", module="transformers.utils")

        hf_logging.set_verbosity_error()
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        try:
            config = AutoConfig.from_pretrained(str(folder))
        except (OSError, ValueError):
            config = None
        return tokenizer, max_length_of(config, tokenizer, folder, None)
    except Exception:  # a half-downloaded or odd folder: chunk with the approximate tokenizer
        return None, None


def _local_folder(name: str) -> Path | None:
    model = ModelRef.parse(name)
    if model.path is not None:
        return model.path if model.path.is_dir() else None
    if not model.is_hub_name:
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not in the cache (or not a hub name at all)
        return None


# A tokenizer is a few small files: fetched alone, it lets Fathom cut files into chunks of the
# model's tokens (the words phase) while the weights are still downloading.
_TOKENIZER_FILES = ["tokenizer*", "*.json", "vocab.txt", "merges.txt", "*.model", "spiece*", "sentencepiece*"]


def chunk_tokenizer_of(name: str) -> tuple[Any, int | None]:
    """The model's own tokenizer and length limit, without its weights: from a folder or the
    cache, else its tokenizer files alone from the Hub; (None, None) when none can be had (the
    Hub cannot be reached, the name is a server's own)."""
    tokenizer, max_length = local_tokenizer(name)
    if tokenizer is not None or _local_folder(name) is not None or not ModelRef.parse(name).is_hub_name:
        return tokenizer, max_length
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(name, allow_patterns=_TOKENIZER_FILES)
    except Exception:  # offline, gated, no such model: Fathom estimates tokens instead
        return None, None
    return local_tokenizer(name)
