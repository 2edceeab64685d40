"""Precision and recall of a document pair list (``evaluate pairs``, the pairdocs bench).

Gold lines are ``kk_path<TAB>ru_path<TAB>kind`` with kind ``parallel`` (a translation)
or ``comparable`` (the same story; pairing it is fine, calling it parallel is not).
Gold lines that share a path are one item with alternatives (near-duplicate pages):
proposing any one of them counts once. Precision and recall are over the parallel
items; a proposed pair matching a comparable item is neither right nor wrong, but
counted in ``comparable_as_parallel`` when labelled parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from align.errors import InputError


@dataclass(frozen=True)
class GoldPair:
    src: str
    tgt: str
    kind: str  # parallel or comparable


@dataclass(frozen=True)
class Predicted:
    src: str
    tgt: str
    verdict: str = "parallel"


@dataclass(frozen=True)
class PairScore:
    precision: float
    recall: float
    f1: float
    gold: int  # parallel gold items
    proposed: int  # proposed pairs not matching a comparable item
    correct: int
    comparable_as_parallel: int
    comparable_items: int

    def as_dict(self) -> dict[str, float]:
        return {"P": self.precision, "R": self.recall, "F1": self.f1, "gold": self.gold, "proposed": self.proposed,
                "correct": self.correct, "comparable as parallel": self.comparable_as_parallel}


def _read_tsv(path: str, min_cols: int) -> list[list[str]]:
    p = Path(path)
    if not p.is_file():
        raise InputError(path, "no such file")
    rows = []
    for number, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) < min_cols or not all(cols[:min_cols]):
            raise InputError(path, f"line {number}: expected {min_cols} tab-separated columns")
        rows.append(cols)
    return rows


def read_gold(path: str) -> list[GoldPair]:
    rows = _read_tsv(path, 2)
    out = []
    for cols in rows:
        kind = cols[2] if len(cols) > 2 else "parallel"
        if kind not in ("parallel", "comparable"):
            raise InputError(path, f"kind {kind!r}: expected parallel or comparable")
        out.append(GoldPair(_path(cols[0]), _path(cols[1]), kind))
    return out


def _path(path: str) -> str:
    """Paths compare resolved: a gold list and a prediction may name one file differently."""
    return str(Path(path).resolve())


def read_predicted(path: str) -> list[Predicted]:
    """``align --pair-docs`` output (or any ``kk<TAB>ru[<TAB>score<TAB>verdict]`` list)."""
    return [Predicted(_path(c[0]), _path(c[1]), c[3] if len(c) > 3 else "parallel") for c in _read_tsv(path, 2)]


def _items(gold: Sequence[GoldPair]) -> dict[tuple[str, str], int]:
    """Each gold pair's item id: pairs sharing a path (directly or through others) are one item."""
    parent = list(range(len(gold)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    seen: dict[tuple[str, str], int] = {}
    for n, g in enumerate(gold):
        for key in (("s", g.src), ("t", g.tgt)):
            if key in seen:
                parent[find(n)] = find(seen[key])
            else:
                seen[key] = n
    return {(g.src, g.tgt): find(n) for n, g in enumerate(gold)}


def score_pairs(gold: Sequence[GoldPair], predicted: Sequence[Predicted],
                keep: Mapping[str, bool] | None = None) -> PairScore:
    """P/R/F1 over parallel gold items. ``keep`` (path -> bool), optional, restricts the
    count to gold items and proposals whose source path it marks True (per-source figures)."""
    item = _items(gold)
    kind = {item[(g.src, g.tgt)]: g.kind for g in gold}
    if keep is not None:
        wanted = {item[(g.src, g.tgt)] for g in gold if keep.get(g.src, False)}
        predicted = [p for p in predicted if keep.get(p.src, False)]
    else:
        wanted = set(kind)
    hit: set[int] = set()
    proposed = correct = comparable_as_parallel = 0
    for p in predicted:
        n = item.get((p.src, p.tgt))
        if n is not None and kind[n] == "comparable":
            comparable_as_parallel += p.verdict == "parallel"
            continue
        proposed += 1
        if n is not None and n not in hit:
            hit.add(n)
            correct += 1
    n_gold = sum(1 for n in wanted if kind[n] == "parallel")
    precision = correct / proposed if proposed else 1.0
    recall = correct / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScore(precision, recall, f1, n_gold, proposed, correct, comparable_as_parallel,
                     sum(1 for n in wanted if kind[n] == "comparable"))
