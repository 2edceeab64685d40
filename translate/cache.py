"""On-disk translation cache keyed by (model, engine settings, languages, source text).

Re-translating a corpus after a crash, or with another output format, then
costs no model call. One SQLite file beside the embedding cache
(``~/.cache/kkru`` or ``$KKRU_CACHE``); WAL mode lets parallel runs share it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Sequence

from align.encoders.cache import default_cache_dir


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class TranslationCache:
    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        directory = Path(directory) if directory else default_cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "translations.sqlite"
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tr (model TEXT, pair TEXT, key BLOB, translation TEXT, "
                         "PRIMARY KEY (model, pair, key))")

    @staticmethod
    def model_key(translator) -> str:
        """Model name, its files' fingerprint and every setting that changes the output."""
        return f"{translator.name}@{translator.fingerprint}|{translator.settings}"

    def get(self, model: str, src: str, tgt: str, texts: Sequence[str]) -> dict[str, str]:
        by_key = {_key(t): t for t in texts}
        keys = list(by_key)
        found: dict[str, str] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._db.execute(
                f"SELECT key, translation FROM tr WHERE model = ? AND pair = ? AND key IN ({','.join('?' * len(chunk))})",
                [model, f"{src}-{tgt}", *chunk])
            found.update((by_key[key], translation) for key, translation in rows)
        return found

    def put(self, model: str, src: str, tgt: str, texts: Sequence[str], translations: Sequence[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO tr VALUES (?, ?, ?, ?)",
                                 [(model, f"{src}-{tgt}", _key(t), out) for t, out in zip(texts, translations)])

    def close(self) -> None:
        self._db.close()
