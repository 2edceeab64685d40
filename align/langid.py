"""Which language is a document or sentence in: Kazakh, Russian, or something else.

Kazakh Cyrillic has nine letters Russian lacks (ә ғ қ ң ө ұ ү һ і); their
share decides most cases at no cost. Short or letter-poor text falls back to
lingua restricted to the few languages we expect. Kazakh in the 2021 Latin
alphabet is recognised and reported, not mistaken for noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

KAZAKH_CYRILLIC = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
# Letters of the Kazakh Latin alphabets (2018 and 2021) that English, Russian
# translit and most Western European text do not use together.
KAZAKH_LATIN = set("äğñöūüşıǵńúýáÄĞÑÖŪÜŞIǴŃÚÝÁ") - {"I"}
_LATIN_KK_WORDS = re.compile(r"\b(jäne|men|üşin|bolyp|qazaqstan|respublikasy|bіr|degen|osy|bul)\b", re.I)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


@dataclass(frozen=True)
class LanguageGuess:
    """``lang`` is an ISO 639-1 code ('kk', 'ru', 'en', ...) or 'unknown'."""

    lang: str
    confidence: float
    script: str  # 'Cyrl', 'Latn' or 'none'
    note: str = ""


@lru_cache(maxsize=1)
def _lingua():
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.KAZAKH, Language.RUSSIAN, Language.ENGLISH, Language.UKRAINIAN,
                 Language.TURKISH, Language.GERMAN, Language.FRENCH]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _lingua_guess(text: str, script: str) -> LanguageGuess:
    values = _lingua().compute_language_confidence_values(text)
    if not values:
        return LanguageGuess("unknown", 0.0, script)
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    return LanguageGuess(code, float(top.value), script)


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of a document or sentence."""
    sample = text[:20000]
    cyr = len(_CYRILLIC.findall(sample))
    lat = len(_LATIN.findall(sample))
    if cyr + lat < 3:
        return LanguageGuess("unknown", 0.0, "none")
    if cyr >= lat:
        kk_letters = sum(ch in KAZAKH_CYRILLIC for ch in sample)
        share = kk_letters / cyr
        # Kazakh prose has ~6-10% specific letters; one per ~60 letters is decisive.
        if share >= 0.015 and kk_letters >= 2:
            return LanguageGuess("kk", min(1.0, 0.9 + share), "Cyrl")
        if cyr >= 200 and kk_letters == 0:
            return LanguageGuess("ru", 0.99, "Cyrl")
        return _lingua_guess(sample, "Cyrl")
    kk_latin = sum(ch in KAZAKH_LATIN for ch in sample)
    if (kk_latin / lat >= 0.02 and ("ñ" in sample.lower() or "ū" in sample.lower() or "q" in sample.lower())) \
            or len(_LATIN_KK_WORDS.findall(sample)) >= 3:
        return LanguageGuess("kk", 0.8, "Latn", "Kazakh in Latin script")
    return _lingua_guess(sample, "Latn")


def sentence_languages(sentences: list[str]) -> list[str]:
    """Per-sentence language codes ('unknown' for too little text)."""
    return [detect_language(s).lang for s in sentences]


def foreign_sentences(sentences: list[str], expected: str, min_letters: int = 20) -> list[int]:
    """Indices of sentences confidently in another language than ``expected``."""
    flagged = []
    for i, sentence in enumerate(sentences):
        if len(_CYRILLIC.findall(sentence)) + len(_LATIN.findall(sentence)) < min_letters:
            continue
        guess = detect_language(sentence)
        if guess.lang not in ("unknown", expected) and guess.confidence >= 0.7:
            flagged.append(i)
    return flagged


__all__ = ["LanguageGuess", "detect_language", "sentence_languages", "foreign_sentences"]
