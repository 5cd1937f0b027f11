"""Vectors are found by the text they embed: a chunk's key is a hash of its context line and
its text, which is all the embedder reads of it under the index's one embedding space (model,
dimension and chunk recipe: a new space drops every vector). A copy, a rename, a moved folder,
a re-index or a file edited in one place then takes the stored vector instead of the model's.

Vectors of chunks that go (a file edited, deleted, or moved out of sight and back) are kept
a while as "loose" vectors under their key, at most LOOSE_KEEP of them, newest kept."""
from __future__ import annotations

import hashlib

LOOSE_KEEP = 20_000  # ~80 MB of float32 vectors at 1,024 dimensions


def text_key(context: str, text: str) -> bytes:
    return hashlib.sha256(f"{context}\0{text}".encode("utf-8", "surrogatepass")).digest()[:16]
