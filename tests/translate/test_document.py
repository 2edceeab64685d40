"""The document layer with a fake translator: one output per input whatever the
length, layout kept, batches bounded by tokens, errors when an engine loses text."""

from __future__ import annotations

import pytest

from align.text import Document
from translate.document import (IncompleteTranslation, Stats, split_long, token_batches,
                                translate_document, translate_texts)


class Upper:
    """Counts words as tokens and 'translates' by upper-casing; records its calls."""

    name, engine, settings, fingerprint = "upper", "fake", "fake", "0"

    def __init__(self, max_length: int = 12):
        self.max_length = max_length
        self.calls: list[list[str]] = []

    def count_tokens(self, texts):
        return [len(t.split()) + 2 for t in texts]

    def translate(self, sentences, src, tgt):
        assert all(self.count_tokens([s])[0] <= self.max_length for s in sentences), "overlong unit sent"
        self.calls.append(list(sentences))
        return [s.upper() for s in sentences]


def words(n: int, sep: str = " ") -> str:
    return sep.join(f"w{i}" for i in range(n))


def test_split_long_cuts_at_clauses_then_words_and_keeps_every_word():
    text = "alpha beta gamma, delta epsilon; zeta eta theta iota kappa lambda mu nu xi omicron pi rho"
    pieces = split_long(text, lambda s: len(s.split()), 5)
    assert all(len(p.split()) <= 5 for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert pieces[0] == "alpha beta gamma, delta epsilon;"  # whole clauses packed, cut at ";"


def test_split_long_cuts_inside_an_overlong_word():
    pieces = split_long("x" * 50, len, 8)
    assert "".join(pieces) == "x" * 50 and all(len(p) <= 8 for p in pieces)


def test_token_batches_bound_padding_and_cover_everything():
    lengths = [5, 40, 7, 7, 100, 3, 12]
    batches = token_batches(lengths, 50)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 50


@pytest.mark.parametrize("n_words", [1, 9, 10, 11, 40, 400])
def test_one_translation_per_input_short_and_long(n_words):
    translator = Upper(max_length=12)
    texts = ["", "short one.", words(n_words), "   ", words(n_words, sep=", ")]
    stats = Stats()
    out = translate_texts(texts, "kk", "en", translator, batch_tokens=30, stats=stats)
    assert len(out) == len(texts)
    assert out[0] == "" and out[3] == ""
    assert out[2].split() == words(n_words).upper().split()  # nothing truncated
    assert out[4].replace(",", "").split() == words(n_words).upper().split()
    assert stats.split == (2 if n_words + 2 > 12 else 0)


def test_repeated_sentences_are_translated_once():
    translator = Upper()
    out = translate_texts(["Same.", "Other.", "Same."], "kk", "en", translator)
    assert out == ["SAME.", "OTHER.", "SAME."]
    assert sum(len(c) for c in translator.calls) == 2


def test_an_engine_that_loses_a_sentence_is_an_error():
    class Lossy(Upper):
        def translate(self, sentences, src, tgt):
            return super().translate(sentences, src, tgt)[:-1]

    with pytest.raises(IncompleteTranslation):
        translate_texts(["One.", "Two."], "kk", "en", Lossy())


def test_document_layout_and_paragraphs_are_kept():
    text = ("Бірінші сөйлем. Екінші сөйлем!\n\n"
            "  Үшінші абзац, ұзын " + words(30) + ".\n"
            "Төртінші жол\n\n\n"
            "Соңғы абзац?\n")
    doc = Document(path="doc.txt", text=text, encoding="utf-8")
    result = translate_document(doc, "kk", "en", Upper())
    assert len(result.translations) == len(result.sentences) >= 5
    assert result.layout_text() == text.upper()
    assert [s.paragraph for s in result.sentences] == sorted(s.paragraph for s in result.sentences)
