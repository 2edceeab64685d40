"""The templated kk-ru legal dev set (issue 19), committed in ``eval/data/templated_kkru``.

Sixteen document pairs built from official Kazakh and Russian texts of Kazakhstan's laws and
codes (public domain; see its PROVENANCE.md): kind ``A`` pairs join articles of two different
laws that share templates ("N-бап." / "Статья N.", lists of competences or principles,
definitions, standard clauses) with a few inserted articles of a third law in both languages,
so most sentences look alike and few are translations; kind ``B`` pairs are the same articles
in both languages (a translation). Gold: the hand-checked 1-1 translation links. ``split.tsv``
halves the pairs into ``tune`` and ``heldout`` (six A and two B pairs each; the four ``A2``
pairs, general parts of two codes, were added in a second round, two to each half).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1] / "data" / "templated_kkru"


class TemplatedPair(NamedTuple):
    name: str
    kind: str  # "A" (comparable, templated) or "B" (parallel, templated)
    half: str  # "tune" or "heldout"
    src: list[str]  # Kazakh sentences
    tgt: list[str]  # Russian sentences
    gold: frozenset[tuple[int, int]]  # (kk line, ru line) of every translation


def load(half: str | None = None, root: Path = ROOT) -> list[TemplatedPair]:
    """The pairs of one half (``tune``, ``heldout``) or all, in ``split.tsv`` order."""
    pairs = []
    for line in (root / "split.tsv").read_text(encoding="utf-8").splitlines():
        name, which = line.split("\t")
        if half not in (None, which):
            continue
        folder = root / "pairs" / name
        gold = frozenset(tuple(map(int, row.split("\t")))
                         for row in (folder / "gold.tsv").read_text(encoding="utf-8").splitlines() if row)
        pairs.append(TemplatedPair(name, name[0], which, (folder / "kk.txt").read_text(encoding="utf-8").splitlines(),
                                   (folder / "ru.txt").read_text(encoding="utf-8").splitlines(), gold))
    return pairs
