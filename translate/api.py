"""The one-call Python API for translation: strings in, strings (or a typed document) out.

    from translate import translate_texts
    english = translate_texts(["Бүгін күн жылы."], src="kk")           # default NLLB-200 model
    english = translate_texts(sentences, src="ru", model="./my-nllb")   # any supported model

A translator is loaded once per process and shared (``load_translator`` for
full control). Translations are cached on disk like the ``translate`` command's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from .engines import DEFAULT_MODEL, Translator, load_translator


@lru_cache(maxsize=4)
def default_translator(model: str = DEFAULT_MODEL, engine: str = "auto", device: str = "auto") -> Translator:
    """The translator ``model``, loaded once per process."""
    return load_translator(model, engine=engine, device=device)


@lru_cache(maxsize=1)
def _cache():
    from .cache import TranslationCache

    return TranslationCache()


def translate_texts(texts: Sequence[str], src: str, tgt: str = "en", *, translator: Translator | None = None,
                    model: str = DEFAULT_MODEL, cache: bool = True, batch_tokens: int = 2048) -> list[str]:
    """One translation per text, in order (blank texts give ""; overlong ones are cut
    at clause punctuation, never truncated). ``src``/``tgt``: ``kk``, ``ru`` or ``en``."""
    from .document import translate_texts as translate_batched

    if isinstance(texts, str):
        raise TypeError("translate_texts takes a list of texts; use translate_document for one document")
    return translate_batched(list(texts), src, tgt, translator or default_translator(model),
                             cache=_cache() if cache else None, batch_tokens=batch_tokens)


def translate_document(text: str, src: str | None = None, tgt: str = "en", *, translator: Translator | None = None,
                       model: str = DEFAULT_MODEL, cache: bool = True):
    """Translate a whole document (a string), split into sentences with the project's
    splitter; the result keeps the offsets and gives ``layout_text()`` (paragraphs kept).
    ``src`` is detected (Kazakh or Russian) when not given."""
    from align.pipeline import document_language
    from align.text import Document, normalise

    from .document import translate_document as translate_read_document

    doc = Document("<text>", normalise(text), "utf-8")
    src = src or document_language(doc, None, "source", lambda m: None, option="src='kk' or src='ru'")
    return translate_read_document(doc, src, tgt, translator or default_translator(model),
                                   cache=_cache() if cache else None)


__all__ = ["translate_texts", "translate_document", "default_translator", "load_translator"]
