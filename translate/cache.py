"""On-disk translation cache keyed by (model, engine settings, languages, source text).

Re-translating a corpus after a crash, or with another output format, then
costs no model call. One SQLite file beside the embedding cache
(``~/.cache/kkru`` or ``$KKRU_CACHE``); WAL mode lets parallel runs share it.
:class:`align.cachestore.CacheStore` checks what is read: a damaged entry is
translated again, a damaged file moved aside.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from align.cachestore import CacheStore, Table, Warn, default_cache_dir, silent, text_key

# Rows written before checksums (table ``tr``) are still read, checked by value.
TRANSLATIONS = Table("translations", scope=("model", "pair"), value="translation", value_type="TEXT", legacy="tr")


def _is_text(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class TranslationCache:
    def __init__(self, directory: str | os.PathLike | None = None, warn: Warn = silent) -> None:
        directory = Path(directory) if directory else default_cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "translations.sqlite"
        self._store = CacheStore(self.path, TRANSLATIONS, warn)

    @staticmethod
    def model_key(translator) -> str:
        """Model name, its files' fingerprint and every setting that changes the output."""
        return f"{translator.name}@{translator.fingerprint}|{translator.settings}"

    def get(self, model: str, src: str, tgt: str, texts: Sequence[str]) -> dict[str, str]:
        by_key = {text_key(t): t for t in texts}
        found = self._store.get([model, f"{src}-{tgt}"], by_key, _is_text)
        return {by_key[key]: value.decode("utf-8") for key, value in found.items()}

    def put(self, model: str, src: str, tgt: str, texts: Sequence[str], translations: Sequence[str]) -> None:
        self._store.put([model, f"{src}-{tgt}"], [(text_key(t), out) for t, out in zip(texts, translations)])

    def close(self) -> None:
        self._store.close()
