"""The document pairing benchmark's folders: what the issue asks for is in them."""

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

NEEDS = ("ntrex128/DOCUMENT_IDS.tsv", "flores/flores200_devtest/metadata_devtest.tsv",
         "wmt19_kk_en/kk-en/newstest2019.kk")


@pytest.mark.skipif(not all((SHARED_DATA / p).exists() for p in NEEDS), reason="needs ../shared/data")
def test_benchmark_folders_hold_every_kind(tmp_path):
    from eval.bench_pairdocs import build
    from eval.metrics.pairs import _items

    bench = build(SHARED_DATA, tmp_path, seed=13)
    kk, ru = sorted(bench.kk_dir.iterdir()), sorted(bench.ru_dir.iterdir())
    assert all(p.name.startswith("doc") for p in kk + ru)  # shuffled names: nothing to match on
    kinds = Counter(g.kind for g in bench.gold)
    assert kinds["comparable"] == 10 and kinds["parallel"] == 328
    items = _items(bench.gold)
    assert len({items[(g.src, g.tgt)] for g in bench.gold if g.kind == "parallel"}) == 320  # 8 near-duplicates
    sources = Counter(bench.source[str(p)] for p in kk)
    assert sources["wmt19"] == 67 and sources["boilerplate"] == 3
    paired_kk = {g.src for g in bench.gold}
    assert sum(bench.source[str(p)] in ("ntrex", "flores") and str(p) not in paired_kk for p in kk) > 20  # no partner
    assert set(bench.urls) == {str(p.resolve()) for p in kk + ru}
    boiler = [p for p in kk if bench.source[str(p)] == "boilerplate"]
    assert "Барлық құқықтар қорғалған" in Path(boiler[0]).read_text(encoding="utf-8")
