"""Pick the device, dtype and attention kernel a model runs with: CUDA, then Apple MPS, then
the CPU; bf16 on GPUs that have it (fp16 otherwise), float32 on the CPU."""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

import torch

from search.errors import ModelLoadError
from search.wording import mark


@dataclass(frozen=True)
class Placement:
    device: torch.device
    dtype: torch.dtype
    attention: str = "sdpa"

    def describe(self) -> str:
        return f"{self.device.type} {str(self.dtype).removeprefix('torch.')}"


def place(requested: str = "auto") -> Placement:
    requested = requested.lower()
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise ModelLoadError(
                f"{mark('device', 'cuda')} was asked for, but PyTorch sees no CUDA GPU: "
                f"use {mark('device', 'cpu')} (or auto), or install a CUDA build of PyTorch."
            )
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        flash = importlib.util.find_spec("flash_attn") is not None
        return Placement(torch.device("cuda"), dtype, "flash_attention_2" if flash else "sdpa")
    if requested == "mps":
        if not mps_ok:
            raise ModelLoadError(
                f"{mark('device', 'mps')} was asked for, but Apple MPS is not available: use {mark('device', 'cpu')}."
            )
        return Placement(torch.device("mps"), torch.float16)
    if requested == "cpu":
        torch.set_num_threads(_cores())
        return Placement(torch.device("cpu"), torch.float32)
    raise ModelLoadError(f"Unknown device {requested!r}: choose auto, cpu, cuda or mps.")


def describe(requested: str) -> str:
    """What `place` would choose, as words, without failing (for `status`)."""
    try:
        return place(requested).describe()
    except ModelLoadError:
        return f"{requested} (not available here)"


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_cache(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
