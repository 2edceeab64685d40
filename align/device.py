"""Where models run: the one resolver of ``--device`` for embedding and translation models."""

from __future__ import annotations

from .errors import UsageError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> str:
    """``auto`` is cuda when torch sees a GPU, else cpu; ``cuda`` without one is a usage
    error here rather than a deep failure inside the model library."""
    if device not in DEVICES:
        raise UsageError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}")
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA GPU is visible to torch here")
    return device
