"""Comparable kk-ru document pairs built from parallel data, and the Tatoeba retrieval sets.

Real Kazakh and Russian versions of a story share only part of their facts
(see seeds/README.md). To measure mining and the document verdict with a gold
standard, each parallel document (Kazakh side kept whole) gets a Russian side
that keeps a share ``p`` of its translations and fills the rest with
*distractors*: Russian sentences of the other documents closest in topic
(TF-IDF over the English originals), so that, as on the seed pair, the
unrelated sentences are about the same kind of thing. NTREX holds several
reports of one event that share sentences ("Five weeks until the most
important election of our lives"), so a distractor whose English shares
half its content words with a sentence of the document, or has fewer
than three ("Oh, no."), is skipped: it would be a true pair missing from the gold. Then, unless ``p`` is
1 (a translation: order kept, nothing added), kept and distractor sentences
are cut into "paragraphs" of 1-3 consecutive sentences whose order is
shuffled. Gold = the (kk index, ru index) pairs kept; the expected verdict is
``unrelated`` for p = 0, ``parallel`` for p = 1, ``comparable`` otherwise.
:func:`perturbed_translations` adds the perturbed NTREX translations of
:mod:`eval.suites.ntrex` (sentences merged, dropped, inserted; order kept), also
expected ``parallel``: a translation with edits is still a translation.

Sources: NTREX-128 (123 news documents) and, when present in ``data_dir``,
FLORES-200 devtest articles grouped by URL (read at run time, never bundled).
Everything is fixed by ``seed``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import ParallelDoc, flores, ntrex

SHARES = (0.0, 0.3, 0.7, 1.0)


class ComparablePair(NamedTuple):
    name: str                        # "ntrex:12@0.3": source, document number, share
    share: float
    src: list[str]                   # Kazakh sentences, the document's own, in order
    tgt: list[str]                   # Russian sentences: kept translations + distractors
    gold: list[tuple[int, int]]      # (src index, tgt index) of every kept translation
    label: str                       # the expected verdict


def topic_neighbours(docs: list[ParallelDoc]) -> np.ndarray:
    """For every document, the other documents from closest to farthest in topic
    (TF-IDF cosine over the English side), shape (n, n-1)."""
    bags = [Counter(w for s in d.en for w in re.findall(r"[a-z]{3,}", s.lower())) for d in docs]
    df = Counter(w for bag in bags for w in bag)
    vocab = {w: k for k, w in enumerate(df)}
    mat = np.zeros((len(docs), len(vocab)))
    for row, bag in enumerate(bags):
        for w, c in bag.items():
            mat[row, vocab[w]] = (1 + math.log(c)) * math.log(len(docs) / df[w])
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    sim = mat @ mat.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :-1]


_STOP = set("that this with from have they their there were what when which will would about said "
            "been into more than also after over just like some them then only other could".split())


def _words(sentence: str) -> set[str]:
    """Content words: four letters or more, not among the commonest."""
    return set(re.findall(r"[a-z0-9]{4,}", sentence.lower())) - _STOP


def _restates(sentence: str, own: list[set[str]]) -> bool:
    """Too short to be a safe negative, or half its content words (three at least)
    in one sentence of ``own``."""
    words = _words(sentence)
    return len(words) < 3 or any(len(words & o) >= max(3, 0.5 * min(len(words), len(o))) for o in own)


def _paragraphs(items: list, rng: np.random.Generator) -> list[list]:
    """Consecutive items cut into runs of 1-3."""
    out, i = [], 0
    while i < len(items):
        size = int(rng.integers(1, 4))
        out.append(items[i:i + size])
        i += size
    return out


def make_pair(docs: list[ParallelDoc], neighbours: np.ndarray, d: int, share: float,
              rng: np.random.Generator, source: str) -> ComparablePair:
    """Document ``d``'s Kazakh side with a Russian side keeping ``share`` of its translations."""
    doc = docs[d]
    n = len(doc.kk)
    kept = sorted(rng.choice(n, size=round(share * n), replace=False).tolist())
    own = [_words(s) for s in doc.en]
    distractors: list[str] = []
    for other in neighbours[d]:  # the closest documents first, a contiguous run of each
        if len(distractors) >= n - len(kept):
            break
        ru = [r for r, e in zip(docs[other].ru, docs[other].en) if not _restates(e, own)]
        start = int(rng.integers(len(ru))) if ru else 0
        distractors += (ru[start:] + ru[:start])[:n - len(kept) - len(distractors)]
    units: list[tuple[int | None, str]] = [(i, doc.ru[i]) for i in kept] + [(None, s) for s in distractors]
    if share < 1:
        paras = _paragraphs(units[:len(kept)], rng) + _paragraphs(units[len(kept):], rng)
        order = rng.permutation(len(paras))
        units = [u for k in order for u in paras[k]]
    gold = [(i, j) for j, (i, _) in enumerate(units) if i is not None]
    label = "unrelated" if share == 0 else "parallel" if share == 1 else "comparable"
    return ComparablePair(f"{source}:{d}@{share:g}", share, list(doc.kk), [s for _, s in units], gold, label)


def load(data_dir: str | Path = "../shared/data", shares: tuple[float, ...] = SHARES, seed: int = 13,
         sources: tuple[str, ...] = ("ntrex", "flores")) -> list[ComparablePair]:
    """Every document of every source (FLORES only if present) at every share."""
    pairs = []
    for source in sources:
        if source == "flores" and not (Path(data_dir) / "flores" / "flores200_devtest").is_dir():
            continue
        docs = ntrex.documents(data_dir) if source == "ntrex" else flores.documents(data_dir)
        neighbours = topic_neighbours(docs)
        for d in range(len(docs)):
            for k, share in enumerate(shares):
                rng = np.random.default_rng([seed, d, k])
                pairs.append(make_pair(docs, neighbours, d, share, rng, source))
    return pairs


def perturbed_translations(data_dir: str | Path = "../shared/data", seed: int = 13) -> list[ComparablePair]:
    """The perturbed NTREX documents as pairs named ``ntrex-perturbed:D`` (share 1, label
    ``parallel``); gold = every sentence link of their 1-1, 1-2 and 2-1 beads."""
    return [ComparablePair(f"ntrex-perturbed:{d}", 1.0, doc.src, doc.tgt,
                           [(i, j) for s, t in doc.gold for i in s for j in t], "parallel")
            for d, doc in enumerate(ntrex.load("perturbed", data_dir, seed))]
