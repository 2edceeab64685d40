"""Writers for translated documents and bitext: plain text, JSONL and TMX.

Plain text keeps the document's layout; JSONL keeps, per sentence, the source,
its offsets, the translation and the model; TMX puts every language of a unit
in one <tu> (kk, ru and en for aligned bitext).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from align import __version__

from .bitext import TranslatedBitext
from .document import TranslatedDocument

FORMATS = ("text", "jsonl", "tmx")
SUFFIX = {"text": ".txt", "jsonl": ".jsonl", "tmx": ".tmx"}

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _BREAKS.sub(" ", text)


def tmx(units: list[list[tuple[str, str]]], srclang: str, props: list[dict[str, str]]) -> str:
    """A TMX 1.4 document: one <tu> per unit of (lang, text) variants, with <prop>s."""
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {"creationtool": "kkru translate", "creationtoolversion": __version__,
                                   "datatype": "plaintext", "segtype": "sentence", "adminlang": "en",
                                   "srclang": srclang, "o-tmf": "kkru"})
    body = ET.SubElement(root, "body")
    for variants, unit_props in zip(units, props):
        tu = ET.SubElement(body, "tu")
        for name, value in unit_props.items():
            ET.SubElement(tu, "prop", type=name).text = _NOT_XML.sub("", _one_line(value))
        for lang, text in variants:
            tuv = ET.SubElement(tu, "tuv", {_XML_LANG: lang})
            ET.SubElement(tuv, "seg").text = _NOT_XML.sub("", _one_line(text))
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def _jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def render_document(doc: TranslatedDocument, fmt: str) -> str:
    if fmt == "text":
        text = doc.layout_text()
        return text if text.endswith("\n") else text + "\n"
    if fmt == "jsonl":
        return _jsonl({"index": i, "paragraph": s.paragraph, "start": s.start, "end": s.end,
                       "source": s.text, "translation": t, "src_lang": doc.src, "tgt_lang": doc.tgt,
                       "model": doc.model, "engine": doc.engine}
                      for i, (s, t) in enumerate(zip(doc.sentences, doc.translations)))
    units = [[(doc.src, s.text), (doc.tgt, t)] for s, t in zip(doc.sentences, doc.translations)]
    props = [{"x-paragraph": str(s.paragraph), "x-model": doc.model} for s in doc.sentences]
    return tmx(units, doc.src, props)


def render_bitext(bitext: TranslatedBitext, fmt: str) -> str:
    """Triples: both aligned sides plus the translation; with two translated
    sides the second one is ``<tgt>_from_<side>`` (a TMX <prop> there)."""
    columns = bitext.columns()
    if fmt == "text":
        return "".join("\t".join(_one_line(row[c]) for c in columns) + "\n" for row in bitext.records())
    if fmt == "jsonl":
        return _jsonl(bitext.records())
    a, b = bitext.langs
    units, props = [], []
    for row in bitext.records():
        units.append([(a, row[a]), (b, row[b]), (bitext.tgt, row[bitext.tgt])])
        extra = {"x-score": f"{row['score']:.4f}"} if row.get("score") is not None else {}
        extra[f"x-{bitext.tgt}-source"] = bitext.sides[0]
        if len(bitext.sides) == 2:
            extra[f"x-{bitext.tgt}-from-{bitext.sides[1]}"] = row[columns[-1]]
        props.append(extra)
    return tmx(units, a, props)
