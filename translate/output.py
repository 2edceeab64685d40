"""Writers for translated documents and bitext: plain text, TSV, JSONL and TMX.

Plain text keeps the document's layout; TSV gives one sentence (or pair) per line
with its translation; JSONL keeps, per sentence, the source, its offsets, the
translation and the model; TMX (align's writer) puts every language of a unit
in one <tu> (kk, ru and en for aligned bitext).

Each format is one :class:`OutputFormat` entry in :data:`FORMATS`, from which
``translate -f``, its help, the format chosen by ``-o``'s suffix and the names of
``--batch`` outputs come. It is a registry of its own, not ``align.formats``'s:
a translation format writes a translated document and a translated bitext, two
writers that take other inputs than an alignment, and there is nothing to read back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from align.formats import TmxUnit, TmxVariant, one_line, render_tmx

from .bitext import TranslatedBitext
from .document import TranslatedDocument

_TOOL = "kkru translate"


@dataclass(frozen=True)
class OutputFormat:
    """One output format of ``translate``."""

    name: str
    suffix: str  # of a --batch output, and what -o's suffix chooses
    help: str  # what `-f NAME` writes, as `translate --help` lists it
    document: Callable[[TranslatedDocument], str]
    bitext: Callable[[TranslatedBitext], str]
    other_suffixes: tuple[str, ...] = ()  # more -o suffixes that choose this format


def _tsv(rows) -> str:
    return "".join("\t".join(one_line(cell) for cell in row) + "\n" for row in rows)


def _jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _document_text(doc: TranslatedDocument) -> str:
    text = doc.layout_text()
    return text if text.endswith("\n") else text + "\n"


def _document_tsv(doc: TranslatedDocument) -> str:
    return _tsv((s.text, t) for s, t in zip(doc.sentences, doc.translations))


def _document_jsonl(doc: TranslatedDocument) -> str:
    return _jsonl({"index": i, "paragraph": s.paragraph, "start": s.start, "end": s.end,
                   "source": s.text, "translation": t, "src_lang": doc.src, "tgt_lang": doc.tgt,
                   "model": doc.model, "engine": doc.engine}
                  for i, (s, t) in enumerate(zip(doc.sentences, doc.translations)))


def _document_tmx(doc: TranslatedDocument) -> str:
    units = (TmxUnit((TmxVariant(doc.src, s.text), TmxVariant(doc.tgt, t)),
                     (("x-paragraph", str(s.paragraph)), ("x-model", doc.model)))
             for s, t in zip(doc.sentences, doc.translations))
    return render_tmx(units, doc.src, _TOOL)


def _bitext_tsv(bitext: TranslatedBitext) -> str:
    """Triples: both aligned sides plus the translation; with two translated sides
    the second one is ``<tgt>_from_<side>``."""
    columns = bitext.columns()
    return _tsv([row[c] for c in columns] for row in bitext.records())


def _bitext_jsonl(bitext: TranslatedBitext) -> str:
    return _jsonl(bitext.records())


def _bitext_tmx(bitext: TranslatedBitext) -> str:
    """Every translation is a <tuv> of its own, marked with the side it was translated
    from (``x-source``)."""
    units = []
    for i, (a, b, score) in enumerate(bitext.rows):
        english = tuple(TmxVariant(bitext.tgt, bitext.translations[side][i], (("x-source", side),))
                        for side in bitext.sides)
        props = (("x-score", f"{score:.4f}"),) if score is not None else ()
        units.append(TmxUnit((TmxVariant(bitext.langs[0], a), TmxVariant(bitext.langs[1], b), *english), props))
    return render_tmx(units, bitext.langs[0], _TOOL)


FORMATS: dict[str, OutputFormat] = {f.name: f for f in (
    # Aligned pairs have no layout to keep: their text is TSV.
    OutputFormat("text", ".txt", "the document with its layout (for --aligned: TSV columns)",
                 _document_text, _bitext_tsv),
    OutputFormat("tsv", ".tsv", "one sentence and its translation per line (for --aligned: the pair and its "
                 "translations)", _document_tsv, _bitext_tsv),
    OutputFormat("jsonl", ".jsonl", "one record per sentence (or pair) with offsets, translation and model",
                 _document_jsonl, _bitext_jsonl, other_suffixes=(".json",)),
    OutputFormat("tmx", ".tmx", "TMX 1.4, every language of a unit in one <tu>", _document_tmx, _bitext_tmx),
)}


def format_for_output(path: str | None) -> str:
    """The format an output file's suffix asks for; text when it asks for none."""
    suffix = Path(path).suffix.lower() if path else ""
    return next((f.name for f in FORMATS.values() if suffix and suffix in (f.suffix, *f.other_suffixes)), "text")


def format_help() -> str:
    """``translate -f``'s help, listing every registered format."""
    return "; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()) + ". Default: from -o's suffix, else text."


def render_document(doc: TranslatedDocument, fmt: str) -> str:
    return FORMATS[fmt].document(doc)


def render_bitext(bitext: TranslatedBitext, fmt: str) -> str:
    return FORMATS[fmt].bitext(bitext)
