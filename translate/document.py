"""Translate sentences and documents without ever dropping text.

Sentences longer than the model's input limit are split further (at clause
punctuation, then between words, then inside a word) and their pieces'
translations joined, instead of being truncated. Units are translated in
length-sorted batches bounded by tokens (so padding stays small and one long
sentence cannot blow up memory), looked up in the cache first, and put back in
input order; a final check proves one translation per input sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from align.errors import ToolkitError
from align.split import Sentence, split_sentences
from align.text import Document

from .cache import TranslationCache

# Where a long sentence may be cut: after , ; : or before a spaced dash.
_CLAUSE = re.compile(r"(?<=[,;:])\s+|\s+(?=[\u2014\u2013-]\s)")


class IncompleteTranslation(ToolkitError):
    """The engine gave back fewer or more translations than it was given sentences."""


@dataclass
class Stats:
    sentences: int = 0
    pieces: int = 0  # units sent to the model or the cache (> sentences when some were split)
    split: int = 0  # sentences longer than the model's limit
    cached: int = 0
    translated: int = 0
    empty: int = 0  # non-empty sentences whose translation came back empty

    def add(self, other: "Stats") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _pack(parts: Sequence[str], fits: Callable[[str], bool], deeper: Callable[[str], list[str]]) -> list[str]:
    """Greedily join ``parts`` with spaces into pieces that fit; a part that does
    not fit alone is handed to ``deeper``."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}" if current else part
        if fits(candidate):
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        if fits(part):
            current = part
        else:
            pieces.extend(deeper(part))
    if current:
        pieces.append(current)
    return pieces


def _characters(word: str, fits: Callable[[str], bool]) -> list[str]:
    pieces, current = [], ""
    for ch in word:
        if current and not fits(current + ch):
            pieces.append(current)
            current = ""
        current += ch
    return pieces + [current] if current else pieces


def split_long(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """``text`` as pieces of at most ``limit`` tokens: at clause punctuation first,
    then between words, then inside an overlong word. Only spacing may change."""
    def fits(piece: str) -> bool:
        return count(piece) <= limit

    if fits(text):
        return [text]

    def by_words(clause: str) -> list[str]:
        return _pack(clause.split(), fits, lambda word: _characters(word, fits))

    return _pack([c for c in _CLAUSE.split(text) if c.strip()], fits, by_words)


def token_batches(lengths: Sequence[int], batch_tokens: int) -> list[list[int]]:
    """Indices grouped longest first so that (batch size x longest) <= batch_tokens;
    a unit longer than batch_tokens goes alone."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if current and (len(current) + 1) * lengths[current[0]] > batch_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def check_one_per_input(sources: Sequence[str], translations: Sequence[str | None]) -> None:
    """The guarantee users rely on: exactly one translation per sentence, none missing."""
    if len(translations) != len(sources):
        raise IncompleteTranslation(f"{len(sources)} sentences in but {len(translations)} translations out")
    missing = [i for i, out in enumerate(translations) if out is None]
    if missing:
        raise IncompleteTranslation(f"{len(missing)} sentences were not translated (first: #{missing[0] + 1})")


def translate_texts(texts: Sequence[str], src: str, tgt: str, translator, *,
                    cache: TranslationCache | None = None, batch_tokens: int = 2048,
                    progress=None, stats: Stats | None = None) -> list[str]:
    """One translation per text, in order. Blank texts translate to ""; repeated
    pieces are translated once. ``progress`` is a tqdm-like bar (reset/update)."""
    stats = stats if stats is not None else Stats()
    stats.sentences += len(texts)
    count = lambda s: translator.count_tokens([s])[0]  # noqa: E731 - used only for overlong ones
    lengths = translator.count_tokens(texts) if texts else []
    owners: list[int] = []
    pieces: list[str] = []
    for i, (text, length) in enumerate(zip(texts, lengths)):
        if not text.strip():
            continue
        parts = [text.strip()] if length <= translator.max_length else split_long(
            text.strip(), count, translator.max_length)
        stats.split += len(parts) > 1
        pieces += parts
        owners += [i] * len(parts)
    stats.pieces += len(pieces)

    unique = list(dict.fromkeys(pieces))
    model_key = cache.model_key(translator) if cache else ""
    done = cache.get(model_key, src, tgt, unique) if cache else {}
    stats.cached += sum(1 for p in pieces if p in done)
    todo = [p for p in unique if p not in done]
    if progress is not None:
        progress.reset(total=len(pieces))
        progress.update(sum(1 for p in pieces if p in done))
    todo_lengths = translator.count_tokens(todo) if todo else []
    for batch in token_batches(todo_lengths, batch_tokens):
        sources = [todo[i] for i in batch]
        outputs = translator.translate(sources, src, tgt)
        check_one_per_input(sources, outputs)
        done.update(zip(sources, outputs))
        if cache:
            cache.put(model_key, src, tgt, sources, outputs)
        stats.translated += len(sources)
        if progress is not None:
            finished = set(sources)
            progress.update(sum(1 for p in pieces if p in finished))

    joined: list[list[str]] = [[] for _ in texts]
    for owner, piece in zip(owners, pieces):
        joined[owner].append(done[piece])
    translations = [" ".join(t for t in parts if t) if texts[i].strip() else "" for i, parts in enumerate(joined)]
    stats.empty += sum(1 for s, t in zip(texts, translations) if s.strip() and not t)
    check_one_per_input(texts, translations)
    return translations


@dataclass(frozen=True)
class TranslatedDocument:
    """A document, its sentences (with offsets) and one translation per sentence."""

    path: str
    text: str
    src: str
    tgt: str
    sentences: tuple[Sentence, ...]
    translations: tuple[str, ...]
    model: str
    engine: str
    stats: Stats = field(default_factory=Stats, compare=False)

    def layout_text(self) -> str:
        """The document with each sentence replaced by its translation; everything
        between sentences (line and paragraph breaks, stray symbols) is kept as is."""
        parts, position = [], 0
        for sentence, translation in zip(self.sentences, self.translations):
            parts += [self.text[position:sentence.start], translation]
            position = sentence.end
        parts.append(self.text[position:])
        return "".join(parts)


def translate_document(doc: Document, src: str, tgt: str, translator, **options) -> TranslatedDocument:
    """Split ``doc`` with the project's splitter and translate every sentence."""
    sentences = tuple(split_sentences(doc.text, src if src in ("kk", "ru") else "ru"))
    stats = Stats()
    translations = translate_texts([s.text for s in sentences], src, tgt, translator, stats=stats, **options)
    return TranslatedDocument(doc.path, doc.text, src, tgt, sentences, tuple(translations),
                              translator.name, translator.engine, stats)
