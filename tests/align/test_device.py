"""One resolver of --device for embedding and translation models."""

import pytest
import torch

from align.device import resolve_device
from align.encoders.sentence_transformers import SentenceTransformerEncoder
from align.errors import UsageError


@pytest.mark.parametrize("gpu, expected", [(True, "cuda"), (False, "cpu")])
def test_auto_picks_cuda_when_torch_sees_it(monkeypatch, gpu, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"


def test_cuda_without_a_gpu_is_a_usage_error_for_every_model(monkeypatch, tiny_encoder_dir):
    """Before, an embedding model handed 'cuda' on to torch and failed deep inside it."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="--device cuda: no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(UsageError, match="--device cuda: no CUDA GPU"):
        SentenceTransformerEncoder(str(tiny_encoder_dir), device="cuda")
