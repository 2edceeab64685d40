"""Benchmark suites read data the way the CLI reads the same files."""

from __future__ import annotations

from eval.suites import textberg


def test_textberg_sentences_are_stripped_like_presplit_input(tmp_path):
    # Every Text+Berg line ends in a space; `align --presplit` strips it, so the suite must too,
    # or the benchmark would embed (and score) different strings from what users get.
    root = tmp_path / "textberg" / "test"
    for lang, lines in (("de", ["Erster Satz . ", " Zweiter Satz . "]), ("fr", ["Première phrase . "])):
        (root / lang).mkdir(parents=True)
        (root / lang / "001").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "gold").mkdir()
    (root / "gold" / "001").write_text("[0, 1]:[0]\n", encoding="utf-8")
    (doc,) = textberg.load("test", tmp_path)
    assert doc.src == ["Erster Satz .", "Zweiter Satz ."] and doc.tgt == ["Première phrase ."]
    assert doc.gold == [((0, 1), (0,))]
