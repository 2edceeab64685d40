"""The result of aligning two documents: beads of sentence indices with a score."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


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
class Alignment:
    """Beads plus the sentences they index, so every writer has what it needs."""

    src_sentences: tuple[str, ...]
    tgt_sentences: tuple[str, ...]
    beads: tuple[Bead, ...]
    src_lang: str = "kk"
    tgt_lang: str = "ru"
    info: dict = field(default_factory=dict, compare=False)

    def src_text(self, bead: Bead) -> str:
        return " ".join(self.src_sentences[i] for i in bead.src)

    def tgt_text(self, bead: Bead) -> str:
        return " ".join(self.tgt_sentences[j] for j in bead.tgt)
