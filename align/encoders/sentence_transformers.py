"""Any sentence-transformers (or plain transformers) encoder, by hub id or directory."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..device import resolve_device
from ..errors import ModelError
from ..hub import resolve_pretrained

pick_device = resolve_device  # the name eval.bench imports; one resolver for every model


class SentenceTransformerEncoder:
    """Wraps ``sentence_transformers.SentenceTransformer``; a bare transformers
    checkpoint gets mean pooling (sentence-transformers adds it)."""

    batch_size = 64

    def __init__(self, spec: str, device: str = "auto") -> None:
        path = resolve_pretrained(spec, what="embedding model")
        device = resolve_device(device)  # before the try: a usage error, not a model that cannot load
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(path, device=device)
        except Exception as exc:
            raise ModelError(f"embedding model {spec!r}: cannot load: {exc}".splitlines()[0]) from exc
        # The resolved path (a hub snapshot carries its commit) and its mtime key the
        # embedding cache, so retrained weights in the same directory are not mixed up.
        import os

        self.name = f"st/{spec}@{os.path.realpath(path)}:{int(os.path.getmtime(path))}"
        self.path = path
        self.dim: int = self._model.get_embedding_dimension()

    def fingerprint(self) -> str:
        """Of every file of the model directory (see :func:`align.profile.weights_fingerprint`)."""
        from ..profile import model_files, weights_fingerprint

        return weights_fingerprint(self.path, model_files(self.path))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
