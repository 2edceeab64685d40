"""Text+Berg de-fr (Bleualign test/dev set): the standard sentence-alignment benchmark.

The data is GPL (see the data folder's PROVENANCE.md): it is read from
``data_dir``, never bundled. Each document is ``(src_sentences, tgt_sentences,
gold)`` with gold beads as ``(src ids, tgt ids)`` tuples (German = source).
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
    t = root / "test"
    return [Document(_lines(t / "de" / name), _lines(t / "fr" / name), read_gold(t / "gold" / name))
            for name in sorted(p.name for p in (t / "gold").iterdir())]
