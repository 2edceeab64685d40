"""NTREX-128 kk-ru document pairs, clean and perturbed the way real comparable pairs are.

NTREX-128 (Federmann et al. 2022, CC BY-SA 4.0) translates the same 1,997
English news sentences into Kazakh and Russian, line by line; DOCUMENT_IDS.tsv
gives each line's document (123 documents). Clean pairs are all 1-1.

Perturbed pairs (``perturb``), fixed by ``seed`` (one generator per document):

* merges: each 1-1 pair (with its successor) is merged on one side with
  probability ``merge_rate`` = 0.10, the side chosen at random (a 1-2 or 2-1
  gold bead), as when one translator splits a sentence the other kept whole;
* drops: each remaining 1-1 pair loses its Kazakh sentence with probability
  ``drop_rate`` = 0.05 and otherwise its Russian one with the same probability
  (gold 0-1 / 1-0), as for untranslated sentences;
* insertions: 1 or 2 sentences from other documents are inserted at random
  positions on a random side (gold 1-0 / 0-1), as for boilerplate or captions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from align.errors import InputError

from . import ParallelDoc, group, read_lines
from .textberg import Document

Unit = tuple[list[str], list[str]]


FOLDER = "ntrex128"
FILES = {"kk": "newstest2019-ref.kaz.txt", "ru": "newstest2019-ref.rus.txt", "en": "newstest2019-src.eng.txt"}


def sentences(data_dir: str | Path = "../shared/data") -> dict[str, list[str]]:
    """Line-parallel sentences per language (1,997 lines)."""
    root = Path(data_dir) / FOLDER
    return {lang: read_lines(root / name) for lang, name in FILES.items()}


def documents(data_dir: str | Path = "../shared/data") -> list[ParallelDoc]:
    """The 123 documents (DOCUMENT_IDS.tsv), each with its kk, ru and en sentences."""
    root = Path(data_dir) / FOLDER
    ids = [line.split("\t")[0] for line in read_lines(root / "DOCUMENT_IDS.tsv")]
    text = sentences(data_dir)
    return group(ids, root, text["kk"], text["ru"], text["en"])


def load_units(data_dir: str | Path = "../shared/data") -> list[list[Unit]]:
    """Documents as lists of 1-1 units ``([kk], [ru])``, in file order."""
    return [[([k], [r]) for k, r in zip(doc.kk, doc.ru)] for doc in documents(data_dir)]


def to_document(units: list[Unit]) -> Document:
    """Flatten units into sentences and gold beads."""
    src: list[str] = []
    tgt: list[str] = []
    gold = []
    for s, t in units:
        gold.append((tuple(range(len(src), len(src) + len(s))), tuple(range(len(tgt), len(tgt) + len(t)))))
        src += s
        tgt += t
    return Document(src, tgt, gold)


def perturb(units: list[Unit], others: list[str], rng: np.random.Generator,
            merge_rate: float = 0.10, drop_rate: float = 0.05) -> list[Unit]:
    """One document made harder (see module docstring); ``others`` feeds the insertions."""
    merged: list[Unit] = []
    i = 0
    while i < len(units):
        if i + 1 < len(units) and rng.random() < merge_rate:
            (s1, t1), (s2, t2) = units[i], units[i + 1]
            merged.append(([" ".join(s1 + s2)], t1 + t2) if rng.random() < 0.5 else (s1 + s2, [" ".join(t1 + t2)]))
            i += 2
        else:
            merged.append(units[i])
            i += 1
    out: list[Unit] = []
    for s, t in merged:
        r = rng.random()
        if len(s) == len(t) == 1 and r < drop_rate:
            out.append(([], t))
        elif len(s) == len(t) == 1 and r < 2 * drop_rate:
            out.append((s, []))
        else:
            out.append((s, t))
    for _ in range(rng.integers(1, 3)):
        sentence = others[rng.integers(len(others))]
        out.insert(int(rng.integers(len(out) + 1)), ([sentence], []) if rng.random() < 0.5 else ([], [sentence]))
    return out


def load(variant: str = "clean", data_dir: str | Path = "../shared/data", seed: int = 13) -> list[Document]:
    """``variant`` "clean" or "perturbed"; one Document per NTREX document (Kazakh = source)."""
    docs = load_units(data_dir)
    if variant == "clean":
        return [to_document(units) for units in docs]
    if variant != "perturbed":
        raise InputError(data_dir, f"unknown NTREX variant {variant!r} (clean or perturbed)")
    out = []
    for d, units in enumerate(docs):
        rng = np.random.default_rng([seed, d])
        side = int(rng.integers(2))  # insertions come from one language of the other documents
        others = [u[side][0] for e, other in enumerate(docs) if e != d for u in other]
        out.append(to_document(perturb(units, others, rng)))
    return out


def concatenate(docs: list[Document]) -> Document:
    """Documents joined end to end into one long pair (gold offsets shifted)."""
    src: list[str] = []
    tgt: list[str] = []
    gold = []
    for d in docs:
        gold += [(tuple(i + len(src) for i in s), tuple(j + len(tgt) for j in t)) for s, t in d.gold]
        src += d.src
        tgt += d.tgt
    return Document(src, tgt, gold)


def long_pair(data_dir: str | Path = "../shared/data", rounds: int = 10, seed: int = 13) -> Document:
    """~20,000 sentences a side: the perturbed documents in ``rounds`` shuffled orders, joined."""
    docs = load("perturbed", data_dir, seed)
    rng = np.random.default_rng(seed)
    return concatenate([docs[k] for _ in range(rounds) for k in rng.permutation(len(docs))])
