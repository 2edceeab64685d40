"""Strict/lax P/R/F1 must equal Vecalign's score.py, the figure every paper on Text+Berg reports.

Reference figures below were computed with Vecalign's own definition
(thompsonb/vecalign ``score.py``: ``score_multiple`` + ``dp_utils.read_alignments``,
run from a scratch copy outside the repo) on the same inputs, and printed with repr().
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from align.beads import Bead
from align.errors import ToolkitError
from align.formats import read_beads
from eval.metrics.alignment import AlignmentScore, score_alignment, score_documents

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alignment"
TEXTBERG = Path(__file__).parents[2].parent / "shared/data/textberg"

FIELDS = ("precision_strict", "recall_strict", "f1_strict", "precision_lax", "recall_lax", "f1_lax")


def figures(score: AlignmentScore) -> tuple[float, ...]:
    return tuple(getattr(score, f) for f in FIELDS)


def fixture(name: str) -> list[Bead]:
    return read_beads(FIXTURES / f"{name}.vecalign")


# Hand-made index-only documents: gold_a has 30 beads (1-1, 1-2, 2-1, 2-2, 1-0, 0-1),
# pred_a splits, merges, swaps, shifts and mislabels some of them; gold_b/pred_b is a
# second small document for pooling. `python score.py -g gold_a -t pred_a` etc.:
REF_A = (0.5161290322580645, 0.5384615384615384, 0.5270588235294118,
         0.7419354838709677, 0.8461538461538461, 0.7906250000000001)
REF_B = (0.42857142857142855, 0.3333333333333333, 0.375,
         0.8571428571428571, 1.0, 0.923076923076923)
REF_AB = (0.5, 0.5, 0.5, 0.7631578947368421, 0.875, 0.8152610441767069)


def test_fixture_covers_every_bead_kind():
    assert {b.kind for b in fixture("gold_a")} >= {"1-1", "1-2", "2-1", "2-2", "1-0", "0-1"}
    assert len(fixture("gold_a")) == 30


def test_single_document_matches_reference():
    score = score_alignment(fixture("gold_a"), fixture("pred_a"))
    assert figures(score) == pytest.approx(REF_A, abs=1e-12)
    assert (score.n_gold, score.n_pred) == (30, 31)
    assert figures(score_alignment(fixture("gold_b"), fixture("pred_b"))) == pytest.approx(REF_B, abs=1e-12)


def test_documents_are_pooled_by_counts_not_averaged():
    score = score_documents([fixture("gold_a"), fixture("gold_b")], [fixture("pred_a"), fixture("pred_b")])
    assert figures(score) == pytest.approx(REF_AB, abs=1e-12)
    assert score.precision_strict != pytest.approx((REF_A[0] + REF_B[0]) / 2)
    assert (score.n_gold, score.n_pred) == (38, 38)


def test_plain_index_pairs_are_accepted():
    pairs = [(list(b.src), list(b.tgt)) for b in fixture("pred_a")]
    gold = [(b.src, b.tgt) for b in fixture("gold_a")]
    assert figures(score_alignment(gold, pairs)) == pytest.approx(REF_A, abs=1e-12)


def test_identical_prediction_is_perfect():
    gold = fixture("gold_a")
    assert figures(score_alignment(gold, gold)) == (1.0,) * 6


def test_empty_prediction_scores_zero():
    score = score_alignment(fixture("gold_a"), [])
    assert figures(score) == (0.0,) * 6
    assert (score.n_gold, score.n_pred) == (30, 0)
    assert figures(score_alignment([], [])) == (0.0,) * 6


def test_all_insertions_deletions_prediction():
    # Only the gold's own 1-0/0-1 beads are hits (strict, hence lax); recall ignores
    # 1-0/0-1 on both sides, so nothing of the gold's 1-1... beads is recalled.
    gold = fixture("gold_a")
    pred = [Bead((i,), (), 0.0) for i in range(33)] + [Bead((), (j,), 0.0) for j in range(34)]
    score = score_alignment(gold, pred)
    assert score.precision_strict == score.precision_lax == 4 / 67
    assert score.recall_strict == score.recall_lax == 0.0
    assert score.f1_strict == score.f1_lax == 0.0


def test_duplicates_and_doubly_empty_beads_are_ignored():
    gold = fixture("gold_a")
    pred = fixture("pred_a")
    padded = pred + pred[:5] + [((), ())]
    assert figures(score_alignment(gold, padded)) == figures(score_alignment(gold, pred))


def test_mismatched_document_counts_is_a_clear_error():
    with pytest.raises(ToolkitError, match="2 gold document.*1 predicted"):
        score_documents([fixture("gold_a"), fixture("gold_b")], [fixture("pred_a")])


def test_not_a_bead_is_rejected():
    with pytest.raises(ToolkitError, match="not a bead"):
        score_alignment([5], [])


def perturb(gold: list[Bead], rng: random.Random) -> list[Bead]:
    """A plausible aligner's mistakes: merges, 1-n split into 1-1 + 0-1, drops, shifts."""
    out: list[Bead] = []
    i = 0
    while i < len(gold):
        bead, r = gold[i], rng.random()
        if r < 0.08 and i + 1 < len(gold):
            nxt = gold[i + 1]
            out.append(Bead(bead.src + nxt.src, bead.tgt + nxt.tgt, 0.0))
            i += 1
        elif r < 0.20 and len(bead.tgt) > 1:
            out.append(Bead(bead.src, bead.tgt[:1], 0.0))
            out.extend(Bead((), (t,), 0.0) for t in bead.tgt[1:])
        elif r < 0.25:
            pass  # dropped
        elif r < 0.30 and bead.src and bead.tgt:
            out.append(Bead(bead.src, tuple(t + 1 for t in bead.tgt), 0.0))
        else:
            out.append(bead)
        i += 1
    return out


