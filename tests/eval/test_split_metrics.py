"""Tests of eval.metrics.split: rebuilding gold text from CoNLL-U and boundary P/R/F1."""

import re
from pathlib import Path

import pytest

import align
from align.errors import InputError
from eval.metrics.split import GoldDocument, boundaries, read_conllu_documents, score_split

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "split"
TOY = FIXTURES / "toy.conllu"


class Cut:
    def __init__(self, end):
        self.end = end


def naive(text, lang):
    """Cut after every . ! ? before whitespace, and at every line end."""
    ends = {m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)}
    ends |= {m.end() for m in re.finditer(r"\S(?=\n|$)", text)}
    return [Cut(e) for e in sorted(ends)]


def test_read_conllu_rebuilds_paragraphs_and_documents():
    docs = read_conllu_documents(TOY)
    assert docs == [
        GoldDocument("Ол келді. Біз кеттік.\nТ.е. бәрі жақсы", (9, 21, 37)),
        GoldDocument("Да. Нет.", (8,)),
        GoldDocument("Первое предложение без точки Второе.", (28, 36)),
    ]


def test_score_matches_hand_computation():
    # Non-whitespace counts before each end:
    #   doc a: gold {8, 18, 31}, naive {8, 18, 22 ("Т.е."), 31} -> tp 3
    #   doc b: gold {7},         naive {3, 7}                   -> tp 1
    #   doc c: gold {25, 32},    naive {32}                     -> tp 1
    # tp 5, predicted 7, gold 6: P = 5/7, R = 5/6, F1 = 10/13.
    score = score_split(TOY, "kk", naive)
    assert (score.n_gold, score.n_pred) == (6, 7)
    assert score.precision == pytest.approx(5 / 7)
    assert score.recall == pytest.approx(5 / 6)
    assert score.f1 == pytest.approx(10 / 13)
    assert score.chars == sum(len(d.text) for d in read_conllu_documents(TOY))
    assert score.seconds > 0 and score.mb_per_s > 0


def test_signature_names_data_lang_and_version():
    signature = score_split(TOY, "kk", naive).signature
    assert "data:toy.conllu" in signature
    assert "lang:kk" in signature
    assert f"version:{align.__version__}" in signature


def test_boundaries_ignore_whitespace():
    assert boundaries("Ол келді.  \n Біз", [9, 16]) == {8, 11}
    assert boundaries("a b", []) == set()


def test_file_without_markers_is_one_space_joined_document():
    docs = read_conllu_documents(FIXTURES / "kk_ktb_train_head.conllu")
    assert len(docs) == 1 and len(docs[0].ends) == 20
    assert "\n" not in docs[0].text
    assert docs[0].text.startswith("Шолпан Сәрсенбайға")


def test_taiga_style_markers(tmp_path):
    path = tmp_path / "t.conllu"
    path.write_text(
        "# text = Один.\n1\tОдин\n\n# newdoc\n# newpar id = p1\n# text = Два.\n1\tДва\n\n"
        "# newpar\n# text = Три.\n1\tТри\n\n# newdoc_id = x\n# text = Четыре.\n1\tЧетыре\n\n",
        encoding="utf-8",
    )
    assert [d.text for d in read_conllu_documents(path)] == ["Один.", "Два.\nТри.", "Четыре."]


def test_our_splitter_on_ud_samples():
    kk = score_split(FIXTURES / "kk_ktb_train_head.conllu", "kk")
    assert (kk.precision, kk.recall, kk.n_gold) == (1.0, 1.0, 20)
    # GSD keeps HTML entities (&#39;&#39; quotes) and has a sentence without a final
    # period ("…материалов Вышивки…"), which no splitter can see: 11 of 12 found.
    ru = score_split(FIXTURES / "ru_gsd_dev_sample.conllu", "ru")
    assert (ru.n_gold, ru.n_pred, ru.precision) == (12, 11, 1.0)


def test_bad_input(tmp_path):
    with pytest.raises(InputError):
        read_conllu_documents(tmp_path / "missing.conllu")
    empty = tmp_path / "empty.conllu"
    empty.write_text("1\tx\n\n", encoding="utf-8")
    with pytest.raises(InputError):
        score_split(empty, "kk")
