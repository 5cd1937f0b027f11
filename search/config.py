"""Settings shared by every command: where the data lives, which models, which device.

Each setting comes from a command-line option, else an environment variable, else a default.
The variables are a public interface: FATHOM_DATA_DIR, FATHOM_EMBEDDING_MODEL,
FATHOM_RERANKER_MODEL, FATHOM_DEVICE, FATHOM_DIM.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_EMBEDDING_MODEL = "Qwen/Qwen3-Embedding-0.6B"
DEFAULT_RERANKER_MODEL = "Qwen/Qwen3-Reranker-0.6B"
DEVICES = ("auto", "cpu", "cuda", "mps")
DATABASE_NAME = "fathom.db"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    embedding_model: str
    reranker_model: str | None
    device: str = "auto"
    dim: int | None = None

    @property
    def database(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @classmethod
    def resolve(
        cls,
        data_dir: str | None = None,
        embedding_model: str | None = None,
        reranker_model: str | None = None,
        device: str | None = None,
        dim: int | None = None,
    ) -> "Settings":
        """Options win over environment variables, which win over defaults."""
        env = os.environ
        data = data_dir or env.get("FATHOM_DATA_DIR") or platformdirs.user_data_dir("fathom", False)
        embedder = embedding_model or env.get("FATHOM_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
        reranker = reranker_model or env.get("FATHOM_RERANKER_MODEL") or DEFAULT_RERANKER_MODEL
        chosen_device = (device or env.get("FATHOM_DEVICE") or "auto").lower()
        if chosen_device not in DEVICES:
            from search.errors import FathomError

            raise FathomError(
                f"Unknown device {chosen_device!r}: choose one of {', '.join(DEVICES)}."
            )
        if dim is None and env.get("FATHOM_DIM"):
            dim = int(env["FATHOM_DIM"])
        return cls(
            data_dir=Path(data).expanduser(),
            embedding_model=model_id(embedder),
            reranker_model=None if reranker.lower() == "none" else model_id(reranker),
            device=chosen_device,
            dim=dim,
        )


def model_id(name_or_path: str) -> str:
    """A stable name for a model: local folders by absolute path, hub names as they are."""
    path = Path(name_or_path).expanduser()
    if path.exists() or name_or_path.startswith((".", "/", "~")):
        return str(path.resolve())
    return name_or_path
