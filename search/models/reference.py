"""What a model's name means: a folder on this machine, a Hugging Face Hub name, or the name a
model server knows it by. Decided here, once, for every place that loads, records, checks or
shows a model: a name that starts like a path (`/`, `.`, `~`), or names something that exists
here, is a folder (with `~` expanded); any other is a Hub name, which has the shape
`owner/name`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["folder", "hub", "server"]


@dataclass(frozen=True)
class ModelRef:
    text: str  # the name as given
    kind: Kind
    path: Path | None = None  # the folder, `~` expanded (kind "folder" only)

    @classmethod
    def parse(cls, text: str, on_server: bool = False) -> "ModelRef":
        """The model `text` names; `on_server`: a model served elsewhere, whose name is the
        server's to know (never looked for here)."""
        if on_server:
            return cls(text, "server")
        path = Path(text).expanduser()
        if text.startswith(("/", ".", "~")) or path.is_absolute() or path.exists():
            return cls(text, "folder", path)
        return cls(text, "hub")

    @property
    def id(self) -> str:
        """The name the index records: a folder by its absolute path (the same model however
        it was typed), any other name as given."""
        return str(self.path.resolve()) if self.path is not None else self.text

    @property
    def is_hub_name(self) -> bool:
        """A name the Hub could know (`owner/name`): one that may be in its cache or downloaded."""
        return self.kind == "hub" and self.text.count("/") == 1