# Text+Berg test gold (7 docs) against perturb(gold, random.Random(2019)) applied doc by doc
# in file order; pooled figures from Vecalign's score_multiple on the same lists.
REF_TEXTBERG = (0.8120713305898491, 0.6421911421911422, 0.7172089290524014,
                0.9314128943758574, 0.824009324009324, 0.8744254247553473)


@pytest.mark.skipif(not (TEXTBERG / "test/gold").is_dir(), reason="Text+Berg data not present")
def test_textberg_gold_against_perturbed_copy_matches_reference():
    golds = [read_beads(p, "vecalign") for p in sorted((TEXTBERG / "test/gold").iterdir())]
    assert len(golds) == 7 and sum(map(len, golds)) == 916
    rng = random.Random(2019)
    preds = [perturb(g, rng) for g in golds]
    assert figures(score_documents(golds, preds)) == pytest.approx(REF_TEXTBERG, abs=1e-12)
    assert figures(score_documents(golds, golds)) == (1.0,) * 6


def test_strict_f1_interval_brackets_the_score_and_narrows_with_data():
    from eval.metrics.alignment import strict_f1_interval

    gold = [((i,), (i,)) for i in range(200)]
    wrong = set(random.Random(3).sample(range(200), 20))  # 10% dropped
    pred = [((i,), ()) if i in wrong else ((i,), (i,)) for i in range(200)]
    f1 = score_documents([gold], [pred]).f1_strict
    low, high = strict_f1_interval([gold], [pred], seed=1)
    assert low <= f1 <= high and high - low > 0
    narrow = strict_f1_interval([gold] * 4, [pred] * 4, seed=1)  # four times the evidence
    assert narrow[0] <= f1 <= narrow[1] and narrow[1] - narrow[0] < high - low
    assert strict_f1_interval([gold], [gold]) == (1.0, 1.0)
    assert strict_f1_interval([[]], [[]]) == (0.0, 0.0)


def test_paired_difference_sees_a_consistent_gain_that_the_intervals_overlap_on():
    from eval.metrics.alignment import paired_f1_difference, strict_f1_interval

    gold = [((i,), (i,)) for i in range(300)]
    rng = random.Random(5)
    hard = set(rng.sample(range(300), 60))  # both systems miss the hard ones ...
    extra = set(rng.sample(sorted(set(range(300)) - hard), 12))  # ... the baseline misses 12 more
    better = [((i,), ()) if i in hard else ((i,), (i,)) for i in range(300)]
    worse = [((i,), ()) if i in hard | extra else ((i,), (i,)) for i in range(300)]
    paired = paired_f1_difference([gold], [better], [worse], seed=1)
    f1 = lambda pred: score_documents([gold], [pred]).f1_strict
    assert paired["difference"] == pytest.approx(f1(better) - f1(worse))
    assert 0 < paired["low"] <= paired["difference"] <= paired["high"] and paired["p"] < 0.01
    low, high = strict_f1_interval([gold], [better], seed=1)
    assert low < f1(worse)  # unpaired, the baseline's score lies inside the better one's interval
    same = paired_f1_difference([gold], [better], [better])
    assert same["difference"] == same["low"] == same["high"] == 0.0 and same["p"] == 1.0


def test_evaluate_align_compares_with_a_baseline(tmp_path):
    from click.testing import CliRunner

    from eval.cli import main as evaluate

    def write(name, beads):
        path = tmp_path / name
        path.write_text("".join(f"{list(s)}:{list(t)}\n" for s, t in beads), encoding="utf-8")
        return str(path)

    gold = [((i,), (i,)) for i in range(40)]
    pred = write("pred.align", gold)
    base = write("base.align", [((i,), ()) if i % 4 == 0 else ((i,), (i,)) for i in range(40)])
    result = CliRunner().invoke(evaluate, ["align", "--gold", write("gold.align", gold), "--pred", pred,
                                           "--baseline", base, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ALL"]["f1_strict"] == 1.0 and report["BASELINE"]["f1_strict"] < 1.0
    assert report["paired"]["difference"] > 0 and report["paired"]["p"] < 0.05
    text = CliRunner().invoke(evaluate, ["align", "--gold", str(tmp_path / "gold.align"), "--pred", pred,
                                         "--baseline", base]).stdout
    assert "strict F1 difference (pred - baseline) +" in text
    missing = CliRunner().invoke(evaluate, ["align", "--gold", str(tmp_path / "gold.align"), "--pred", pred,
                                            "--baseline", base, "--baseline", base])
    assert missing.exit_code != 0 and "2 baseline documents" in missing.output
