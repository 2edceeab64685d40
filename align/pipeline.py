"""Align one document pair: a pure function, so batch jobs and cluster workers
can call it with a model loaded once per worker.

read → detect languages → split (or take presplit lines) → align → Alignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .beads import Alignment
from .errors import InputError
from .langid import detect_language, foreign_sentences
from .search import AlignConfig, align_sentences
from .split import split_sentences
from .text import Document

SPLIT_LANGS = ("kk", "ru")


@dataclass(frozen=True)
class AlignOptions:
    """Per-run settings; ``None`` languages are detected from the text."""

    src_lang: str | None = None
    tgt_lang: str | None = None
    presplit: bool = False
    config: AlignConfig = field(default_factory=AlignConfig)


def _nowarn(message: str) -> None:
    pass


def document_language(doc: Document, given: str | None, role: str, warn: Callable[[str], None]) -> str:
    """The language to use for ``doc``: the given one (checked) or the detected one."""
    guess = detect_language(doc.text)
    if guess.note:
        warn(f"{doc.path}: {guess.note}")
    if given is None:
        if guess.lang == "unknown":
            raise InputError(doc.path, "no letters to detect a language from; pass --src-lang/--tgt-lang")
        if guess.lang not in SPLIT_LANGS:
            warn(f"{doc.path}: looks like neither Kazakh nor Russian (detected {guess.lang!r})")
        return guess.lang
    if guess.lang in SPLIT_LANGS and given in SPLIT_LANGS and guess.lang != given:
        warn(f"{doc.path}: given as {role} language {given!r} but the text looks {guess.lang!r} — swapped files?")
    return given


def document_sentences(doc: Document, lang: str, presplit: bool) -> list[str]:
    if presplit:
        return doc.lines
    return [s.text for s in split_sentences(doc.text, lang if lang in SPLIT_LANGS else "ru")]


def align_documents(src_doc: Document, tgt_doc: Document, encoder, options: AlignOptions = AlignOptions(),
                    warn: Callable[[str], None] = _nowarn) -> Alignment:
    """Align two read documents with ``encoder``; warnings go to ``warn``."""
    src_lang = document_language(src_doc, options.src_lang, "source", warn)
    tgt_lang = document_language(tgt_doc, options.tgt_lang, "target", warn)
    if src_lang == tgt_lang and options.src_lang is None and options.tgt_lang is None:
        warn(f"both documents look {src_lang!r}: is one of them the wrong file?")
    src = document_sentences(src_doc, src_lang, options.presplit)
    tgt = document_sentences(tgt_doc, tgt_lang, options.presplit)
    info = {
        "src_path": src_doc.path, "tgt_path": tgt_doc.path,
        "src_encoding": src_doc.encoding, "tgt_encoding": tgt_doc.encoding,
        "model": encoder.name,
    }
    for role, doc, sentences, lang in (("src", src_doc, src, src_lang), ("tgt", tgt_doc, tgt, tgt_lang)):
        foreign = foreign_sentences(sentences, lang) if lang in SPLIT_LANGS else []
        if foreign:
            warn(f"{doc.path}: {len(foreign)} sentence(s) not in {lang!r}, "
                 f"e.g. #{foreign[0]}: {sentences[foreign[0]][:60]!r}")
        info[f"{role}_foreign"] = foreign
    result = align_sentences(src, tgt, encoder, options.config)
    info.update(result.stats)
    return Alignment(tuple(src), tuple(tgt), result.beads, src_lang, tgt_lang, info)
