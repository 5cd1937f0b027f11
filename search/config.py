"""Settings shared by every command: where the data lives, which models, which device.

Each setting comes from a command-line option, else an environment variable, else the
settings file in the data folder (what the page's Settings saved), else a default.
The variables are a public interface: FATHOM_DATA_DIR, FATHOM_EMBEDDING_MODEL,
FATHOM_RERANKER_MODEL, FATHOM_DEVICE, FATHOM_DIM, FATHOM_MAX_FILE_MB.
"""
from __future__ import annotations

import json
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
SETTINGS_NAME = "settings.json"
# What the settings file may hold, and the variable that wins over each.
SAVED = {
    "embedding_model": "FATHOM_EMBEDDING_MODEL",
    "reranker_model": "FATHOM_RERANKER_MODEL",
    "device": "FATHOM_DEVICE",
    "dim": "FATHOM_DIM",
    "rerank_top": None,
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    embedding_model: str
    reranker_model: str | None
    device: str = "auto"
    dim: int | None = None
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    rerank_top: int | None = None  # files the reranker reads; None: the search default

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
        """Options win over environment variables, which win over the settings file, which
        wins over defaults."""
        env = os.environ
        data = data_dir or env.get("FATHOM_DATA_DIR") or platformdirs.user_data_dir("fathom", False)
        saved = saved_settings(Path(data).expanduser())
        embedder = (
            embedding_model or env.get("FATHOM_EMBEDDING_MODEL") or saved.get("embedding_model")
            or DEFAULT_EMBEDDING_MODEL
        )
        reranker = (
            reranker_model or env.get("FATHOM_RERANKER_MODEL") or saved.get("reranker_model")
            or DEFAULT_RERANKER_MODEL
        )
        chosen_device = (device or env.get("FATHOM_DEVICE") or saved.get("device") or "auto").lower()
        if chosen_device not in DEVICES:
            raise FathomError(
                f"Unknown device {chosen_device!r}: choose one of {', '.join(DEVICES)}."
            )
        if dim is None and env.get("FATHOM_DIM"):
            dim = _number(env["FATHOM_DIM"], "FATHOM_DIM", int)
        if dim is None:
            dim = saved.get("dim")
        if max_file_mb is None and env.get("FATHOM_MAX_FILE_MB"):
            max_file_mb = _number(env["FATHOM_MAX_FILE_MB"], "FATHOM_MAX_FILE_MB", float)
        return cls(
            data_dir=Path(data).expanduser(),
            embedding_model=model_id(embedder),
            reranker_model=None if reranker.lower() == "none" else model_id(reranker),
            device=chosen_device,
            dim=dim,
            max_file_mb=max_file_mb or DEFAULT_MAX_FILE_MB,
            rerank_top=saved.get("rerank_top"),
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


# -- the settings file ------------------------------------------------------------------------


def settings_file(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / SETTINGS_NAME


def saved_settings(data_dir: Path) -> dict[str, Any]:
    """What the page saved in the data folder ({} when nothing was); a value set by hand
    that makes no sense is reported with the file's name, never silently ignored."""
    path = settings_file(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise FathomError(
            f"Cannot read the settings file {path}: {exc}. Fix it or delete it (Fathom then "
            "uses its defaults)."
        ) from None
    if not isinstance(raw, dict):
        raise FathomError(f"The settings file {path} must hold a JSON object: fix it or delete it.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SAVED or value is None:
            continue  # a key from a newer version, or one set back to its default
        if key in ("dim", "rerank_top"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise FathomError(f"{key} in {path} must be a whole number above 0, found {value!r}.")
        elif not isinstance(value, str) or not value.strip():
            raise FathomError(f"{key} in {path} must be a non-empty string, found {value!r}.")
        values[key] = value
    return values


def save_settings(data_dir: Path, values: dict[str, Any]) -> Path:
    """Write these settings (None removes one) over what the file held, atomically."""
    unknown = set(values) - set(SAVED)
    if unknown:
        raise ValueError(f"not settings that can be saved: {', '.join(sorted(unknown))}")
    path = settings_file(data_dir)
    merged = {**saved_settings(data_dir), **values}
    merged = {key: merged[key] for key in SAVED if merged.get(key) is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def setting_sources(**options: Any) -> dict[str, str]:
    """Where each saved setting comes from now: "option", the variable's name, "settings
    file" or "default". The page says so when a choice it saves will not win next time."""
    env = os.environ
    data = options.get("data_dir") or env.get("FATHOM_DATA_DIR") or platformdirs.user_data_dir("fathom", False)
    saved = saved_settings(Path(data).expanduser())
    sources = {}
    for key, variable in SAVED.items():
        if options.get(key) is not None:
            sources[key] = "option"
        elif variable and env.get(variable):
            sources[key] = variable
        elif key in saved:
            sources[key] = "settings file"
        else:
            sources[key] = "default"
    return sources
