"""Batches by token budget, sorted by length, so that padding wastes little compute."""
from __future__ import annotations

from collections import deque
from typing import Callable, Sequence

import torch

from search.errors import OutOfMemoryError
from search.models.device import Placement, free_cache, is_out_of_memory
from search.wording import mark


def default_token_budget(placement: Placement) -> int:
    """Tokens per batch. On a CPU small batches are fastest (bench/embed.py with MiniLM, 2
    cores: 1024 tokens 5,737 tok/s, 2048 5,169, 8192 4,423); a GPU wants large ones."""
    return 1024 if placement.device.type == "cpu" else 32768


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


def run_batches(
    lengths: Sequence[int],
    token_budget: int,
    device: torch.device,
    run: Callable[[list[int]], None],
) -> int:
    """Call `run` on each token-budget batch; a batch that runs out of memory is split in
    two and retried. Returns the budget that worked, for the next call to start from."""
    queue = deque(token_budget_batches(lengths, token_budget))
    while queue:
        batch = queue.popleft()
        try:
            run(batch)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            free_cache(device)
            if len(batch) == 1:
                raise OutOfMemoryError(
                    f"Out of memory on the {device.type} for a single text of {lengths[batch[0]]} "
                    f"tokens: use a smaller model, or {mark('device', 'cpu')}."
                ) from exc
            half = len(batch) // 2
            queue.extendleft([batch[half:], batch[:half]])
            token_budget = max(1, min(token_budget, half * max(lengths[i] for i in batch)))
    return token_budget
