"""Strict and lax precision/recall/F1 over beads, as Vecalign's ``score.py`` defines them.

Vecalign (Thompson & Koehn 2019), Bertalign and SentAlign all report these
figures on the Text+Berg test set, so ours must be the same definition to be
comparable (after Sennrich & Volk 2011, W11-4624):

* Beads are compared as sets of ``(src ids, tgt ids)``: duplicates count once,
  beads empty on both sides are ignored.
* Precision is over every predicted bead, 1-0/0-1 included. A predicted bead
  is a strict hit when the gold has exactly that bead (so a predicted 1-0 is
  right only if the gold has the same 1-0), and a lax hit when one of its
  (src, tgt) sentence links is a link of some gold bead. A 1-0/0-1 bead has
  no links, so it is never a lax-only hit.
* Recall ignores 1-0/0-1 beads on both sides: it is precision with gold and
  prediction swapped after dropping them. Missing an insertion/deletion thus
  costs precision only if something wrong is predicted there, never recall.
* Over several documents the hit/miss counts are summed, then P/R computed
  (micro-averaging); F1 is the harmonic mean of P and R. Any 0/0 is 0.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from align.beads import Bead
from align.errors import ToolkitError, UsageError

_Pair = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class AlignmentScore:
    """Pooled figures; ``n_gold``/``n_pred`` are the beads given (all documents, as passed)."""

    precision_strict: float
    recall_strict: float
    f1_strict: float
    precision_lax: float
    recall_lax: float
    f1_lax: float
    n_gold: int
    n_pred: int


def _pairs(beads: Iterable) -> list[_Pair]:
    """Accept Beads or ``(src, tgt[, ...])`` sequences, as read from Vecalign files."""
    pairs = []
    for b in beads:
        if isinstance(b, Bead):
            src, tgt = b.src, b.tgt
        elif isinstance(b, Sequence) and len(b) >= 2:
            src, tgt = b[0], b[1]
        else:
            raise ToolkitError(f"not a bead: {b!r} (need a Bead or a (src ids, tgt ids) pair)")
        pairs.append((tuple(src), tuple(tgt)))
    return pairs


def _hits(reference: set[_Pair], candidates: set[_Pair]) -> tuple[int, int, int]:
    """(strict hits, lax hits, total) for ``candidates`` judged against ``reference``."""
    links = {(s, t) for src, tgt in reference for s in src for t in tgt}
    strict = lax = 0
    for src, tgt in candidates:
        if (src, tgt) in reference:
            strict += 1
            lax += 1
        elif any((s, t) in links for s in src for t in tgt):
            lax += 1
    return strict, lax, len(candidates)


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * (p * r) / (p + r) if p + r else 0.0


def score_documents(golds: Sequence[Sequence], preds: Sequence[Sequence]) -> AlignmentScore:
    """Pool several documents like Vecalign's ``score_multiple``: sum counts, then P/R/F1."""
    if len(golds) != len(preds):
        raise UsageError(
            f"{len(golds)} gold document(s) but {len(preds)} predicted; they must pair up one to one"
        )
    p_strict = p_lax = p_total = r_strict = r_lax = r_total = n_gold = n_pred = 0
    for gold, pred in zip(golds, preds):
        gold_pairs, pred_pairs = _pairs(gold), _pairs(pred)
        n_gold += len(gold_pairs)
        n_pred += len(pred_pairs)
        gold_any = {p for p in gold_pairs if p[0] or p[1]}
        pred_any = {p for p in pred_pairs if p[0] or p[1]}
        strict, lax, total = _hits(gold_any, pred_any)
        p_strict, p_lax, p_total = p_strict + strict, p_lax + lax, p_total + total
        gold_both = {p for p in gold_any if p[0] and p[1]}
        pred_both = {p for p in pred_any if p[0] and p[1]}
        strict, lax, total = _hits(pred_both, gold_both)
        r_strict, r_lax, r_total = r_strict + strict, r_lax + lax, r_total + total
    ps, pl = _ratio(p_strict, p_total), _ratio(p_lax, p_total)
    rs, rl = _ratio(r_strict, r_total), _ratio(r_lax, r_total)
    return AlignmentScore(
        precision_strict=ps,
        recall_strict=rs,
        f1_strict=_f1(ps, rs),
        precision_lax=pl,
        recall_lax=rl,
        f1_lax=_f1(pl, rl),
        n_gold=n_gold,
        n_pred=n_pred,
    )


