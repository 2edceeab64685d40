"""One table of translation-model families: how to recognise each from its files,
its codes for Kazakh, Russian and English, and how it is told the languages.

Engines read this table and never branch on a family's name, so adding a family
is adding a row. Recognition reads only ``config.json`` and
``tokenizer_config.json``: it costs no model load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from align.errors import ModelError

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = {"kk": "Kazakh", "ru": "Russian", "en": "English"}

# The fixed instruction for chat models: one sentence in, its translation out, nothing else.
PROMPT = ("Translate the following {src_name} text into {tgt_name}. Reply with the {tgt_name} "
          "translation only, without notes or explanations.\n\n{text}")


@dataclass(frozen=True)
class Family:
    """A model family.

    ``codes`` maps kk/ru/en to the model's language *token* (or, for chat
    models, the language name used in the prompt). ``source_prefix`` says which
    language token opens the source ("src", "tgt" or None); ``target_prefix``
    whether the target language token is forced as the first output token.
    ``optional_codes``: a missing token is not an error (a pair model such as
    OPUS-MT ru-en has none and translates one direction only).
    """

    name: str
    kind: str  # "seq2seq" or "causal"
    codes: dict[str, str]
    tokenizer_classes: tuple[str, ...] = ()
    model_types: tuple[str, ...] = ()
    source_prefix: str | None = None
    target_prefix: bool = False
    optional_codes: bool = False
    tokenizer_class: str | None = None  # load with this class when AutoTokenizer cannot
    ctranslate2: bool = True  # CTranslate2 can convert it
    max_length: int = 512  # input tokens the family was trained on, at most


FAMILIES: tuple[Family, ...] = (
    Family("nllb", "seq2seq", {"kk": "kaz_Cyrl", "ru": "rus_Cyrl", "en": "eng_Latn"},
           tokenizer_classes=("NllbTokenizer", "NllbTokenizerFast"),
           source_prefix="src", target_prefix=True),  # e.g. facebook/nllb-200-distilled-600M
    # SMaLL-100 reuses M2M100's files but puts the *target* code before the source.
    # CTranslate2's converter cannot load its tokenizer class, hence transformers only.
    Family("small100", "seq2seq", {"kk": "__kk__", "ru": "__ru__", "en": "__en__"},
           tokenizer_classes=("SMALL100Tokenizer",), source_prefix="tgt",
           tokenizer_class="M2M100Tokenizer", ctranslate2=False),  # e.g. alirezamsh/small100
    Family("m2m100", "seq2seq", {"kk": "__kk__", "ru": "__ru__", "en": "__en__"},
           tokenizer_classes=("M2M100Tokenizer",), model_types=("m2m_100",),
           source_prefix="src", target_prefix=True, max_length=1024),  # e.g. facebook/m2m100_418M
    # OPUS-MT: pair models need no token; multi-target ones read ">>xxx<<" first.
    Family("marian", "seq2seq", {"kk": ">>kaz<<", "ru": ">>rus<<", "en": ">>eng<<"},
           tokenizer_classes=("MarianTokenizer",), model_types=("marian",),
           source_prefix="tgt", optional_codes=True),  # e.g. Helsinki-NLP/opus-mt-ru-en
    Family("madlad", "seq2seq", {"kk": "<2kk>", "ru": "<2ru>", "en": "<2en>"},
           model_types=("t5", "mt5"), source_prefix="tgt"),  # e.g. google/madlad400-3b-mt
    Family("chat", "causal", {"kk": "Kazakh", "ru": "Russian", "en": "English"},
           ctranslate2=False, max_length=1024),  # e.g. Qwen/Qwen2.5-1.5B-Instruct
)
BY_NAME = {f.name: f for f in FAMILIES}


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable ({exc})") from None


def model_files(model_dir: str) -> tuple[dict, dict]:
    """(config.json, tokenizer_config.json) of a local model directory."""
    root = Path(model_dir)
    config = _json(root / "config.json")
    if not config:
        raise ModelError(f"{model_dir}: no config.json; not a transformers model directory")
    return config, _json(root / "tokenizer_config.json")


def detect_family(model_dir: str) -> Family:
    """The family of the model in ``model_dir``; the tokenizer class decides first
    because NLLB, M2M100 and SMaLL-100 share one architecture."""
    config, tok_config = model_files(model_dir)
    tokenizer = tok_config.get("tokenizer_class") or ""
    for family in FAMILIES:
        if tokenizer in family.tokenizer_classes:
            return family
    model_type = config.get("model_type", "")
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    if any(a.endswith("ForCausalLM") for a in config.get("architectures") or ()):
        return BY_NAME["chat"]
    raise ModelError(
        f"{model_dir}: cannot tell the translation model family (model_type {model_type!r}, "
        f"tokenizer {tokenizer or 'unknown'}); supported: {', '.join(f.name for f in FAMILIES)}")

