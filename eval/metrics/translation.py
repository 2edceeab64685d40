"""Translation quality with sacrebleu: BLEU, chrF++ and TER, each with its signature,
bootstrap confidence intervals and paired significance between systems.

The library computes every figure; this module only chooses the standard
settings (chrF++ = chrF with word n-grams of order 2), groups by document and
checks inputs so a mismatch is a clear error rather than a silent misscore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from align.errors import UsageError

METRICS = ("BLEU", "chrF++", "TER")


def _metrics() -> dict:
    from sacrebleu.metrics import BLEU, CHRF, TER

    return {"BLEU": BLEU(), "chrF++": CHRF(word_order=2), "TER": TER()}


@dataclass(frozen=True)
class MetricScore:
    metric: str
    score: float
    signature: str
    ci: float | None = None  # bootstrap 95% half-width, when asked for


def _check(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise UsageError(f"{len(hyps)} hypothesis lines but {len(refs)} reference lines")
    if not refs:
        raise UsageError("no reference lines to score against")


def score_translation(hyps: Sequence[str], refs: Sequence[str], *, bootstrap: int = 0) -> list[MetricScore]:
    """Corpus-level BLEU, chrF++ and TER; ``bootstrap`` > 0 adds 95% confidence intervals."""
    _check(hyps, refs)
    out = []
    for name, metric in _metrics().items():
        result = metric.corpus_score(list(hyps), [list(refs)], n_bootstrap=bootstrap if bootstrap > 1 else 1)
        ci = getattr(result, "_ci", None) if bootstrap > 1 else None
        out.append(MetricScore(name, round(float(result.score), 2), str(metric.get_signature()),
                               round(float(ci), 2) if ci is not None else None))
    return out


def score_by_document(hyps: Sequence[str], refs: Sequence[str], doc_ids: Sequence[str]) -> dict[str, list[MetricScore]]:
    """The same figures per document id (lines grouped by ``doc_ids``, order kept)."""
    _check(hyps, refs)
    if len(doc_ids) != len(refs):
        raise UsageError(f"{len(doc_ids)} document ids but {len(refs)} reference lines")
    groups: dict[str, list[int]] = {}
    for i, doc in enumerate(doc_ids):
        groups.setdefault(doc, []).append(i)
    return {doc: score_translation([hyps[i] for i in idx], [refs[i] for i in idx]) for doc, idx in groups.items()}


def paired_significance(systems: Sequence[tuple[str, Sequence[str]]], refs: Sequence[str], *,
                        test: str = "bs", samples: int = 1000) -> list[dict]:
    """Paired bootstrap ('bs') or approximate randomisation ('ar') of every system
    against the first (the baseline), via sacrebleu's PairedTest."""
    from sacrebleu.significance import PairedTest

    if len(systems) < 2:
        raise UsageError("paired significance needs a baseline and at least one more system")
    for name, hyps in systems:
        if len(hyps) != len(refs):
            raise UsageError(f"system {name!r}: {len(hyps)} lines but {len(refs)} reference lines")
    test_run = PairedTest([(n, list(h)) for n, h in systems], _metrics(), references=[list(refs)],
                          test_type=test, n_samples=samples)
    _, results = test_run()
    # sacrebleu names its columns itself (chrF++ becomes 'chrF2++'): take them in order.
    columns = [key for key in results if key != "System"]
    rows = []
    for k, (name, _) in enumerate(systems):
        row = {"system": name, "baseline": k == 0}
        for metric, column in zip(METRICS, columns):
            result = results[column][k]
            row[metric] = round(float(result.score), 2)
            row[f"{metric} 95% ci"] = round(float(result.ci), 2) if result.ci is not None else None
            row[f"{metric} p"] = None if k == 0 else float(result.p_value)
        rows.append(row)
    return rows
