"""`evaluate translate`: figures must be sacrebleu's own, with signatures; clear errors."""

import json

import pytest
import sacrebleu
from click.testing import CliRunner

from align.errors import UsageError
from eval.cli import main
from eval.metrics.translation import paired_significance, score_by_document, score_translation

REFS = ["The president met his Russian counterpart in Astana.", "Trade between the countries slowed down.",
        "The documents were signed after the talks.", "He congratulated Kazakhstan on 25 years of independence."]
GOOD = ["The president met the Russian counterpart in Astana.", "Trade between countries slowed.",
        "Documents were signed after the talks.", "He congratulated Kazakhstan on 25 years of independence."]
BAD = ["A president in Astana.", "Trade is slow.", "Papers signed.", "He said hello to Kazakhstan."]


def test_corpus_figures_are_sacrebleus():
    scores = {s.metric: s for s in score_translation(GOOD, REFS)}
    assert scores["BLEU"].score == round(sacrebleu.corpus_bleu(GOOD, [REFS]).score, 2)
    assert scores["chrF++"].score == round(sacrebleu.corpus_chrf(GOOD, [REFS], word_order=2).score, 2)
    assert scores["TER"].score == round(sacrebleu.corpus_ter(GOOD, [REFS]).score, 2)
    assert "nw:2" in scores["chrF++"].signature and "tok:13a" in scores["BLEU"].signature


def test_bootstrap_gives_intervals():
    scores = score_translation(GOOD * 5, REFS * 5, bootstrap=200)
    assert all(s.ci is not None and s.ci >= 0 for s in scores)


def test_per_document():
    docs = score_by_document(GOOD, REFS, ["a", "a", "b", "b"])
    assert set(docs) == {"a", "b"}
    assert docs["b"][0].score == round(sacrebleu.corpus_bleu(GOOD[2:], [REFS[2:]]).score, 2)


def test_paired_significance_prefers_the_better_system():
    rows = paired_significance([("bad", BAD * 5), ("good", GOOD * 5)], REFS * 5, samples=200)
    assert rows[0]["baseline"] and rows[1]["BLEU"] > rows[0]["BLEU"]
    assert rows[1]["BLEU p"] < 0.05


def test_mismatched_lines_are_a_clear_error():
    with pytest.raises(UsageError, match="3 hypothesis lines but 4 reference lines"):
        score_translation(GOOD[:3], REFS)


def test_cli(tmp_path):
    ref, hyp, hyp2 = tmp_path / "ref.en", tmp_path / "good.en", tmp_path / "bad.en"
    ref.write_text("\n".join(REFS) + "\n", encoding="utf-8")
    hyp.write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    hyp2.write_text("\n".join(BAD) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["translate", "--ref", str(ref), "--hyp", str(hyp), "--json"])
    assert result.exit_code == 0, result.output
    bleu = json.loads(result.stdout)["corpus"][0]
    assert bleu["metric"] == "BLEU" and bleu["score"] == round(sacrebleu.corpus_bleu(GOOD, [REFS]).score, 2)
    result = CliRunner().invoke(main, ["translate", "--ref", str(ref), "--hyp", str(hyp2), "--hyp", str(hyp)])
    assert result.exit_code == 0 and "good.en" in result.stdout
    short = tmp_path / "short.en"
    short.write_text("one line\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["translate", "--ref", str(ref), "--hyp", str(short)])
    assert result.exit_code == 2 and "1 hypothesis lines but 4 reference lines" in result.output
