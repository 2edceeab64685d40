"""The result of aligning two documents: beads of sentence indices with a score."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # both import Bead from here
    from .mine import Verdict
    from .search import AlignStats


@dataclass(frozen=True)
class Bead:
    """One alignment unit: 0-based sentence indices on each side and a score.

    ``src``/``tgt`` are consecutive, increasing indices; either may be empty
    (1-0 / 0-1: a sentence with no counterpart). ``score`` is higher-is-better
    (see README "Scores"); beads with an empty side carry the confidence that
    the sentence really has no counterpart.

    Every score passes here, so this is where it is made safe to write: always a
    number in [0, 1] (rounding just outside is clamped); NaN or infinity is a bug
    upstream (e.g. a damaged vector) and raises rather than reaching an output.
    """

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float

    def __post_init__(self) -> None:
        score = float(self.score)
        if not math.isfinite(score):
            raise ValueError(f"bead {list(self.src)}:{list(self.tgt)} has score {score}, not a number in [0, 1]")
        object.__setattr__(self, "score", min(1.0, max(0.0, score)))

    @property
    def kind(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass(frozen=True)
class SourceFacts:
    """One side of an alignment: its language and, when it came from a file, where from.

    ``foreign``: indices of sentences not in ``lang`` (``()`` when none were found or the
    language has no check; ``None`` where the check did not run, as in corpus mining);
    ``documents``: how many documents were pooled into this side (corpus mining only)."""

    lang: str
    path: str | None = None
    encoding: str | None = None
    foreign: tuple[int, ...] | None = None
    documents: int | None = None


@dataclass(frozen=True)
class LinkSummary:
    """What an alignment linked: beads with both sides, the sentences they cover on each
    side, and their scores' five-number summary (min, quartiles, max; ``None`` without
    links). A mean alone hides a few confident wrong links among many right ones."""

    links: int
    src_linked: int
    tgt_linked: int
    score_quartiles: tuple[float, float, float, float, float] | None

    @classmethod
    def of(cls, beads) -> "LinkSummary":
        linked = [b for b in beads if b.src and b.tgt]
        scores = sorted(b.score for b in linked)
        quartiles = None
        if scores:
            def at(q: float) -> float:  # linear interpolation between order statistics
                x = q * (len(scores) - 1)
                lo = int(x)
                return scores[lo] + (scores[min(lo + 1, len(scores) - 1)] - scores[lo]) * (x - lo)
            quartiles = tuple(round(at(q), 4) for q in (0.0, 0.25, 0.5, 0.75, 1.0))
        return cls(len(linked), sum(len(b.src) for b in linked), sum(len(b.tgt) for b in linked), quartiles)

    def describe(self, n_src: int, n_tgt: int, src_lang: str, tgt_lang: str) -> str:
        """``12 links over 14 of 40 kk and 13 of 38 ru sentences, scores min 0.81 | 0.86 0.93 0.97 | max 0.99``"""
        plural = "s" if self.links != 1 else ""
        text = (f"{self.links} link{plural} over {self.src_linked} of {n_src} {src_lang} and "
                f"{self.tgt_linked} of {n_tgt} {tgt_lang} sentences")
        if self.score_quartiles:
            low, q1, median, q3, high = self.score_quartiles
            text += f", scores min {low:.2f} | quartiles {q1:.2f} {median:.2f} {q3:.2f} | max {high:.2f}"
        return text


@dataclass(frozen=True)
class Alignment:
    """Beads plus the sentences they index, so every writer has what it needs, and what
    was decided about the pair: ``verdict`` (:class:`align.mine.Verdict`: parallel,
    comparable or unrelated, and the figures behind it), ``mode`` (``parallel``: aligned
    in document order, ``mine``: mined pairs in any order, ``mine-corpus``), the
    embedding ``model``, ``unlinked`` (links of a monotonic path split into 1-0/0-1 for
    lack of evidence) and ``stats`` (the monotonic search's :class:`align.search.AlignStats`,
    ``None`` when nothing was searched in order)."""

    src_sentences: tuple[str, ...]
    tgt_sentences: tuple[str, ...]
    beads: tuple[Bead, ...]
    src: SourceFacts = SourceFacts("kk")
    tgt: SourceFacts = SourceFacts("ru")
    model: str | None = None
    verdict: Verdict | None = None
    mode: str | None = None
    unlinked: int = 0
    stats: AlignStats | None = field(default=None, compare=False, repr=False)

    @property
    def src_lang(self) -> str:
        return self.src.lang

    @property
    def links(self) -> LinkSummary:
        return LinkSummary.of(self.beads)

    @property
    def tgt_lang(self) -> str:
        return self.tgt.lang

    def src_text(self, bead: Bead) -> str:
        return " ".join(self.src_sentences[i] for i in bead.src)

    def tgt_text(self, bead: Bead) -> str:
        return " ".join(self.tgt_sentences[j] for j in bead.tgt)
