"""Batches by token budget, sorted by length, so that padding wastes little compute."""
from __future__ import annotations

from typing import Sequence

import torch


def token_budget_batches(
    lengths: Sequence[int], token_budget: int, max_batch: int = 256
) -> list[list[int]]:
    """Indices grouped so that len(batch) * longest <= token_budget (a lone long text still
    gets its own batch). Longest first, so an out-of-memory error shows up at once."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest = max(longest, lengths[i])
        if current and (longest * (len(current) + 1) > token_budget or len(current) >= max_batch):
            batches.append(current)
            current, longest = [], lengths[i]
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad(
    sequences: Sequence[Sequence[int]], pad_id: int, left: bool, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """input_ids and attention_mask for a batch, padded on the left or the right."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        span = slice(width - len(seq), width) if left else slice(0, len(seq))
        ids[row, span] = torch.tensor(seq, dtype=torch.long)
        mask[row, span] = 1
    return ids.to(device), mask.to(device)
