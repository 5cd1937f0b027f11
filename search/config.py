"""Settings shared by every command: where the data lives, which models, which device.

Each setting comes from a command-line option, else an environment variable, else a default.
The variables are a public interface: FATHOM_DATA_DIR, FATHOM_EMBEDDING_MODEL,
FATHOM_RERANKER_MODEL, FATHOM_DEVICE, FATHOM_DIM, FATHOM_MAX_FILE_MB.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from search.errors import FathomError

DEFAULT_EMBEDDING_MODEL = "Qwen/Qwen3-Embedding-0.6B"
DEFAULT_RERANKER_MODEL = "Qwen/Qwen3-Reranker-0.6B"
DEVICES = ("auto", "cpu", "cuda", "mps")
DATABASE_NAME = "fathom.db"
DEFAULT_MAX_FILE_MB = 50.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    embedding_model: str
    reranker_model: str | None
    device: str = "auto"
    dim: int | None = None
    max_file_mb: float = DEFAULT_MAX_FILE_MB

    @property
    def database(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    @classmethod
    def resolve(
        cls,
        data_dir: str | None = None,
        embedding_model: str | None = None,
        reranker_model: str | None = None,
        device: str | None = None,
        dim: int | None = None,
        max_file_mb: float | None = None,
    ) -> "Settings":
        """Options win over environment variables, which win over defaults."""
        env = os.environ
        data = data_dir or env.get("FATHOM_DATA_DIR") or platformdirs.user_data_dir("fathom", False)
        embedder = embedding_model or env.get("FATHOM_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
        reranker = reranker_model or env.get("FATHOM_RERANKER_MODEL") or DEFAULT_RERANKER_MODEL
        chosen_device = (device or env.get("FATHOM_DEVICE") or "auto").lower()
        if chosen_device not in DEVICES:
            raise FathomError(
                f"Unknown device {chosen_device!r}: choose one of {', '.join(DEVICES)}."
            )
        if dim is None and env.get("FATHOM_DIM"):
            dim = _number(env["FATHOM_DIM"], "FATHOM_DIM", int)
        if max_file_mb is None and env.get("FATHOM_MAX_FILE_MB"):
            max_file_mb = _number(env["FATHOM_MAX_FILE_MB"], "FATHOM_MAX_FILE_MB", float)
        return cls(
            data_dir=Path(data).expanduser(),
            embedding_model=model_id(embedder),
            reranker_model=None if reranker.lower() == "none" else model_id(reranker),
            device=chosen_device,
            dim=dim,
            max_file_mb=max_file_mb or DEFAULT_MAX_FILE_MB,
        )


def _number(text: str, variable: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise FathomError(f"{variable} must be a number, found {text!r}.") from None
    if value <= 0:
        raise FathomError(f"{variable} must be above 0, found {text!r}.")
    return value


def model_id(name_or_path: str) -> str:
    """A stable name for a model: local folders by absolute path, hub names as they are."""
    path = Path(name_or_path).expanduser()
    if path.exists() or name_or_path.startswith((".", "/", "~")):
        return str(path.resolve())
    return name_or_path
