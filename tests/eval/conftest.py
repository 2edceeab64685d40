"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory) -> str:
    """A tiny NLLB-shaped translation model (seconds, no download)."""
    from tests.translate.tiny import build_nllb, train_sentencepiece

    root = tmp_path_factory.mktemp("tiny_nllb")
    return build_nllb(train_sentencepiece(root), root / "nllb")
