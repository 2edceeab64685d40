"""Add English to aligned bitext: kk-ru pairs in, kk-ru-en triples out.

The languages of the two columns come from the file where it says (the JSONL
meta line, TMX language tags, the Parquet bitext's language columns) and are
detected from the text otherwise. A
segment may hold several sentences (a 2-1 bead): it is split, translated
sentence by sentence and joined, so nothing is truncated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from align.errors import InputError, UsageError
from align.formats import read_bitext, read_languages
from align.langid import detect_language
from align.split import split_sentences

from .document import Stats, translate_texts

_ISO3 = {"kaz": "kk", "rus": "ru", "eng": "en"}


def _lang(code: str | None) -> str | None:
    """'kk', 'kk-KZ', 'kaz', 'kaz_Cyrl', 'KK' -> 'kk'."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return _ISO3.get(base, base)


def bitext_languages(path: str | Path, rows: list[tuple[str, str, float | None]],
                     fmt: str | None = None) -> tuple[str, str]:
    """(language of column 1, language of column 2) as kk/ru/en codes: as the file
    states them (align's reader), else detected from the text."""
    declared = read_languages(path, fmt)
    langs = [_lang(lang) or detect_language(" ".join(r[k] for r in rows[:200])).lang
             for k, lang in enumerate(declared)]
    if langs[0] == langs[1]:
        raise InputError(path, f"both columns look {langs[0]!r}; expected a Kazakh and a Russian side")
    return langs[0], langs[1]


@dataclass(frozen=True)
class TranslatedBitext:
    path: str
    langs: tuple[str, str]
    rows: tuple[tuple[str, str, float | None], ...]
    tgt: str
    sides: tuple[str, ...]  # translated sides, in the order kk, ru
    translations: dict[str, tuple[str, ...]]
    model: str
    engine: str
    stats: Stats = field(default_factory=Stats, compare=False)

    def columns(self) -> list[str]:
        extra = [f"{self.tgt}_from_{side}" for side in self.sides[1:]]
        return [*self.langs, self.tgt, *extra]

    def records(self) -> list[dict]:
        """One dict per pair: the two sides, ``<tgt>`` (from the first translated
        side), ``<tgt>_from_<side>`` for a second one, ``<tgt>_source`` and the score."""
        records = []
        for i, (a, b, score) in enumerate(self.rows):
            record = {self.langs[0]: a, self.langs[1]: b, self.tgt: self.translations[self.sides[0]][i]}
            for side in self.sides[1:]:
                record[f"{self.tgt}_from_{side}"] = self.translations[side][i]
            record[f"{self.tgt}_source"] = self.sides[0]
            record["score"] = None if score is None else round(score, 4)  # 4 decimals, as align writes
            records.append(record)
        return records


def _translate_segments(segments: list[str], lang: str, tgt: str, translator, stats: Stats, **options) -> list[str]:
    """Split each segment into sentences, translate them all together, join per segment."""
    owners, sentences = [], []
    for i, segment in enumerate(segments):
        for sentence in split_sentences(segment, lang if lang in ("kk", "ru") else "ru"):
            owners.append(i)
            sentences.append(sentence.text)
    outputs = translate_texts(sentences, lang, tgt, translator, stats=stats, **options)
    joined: list[list[str]] = [[] for _ in segments]
    for owner, output in zip(owners, outputs):
        joined[owner].append(output)
    return [" ".join(t for t in parts if t) for parts in joined]


@dataclass(frozen=True)
class AlignedFile:
    path: str
    rows: tuple[tuple[str, str, float | None], ...]
    langs: tuple[str, str]

    def sides(self, side: str) -> tuple[str, ...]:
        """The sides ``side`` ("kk", "ru" or "both") names, checked against the file."""
        sides = tuple(s for s in ("kk", "ru") if side in (s, "both"))
        for s in sides:
            if s not in self.langs:
                raise UsageError(f"{self.path}: has no {s!r} side (its columns are {self.langs[0]} "
                                 f"and {self.langs[1]})")
        return sides


def _read_parquet(path: str | Path) -> AlignedFile:
    """Pairs of a Parquet bitext (``align --bitext-out`` shards or one file), in its order,
    each turned so that its columns are in the language pair most rows have, in that
    order (a pair whose files were given the other way round is swapped back); a pair in
    other languages is an error naming it."""
    from align.bitext import read_bitext as read_parquet

    table = read_parquet(path, ["doc_id", "src_text", "tgt_text", "score", "src_lang", "tgt_lang"])
    if not len(table):
        raise InputError(path, "holds no aligned pairs")
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    pairs = [(_lang(a), _lang(b)) for a, b in zip(columns["src_lang"], columns["tgt_lang"])]
    langs = Counter(pairs).most_common(1)[0][0]  # a tie goes to the pair seen first
    if langs[0] == langs[1]:
        raise InputError(path, f"both columns are {langs[0]!r}; expected a Kazakh and a Russian side")
    rows = []
    for doc, a, b, score, pair in zip(columns["doc_id"], columns["src_text"], columns["tgt_text"],
                                      columns["score"], pairs):
        if pair not in (langs, langs[::-1]):
            raise InputError(path, f"document {doc} is {pair[0]}-{pair[1]}, the others {langs[0]}-{langs[1]}: "
                                   f"leave it out first")
        rows.append((a, b, score) if pair == langs else (b, a, score))
    return AlignedFile(str(path), tuple(rows), langs)


def read_aligned(path: str | Path, fmt: str | None = None) -> AlignedFile:
    """Pairs of an alignment file (tsv, jsonl or tmx), of a Parquet bitext (a folder of
    ``align --bitext-out`` shards or a ``.parquet`` file), and the languages of its columns."""
    if fmt is None and (Path(path).is_dir() or Path(path).suffix.lower() == ".parquet"):
        return _read_parquet(path)
    rows = read_bitext(path, fmt)
    if not rows:
        raise InputError(path, "holds no aligned pairs")
    return AlignedFile(str(path), tuple(rows), bitext_languages(path, rows, fmt))


def translate_bitext(aligned: AlignedFile, side: str, tgt: str, translator, **options) -> TranslatedBitext:
    """Translate the ``side`` ("kk", "ru" or "both") of an alignment into ``tgt``."""
    sides = aligned.sides(side)
    stats = Stats()
    translations = {s: tuple(_translate_segments([r[aligned.langs.index(s)] for r in aligned.rows], s, tgt,
                                                 translator, stats, **options)) for s in sides}
    return TranslatedBitext(aligned.path, aligned.langs, aligned.rows, tgt, sides, translations,
                            translator.name, translator.engine, stats)