def score_alignment(gold: Sequence, pred: Sequence) -> AlignmentScore:
    """Score one document (a one-document :func:`score_documents`)."""
    return score_documents([gold], [pred])


def _block_counts(golds: Sequence[Sequence], preds: Sequence[Sequence], block: int) -> dict[tuple[int, int], np.ndarray]:
    """Per stretch of ``block`` source sentences (document, stretch): strict precision hits,
    predicted beads, strict recall hits, gold links. A bead without source sentences is placed
    by its first target sentence scaled to source positions."""
    counts: dict[tuple[int, int], np.ndarray] = {}
    for d, (gold, pred) in enumerate(zip(golds, preds)):
        gold_any = {p for p in _pairs(gold) if p[0] or p[1]}
        pred_any = {p for p in _pairs(pred) if p[0] or p[1]}
        n_src = max([max(p[0]) + 1 for p in gold_any | pred_any if p[0]], default=1)
        n_tgt = max([max(p[1]) + 1 for p in gold_any | pred_any if p[1]], default=1)

        def where(pair) -> tuple[int, int]:
            position = min(pair[0]) if pair[0] else min(pair[1]) * n_src / n_tgt
            return d, int(position // block)

        for pair in pred_any:  # precision: every predicted bead, hit if gold has it
            counts.setdefault(where(pair), np.zeros(4))[:2] += (pair in gold_any, 1)
        for pair in gold_any:  # recall: gold links, hit if predicted
            if pair[0] and pair[1]:
                counts.setdefault(where(pair), np.zeros(4))[2:] += (pair in pred_any, 1)
    return counts


def _resampled_f1(tables: list[np.ndarray], samples: int, seed: int) -> list[np.ndarray]:
    """Pooled strict F1 of each table (rows: stretches, aligned across tables) over the same
    ``samples`` bootstrap draws of stretches."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(tables[0]), (samples, len(tables[0])))
    out = []
    for table in tables:
        draws = table[rows].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            p, r = draws[:, 0] / draws[:, 1], draws[:, 2] / draws[:, 3]
            out.append(np.nan_to_num(2 * p * r / (p + r)))
    return out


def strict_f1_interval(golds: Sequence[Sequence], preds: Sequence[Sequence], *, block: int = 10,
                       samples: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the pooled strict F1 (:func:`score_documents`), resampling
    stretches of ``block`` source sentences with their predicted and gold beads (beads are
    not independent, stretches nearly are). Tells how far a few hundred beads pin F1 down."""
    counts = _block_counts(golds, preds, block)
    if not counts:
        return 0.0, 0.0
    (f1,) = _resampled_f1([np.array(list(counts.values()))], samples, seed)
    low, high = np.percentile(f1, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def paired_f1_difference(golds: Sequence[Sequence], preds: Sequence[Sequence], baseline: Sequence[Sequence], *,
                         block: int = 10, samples: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Paired bootstrap of strict F1(preds) - F1(baseline) on the same documents: both systems'
    counts are resampled over the same stretches, so what they share (easy and hard passages)
    cancels. Returns the observed difference, its interval and the two-sided p-value (twice
    the share of draws on the other side of zero)."""
    a, b = _block_counts(golds, preds, block), _block_counts(golds, baseline, block)
    keys = sorted(set(a) | set(b))
    if not keys:
        return {"difference": 0.0, "low": 0.0, "high": 0.0, "p": 1.0}
    tables = [np.array([counts.get(k, np.zeros(4)) for k in keys]) for counts in (a, b)]
    f1_a, f1_b = _resampled_f1(tables, samples, seed)
    diff = f1_a - f1_b
    observed = score_documents(golds, preds).f1_strict - score_documents(golds, baseline).f1_strict
    low, high = np.percentile(diff, [50 * (1 - level), 50 * (1 + level)])
    p = min(1.0, 2 * min((diff <= 0).mean(), (diff >= 0).mean()))
    return {"difference": observed, "low": float(low), "high": float(high), "p": float(p)}
