"""Compact copies of the embeddings, for a fast first pass over large indexes.

Each vector is kept twice more: one bit per dimension (its sign; 128 bytes for 1024
dimensions) and int8 (1 KB). A search over a large index ranks every chunk by Hamming
distance to the query's bits (numpy: XOR and popcount over 64-bit words, all codes in
memory), keeps the best few hundred, and rescores those with their int8 copies (cosine error
about 1e-3), read by id from a plain table: sqlite-vec's own point lookups of float vectors
cost ~0.45 ms each here, too slow for hundreds of candidates. The final results get their
exact float cosine from the float vectors. Bits are loaded once, then kept up to date by the
log of changed ids (table code_changes): a change costs its own rows, not a million.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


_BLOCK = 65_536


def code(vector: bytes) -> bytes:
    """The sign bits of a float32 vector, packed, padded to whole 64-bit words."""
    values = np.frombuffer(vector, dtype=np.float32)
    bits = np.packbits(values > 0)
    pad = (-len(bits)) % 8
    return bits.tobytes() + b"\0" * pad


def int8_copy(vector: bytes) -> bytes:
    """The vector scaled so its largest component is ±127, as int8 (the scale is not kept:
    cosine does not need it)."""
    values = np.frombuffer(vector, dtype=np.float32)
    peak = float(np.abs(values).max()) or 1.0
    return np.round(values * (127.0 / peak)).astype(np.int8).tobytes()


def int8_distances(rows: list[tuple[int, bytes]], vector: bytes) -> list[tuple[int, float]]:
    """(id, cosine distance) of int8 copies to a float vector."""
    if not rows:
        return []
    query = np.frombuffer(vector, dtype=np.float32)
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(rows), -1)
    matrix = matrix.astype(np.float32)
    cosine = matrix @ query / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0) + 1e-12)
    return [(row[0], float(1.0 - c)) for row, c in zip(rows, cosine)]


def _arrays(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.uint64)
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    words = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.uint64).reshape(len(rows), -1)
    return ids, words


@dataclass
class CodeMatrix:
    """Every chunk's code in one matrix, with the chunk ids in the same order."""

    ids: np.ndarray  # int64, shape (n,), in no particular order
    words: np.ndarray  # uint64, shape (n, words)
    generation: int  # the index's change counter when these codes were read
    seq: int  # the last entry of the change log that these codes include

    @classmethod
    def from_rows(cls, rows: list[tuple[int, bytes]], generation: int, seq: int) -> "CodeMatrix":
        ids, words = _arrays(rows)
        return cls(ids, words, generation, seq)

    def updated(
        self, changed: np.ndarray, rows: list[tuple[int, bytes]], generation: int, seq: int
    ) -> "CodeMatrix":
        """These codes after a change: the `changed` ids are dropped, then `rows` (the ones of
        them that still exist, new or rewritten) are added. Applying a change twice is harmless."""
        keep = ~np.isin(self.ids, changed)
        ids, words = _arrays(rows)
        if len(self) == 0:
            return CodeMatrix(ids, words, generation, seq)
        if len(ids) == 0:
            return CodeMatrix(self.ids[keep], self.words[keep], generation, seq)
        return CodeMatrix(
            np.concatenate([self.ids[keep], ids]), np.concatenate([self.words[keep], words]), generation, seq
        )

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(self, vector: bytes, count: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the `count` chunks whose codes are nearest the vector's, in no order."""
        if len(self) == 0:
            return self.ids
        query = np.frombuffer(code(vector), dtype=np.uint64)
        distance = np.empty(len(self), dtype=np.uint32)
        # In blocks: one pass over 1M codes with whole-matrix temporaries took 129 ms here,
        # blocks that stay in cache 40 ms.
        for start in range(0, len(self), _BLOCK):
            block = self.words[start : start + _BLOCK]
            distance[start : start + len(block)] = np.bitwise_count(block ^ query).sum(axis=1, dtype=np.uint32)
        far = np.iinfo(np.uint32).max
        if allowed is not None:
            distance[~np.isin(self.ids, allowed, assume_unique=True)] = far
            count = min(count, int(np.count_nonzero(distance != far)))
        if count <= 0:
            return self.ids[:0]
        if count >= len(self):
            return self.ids[distance != far]
        return self.ids[np.argpartition(distance, count - 1)[:count]]
