"""On-disk embedding cache keyed by (model name, text hash).

Re-aligning a document, or benchmarking several aligner settings on the same
data, then costs no model call. SQLite gives atomic, concurrent-safe writes
with no extra dependency.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np


def default_cache_dir() -> Path:
    base = os.environ.get("KKRU_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kkru")
    return Path(base)


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingStore:
    """A SQLite table of float32 vectors; one file for all models.

    ``persistent=False`` keeps the table in memory: no disk cache, but texts
    repeated within one run (and batches pre-embedded across documents) are
    still embedded once.
    """

    def __init__(self, directory: str | os.PathLike | None = None, persistent: bool = True) -> None:
        if persistent:
            directory = Path(directory) if directory else default_cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self.path = str(directory / "embeddings.sqlite")
        else:
            self.path = ":memory:"
        self._db = sqlite3.connect(self.path, timeout=60)
        if persistent:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS emb (model TEXT, key BLOB, vec BLOB, PRIMARY KEY (model, key))")

    def get(self, model: str, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        keys = list({_key(t) for t in texts})
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._db.execute(
                f"SELECT key, vec FROM emb WHERE model = ? AND key IN ({','.join('?' * len(chunk))})",
                [model, *chunk])
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                [(model, _key(t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                 for t, v in zip(texts, vectors)])


class CachedEncoder:
    """Encoder wrapper: look up every text, embed only the missing ones, store them."""

    def __init__(self, encoder, store: EmbeddingStore) -> None:
        self.encoder = encoder
        self.store = store
        self.name = encoder.name
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        found = self.store.get(self.name, texts)
        missing = list(dict.fromkeys(t for t in texts if _key(t) not in found))
        if missing:
            vectors = self.encoder.encode(missing)
            self.store.put(self.name, missing, vectors)
            found.update({_key(t): v for t, v in zip(missing, vectors)})
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if not texts:
            return self.encoder.encode([])
        return np.stack([found[_key(t)] for t in texts]).astype(np.float32, copy=False)
