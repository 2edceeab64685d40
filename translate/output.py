"""Writers for translated documents and bitext: plain text, TSV, JSONL and TMX.

Plain text keeps the document's layout; TSV gives one sentence (or pair) per line
with its translation; JSONL keeps, per sentence, the source, its offsets, the
translation and the model; TMX (align's writer) puts every language of a unit
in one <tu> (kk, ru and en for aligned bitext).
"""

from __future__ import annotations

import json
import re

from align.formats import TmxUnit, TmxVariant, render_tmx

from .bitext import TranslatedBitext
from .document import TranslatedDocument

FORMATS = ("text", "tsv", "jsonl", "tmx")
SUFFIX = {"text": ".txt", "tsv": ".tsv", "jsonl": ".jsonl", "tmx": ".tmx"}

_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_TOOL = "kkru translate"


def _one_line(text: str) -> str:
    return _BREAKS.sub(" ", text)


def _tsv(rows) -> str:
    return "".join("\t".join(_one_line(cell) for cell in row) + "\n" for row in rows)


def _jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def render_document(doc: TranslatedDocument, fmt: str) -> str:
    if fmt == "text":
        text = doc.layout_text()
        return text if text.endswith("\n") else text + "\n"
    if fmt == "tsv":
        return _tsv((s.text, t) for s, t in zip(doc.sentences, doc.translations))
    if fmt == "jsonl":
        return _jsonl({"index": i, "paragraph": s.paragraph, "start": s.start, "end": s.end,
                       "source": s.text, "translation": t, "src_lang": doc.src, "tgt_lang": doc.tgt,
                       "model": doc.model, "engine": doc.engine}
                      for i, (s, t) in enumerate(zip(doc.sentences, doc.translations)))
    units = (TmxUnit((TmxVariant(doc.src, s.text), TmxVariant(doc.tgt, t)),
                     (("x-paragraph", str(s.paragraph)), ("x-model", doc.model)))
             for s, t in zip(doc.sentences, doc.translations))
    return render_tmx(units, doc.src, _TOOL)


def render_bitext(bitext: TranslatedBitext, fmt: str) -> str:
    """Triples: both aligned sides plus the translation; with two translated sides
    the second one is ``<tgt>_from_<side>``. In TMX every translation is a <tuv> of
    its own, marked with the side it was translated from (``x-source``)."""
    columns = bitext.columns()
    if fmt in ("text", "tsv"):  # aligned pairs have no layout to keep: text is TSV
        return _tsv([row[c] for c in columns] for row in bitext.records())
    if fmt == "jsonl":
        return _jsonl(bitext.records())
    units = []
    for i, (a, b, score) in enumerate(bitext.rows):
        english = tuple(TmxVariant(bitext.tgt, bitext.translations[side][i], (("x-source", side),))
                        for side in bitext.sides)
        props = (("x-score", f"{score:.4f}"),) if score is not None else ()
        units.append(TmxUnit((TmxVariant(bitext.langs[0], a), TmxVariant(bitext.langs[1], b), *english), props))
    return render_tmx(units, bitext.langs[0], _TOOL)
