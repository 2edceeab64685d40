"""The benchmark code runs end to end on tiny models (the figures come from real ones)."""

from __future__ import annotations

import pytest

from eval.bench_translate import TINY, build_random_nllb, measure, run_translation_suite, speed_table
from eval.suites import flores

KK = ["Мемлекет басшысы кездесті.", "Ресей Президенті келді.", "Біздің қарым-қатынасымыз дамып келеді."]
RU = ["Президенты встретились.", "Президент России приехал.", "Наши отношения развиваются."]
EN = ["The heads of state met.", "The Russian president arrived.", "Our relations are developing."]


def test_speed_measures_both_engines_at_equal_output_length(tmp_path):
    model = build_random_nllb(tmp_path / "nllb", TINY)
    rows = []
    for engine in ("transformers", "ctranslate2"):
        rows += measure(model, engine, [1, 2], [1, 2], sentences=2, max_batches=1, src_tokens=6, tgt_tokens=4,
                        threads=1, cache_dir=str(tmp_path / "cache"))
    assert {r["tokens_per_sentence"] for r in rows} == {4}
    assert "CTranslate2 int8" in speed_table(rows)


@pytest.fixture
def data_dir(tmp_path):
    """A three-sentence copy of the FLORES-200 devtest layout."""
    for lang, lines in (("kk", KK), ("ru", RU), ("en", EN)):
        path = tmp_path / flores.FOLDER / flores.FILES[lang]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_translation_suite_scores_with_signatures(tiny_nllb, data_dir, tmp_path):
    rows = run_translation_suite("flores200-devtest", [tiny_nllb], data_dir, beam=1, limit=3,
                                 cache_dir=str(tmp_path / "cache"))
    assert [r["pair"] for r in rows] == ["kk-en", "ru-en"]
    for row in rows:
        assert row["sentences"] == 3 and 0 <= row["chrf++"] <= 100
        assert row["bleu_signature"].startswith("nrefs:1") and "version:" in row["chrf_signature"]


def test_translate_does_not_import_eval_and_the_old_command_is_an_alias():
    """The layers point down: no module of ``translate`` imports ``eval``; ``python -m
    translate.bench`` still runs (handing over to eval.bench_translate) and says it is deprecated."""
    import subprocess
    import sys
    from pathlib import Path

    import translate

    for path in Path(translate.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from eval" not in text and "import eval" not in text, path
    done = subprocess.run([sys.executable, "-m", "translate.bench", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "speed" in done.stdout and "quality" in done.stdout
    assert done.stderr.startswith("deprecated: use evaluate bench")
