"""Task presets: named Qwen3 instructions a person can pick instead of writing one.

They live in presets.json so that adding one is a data change, not a code change.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.errors import FathomError

PRESETS_FILE = Path(__file__).with_name("presets.json")


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    instruction: str


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    entries = json.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    return {entry["name"]: Preset(**entry) for entry in entries}


def instruction_for(task: str | None, instruction: str | None) -> str | None:
    """A free instruction wins over a preset; None means the model's default task."""
    if instruction and instruction.strip():
        return instruction.strip()
    if not task:
        return None
    try:
        return presets()[task].instruction
    except KeyError:
        names = ", ".join(presets())
        raise FathomError(f"Unknown task preset {task!r}: choose one of {names}.") from None
