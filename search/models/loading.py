"""Find a model's folder (a local path, or a hub name downloaded into the HF cache) and load
its config, tokenizer and weights, turning every way this fails into one clear sentence."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.errors import ModelLoadError

# What a model needs; skips ONNX/OpenVINO/TF copies that some repositories also carry.
_WANTED_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "merges.txt"]


def model_folder(name: str, option: str) -> Path:
    """The local folder of a model; downloads a hub model (with a progress bar) if needed."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or name.startswith((".", "~")) or path.exists():
        raise ModelLoadError(
            f"No model folder at {name}: check the path given to {option}, "
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
            f"check the name given to {option}, or point it at a local model folder."
        ) from exc
    except HFValidationError as exc:
        raise ModelLoadError(
            f"{name!r} is neither a folder nor a Hugging Face model name: check {option}."
        ) from exc
    except (LocalEntryNotFoundError, ConnectionError, TimeoutError, OSError) as exc:
        raise ModelLoadError(
            f"Cannot download the model {name}: the Hugging Face Hub cannot be reached and the "
            "model is not in the local cache. Connect to the internet once to download it, "
            f"or point {option} at a local model folder "
            f"(e.g. made with `hf download {name} --local-dir DIR`)"
            + (", or turn reranking off with `--reranker-model none`." if "reranker" in option else ".")
        ) from exc


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_pretrained(loader: Any, folder: Path, name: str, option: str, **kwargs: Any) -> Any:
    """Call `loader.from_pretrained` and explain failures (missing files, memory)."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # length warnings and weight-loading bars are noise here
    hf_logging.disable_progress_bar()
    try:
        return loader.from_pretrained(str(folder), **kwargs)
    except torch.cuda.OutOfMemoryError as exc:
        raise ModelLoadError(
            f"Not enough GPU memory for {name}: choose a smaller model for {option} "
            "(the 0.6B models) or run on the CPU with --device cpu."
        ) from exc
    except MemoryError as exc:
        raise ModelLoadError(
            f"Not enough memory to load {name}: choose a smaller model for {option}."
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(
            f"Cannot load the model in {folder} ({exc.__class__.__name__}: {_first_line(exc)}): "
            f"check that {option} points at a complete model folder (config.json, tokenizer, weights)."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"
