"""Benchmark suites read data the way the CLI reads the same files."""

from __future__ import annotations

import pytest

from align.errors import InputError
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


def test_mac_and_parice_read_as_vecalign_gold_folders(tmp_path):
    for folder, src, tgt in (("mac_dev_zh_en", "zh", "en"), ("parice_en_is", "eng", "isl")):
        root = tmp_path / folder
        for side, lines in ((src, ["a", "b", "c"]), (tgt, ["x", "y"])):
            if folder == "parice_en_is":  # SentAlign's files: "<index>TAB<sentence>"
                lines = [f"{i}\t{line}" for i, line in enumerate(lines)]
            (root / side).mkdir(parents=True)
            (root / side / "001").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (root / "gold").mkdir()
        # ParIce's u_1 ends in an unmatched bead for a line its text lacks: dropped, no link lost.
        (root / "gold" / "001").write_text("[0,1]:[0]\n[2]:[1]\n[3]:[]\n", encoding="utf-8")
    (mac,) = textberg.load_mac_dev(tmp_path)
    (parice,) = textberg.load_parice(tmp_path)
    assert mac.src == parice.src == ["a", "b", "c"] and mac.tgt == ["x", "y"]
    assert mac.gold == parice.gold == [((0, 1), (0,)), ((2,), (1,))]
    (tmp_path / "parice_en_is" / "gold" / "001").write_text("[0]:[0]\n[3]:[1]\n", encoding="utf-8")
    with pytest.raises(InputError, match="beyond the text"):  # a link, though, is an error
        textberg.load_parice(tmp_path)
    (tmp_path / "parice_en_is" / "eng" / "001").write_text("0\ta\n2\tb\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2 does not start with its index 1"):
        textberg.load_parice(tmp_path)


def test_one_ntrex_reader_serves_alignment_mining_and_translation(tmp_path):
    from eval.bench_translate import load_suite
    from eval.suites import comparable, ntrex

    root = tmp_path / "ntrex128"
    root.mkdir()
    for name, lines in (("DOCUMENT_IDS.tsv", ["a\tx", "a\tx", "b\ty"]), ("newstest2019-ref.kaz.txt", ["k1", "k2", "k3"]),
                        ("newstest2019-ref.rus.txt", ["r1", "r2", "r3"]), ("newstest2019-src.eng.txt", ["e1", "e2", "e3"])):
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = ntrex.documents(tmp_path)
    assert [d.kk for d in docs] == [["k1", "k2"], ["k3"]] and docs[1].en == ["e3"]
    assert ntrex.load("clean", tmp_path)[0].gold == [((0,), (0,)), ((1,), (1,))]
    assert load_suite("ntrex128", tmp_path, limit=2) == {"kk": ["k1", "k2"], "ru": ["r1", "r2"], "en": ["e1", "e2"]}
    assert {p.name for p in comparable.load(tmp_path, shares=(1.0,), sources=("ntrex",))} == {"ntrex:0@1", "ntrex:1@1"}
    (root / "newstest2019-ref.rus.txt").write_text("r1\n", encoding="utf-8")
    with pytest.raises(InputError, match="ntrex128"):  # the error names the folder, not a sentence
        ntrex.documents(tmp_path)


def test_calibrate_align_is_a_deprecated_entry_point():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "eval.calibrate_align", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.startswith("deprecated: python -m eval.calibrate_align")
