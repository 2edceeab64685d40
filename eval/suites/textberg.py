"""Hand-aligned sentence-alignment golds in Vecalign's ``[i, j]:[k]`` format: Text+Berg de-fr
(the Bleualign test/dev set, the field's standard benchmark), MAC-Dev zh-en (literary, freely
restructured: Bertalign's development set) and ParIce en-is (the SentAlign paper's set).

The data is read from ``data_dir``, never bundled (Text+Berg is GPL, MAC-Dev has no data
licence: see each folder's PROVENANCE.md). Each document is ``(src_sentences, tgt_sentences,
gold)`` with gold beads as ``(src ids, tgt ids)`` tuples (German, Chinese, English = source).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

from align.errors import InputError


class Document(NamedTuple):
    src: list[str]
    tgt: list[str]
    gold: list[tuple[tuple[int, ...], tuple[int, ...]]]


def _lines(path: Path) -> list[str]:
    """The sentences as ``align --presplit`` reads them: stripped (every Text+Berg line ends
    in a space, which changes its embedding; Bertalign strips them too)."""
    if not path.is_file():
        raise InputError(path, "missing (is data_dir pointing at the shared data folder?)")
    return [line.strip() for line in path.read_text(encoding="utf-8").rstrip("\n").split("\n")]


def read_gold(path: Path) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Parse ``[i]:[j, k]`` lines (Vecalign/Bertalign format)."""
    beads = []
    for line in _lines(path):
        if line.strip():
            left, right = line.split(":")
            beads.append((tuple(ast.literal_eval(left)), tuple(ast.literal_eval(right))))
    return beads


def load(split: str = "test", data_dir: str | Path = "../shared/data") -> list[Document]:
    """``split`` "test" (7 documents) or "dev" (one document)."""
    root = Path(data_dir) / "textberg"
    if split == "dev":
        d = root / "dev"
        return [Document(_lines(d / "dev.de"), _lines(d / "dev.fr"), read_gold(d / "dev.defr"))]
    if split != "test":
        raise InputError(root, f"unknown Text+Berg split {split!r} (test or dev)")
    return _folders(root / "test", "de", "fr")


def _numbered(path: Path) -> list[str]:
    """The sentences of a SentAlign-style file, each line ``<index>TAB<sentence>``."""
    out = []
    for i, line in enumerate(_lines(path)):
        number, tab, sentence = line.partition("\t")
        if not tab or number != str(i):
            raise InputError(path, f"line {i + 1} does not start with its index {i} and a tab")
        out.append(sentence.strip())
    return out


def _folders(root: Path, src: str, tgt: str, numbered: bool = False) -> list[Document]:
    """One document per file name of ``root/gold``, its sides in ``root/src`` and ``root/tgt``
    (``numbered``: lines carry their index, as SentAlign's evaluation files do)."""
    gold = root / "gold"
    if not gold.is_dir():
        raise InputError(gold, "missing (is data_dir pointing at the shared data folder?)")
    read = _numbered if numbered else _lines
    docs = []
    for name in sorted(p.name for p in gold.iterdir()):
        doc = Document(read(root / src / name), read(root / tgt / name), read_gold(gold / name))
        docs.append(doc._replace(gold=_within(doc, gold / name)))
    return docs


def _within(doc: Document, path: Path) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The gold beads, less unmatched ones naming a line the text lacks (ParIce's ``u_1`` gold
    ends in ``[41]:[]`` for a 41-line file: no link is lost). A link beyond the text is an error."""
    def inside(ids, n):
        return all(i < n for i in ids)

    kept = [b for b in doc.gold if inside(b[0], len(doc.src)) and inside(b[1], len(doc.tgt))]
    if any(b[0] and b[1] for b in doc.gold if b not in kept):
        raise InputError(path, "a gold link names a sentence beyond the text")
    return kept


def load_mac_dev(data_dir: str | Path = "../shared/data") -> list[Document]:
    """MAC-Dev: 6 chapters of Chinese novels and their published English translations."""
    return _folders(Path(data_dir) / "mac_dev_zh_en", "zh", "en")


def load_parice(data_dir: str | Path = "../shared/data") -> list[Document]:
    """ParIce evaluation set: 10 English documents and their Icelandic translations (each line
    ``<index>TAB<sentence>``: the index is dropped, or every line would carry a number)."""
    return _folders(Path(data_dir) / "parice_en_is", "eng", "isl", numbered=True)
