"""Every writer must round-trip through our reader or a standard tool, and never corrupt files."""

from __future__ import annotations

import dataclasses
import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from align import __version__, formats
from align.beads import Alignment, Bead, SourceFacts
from align.mine import Verdict
from align.search import AlignStats
from align.errors import FormatError, InputError, UsageError
from align.formats import FORMATS, read_beads, read_bitext, render, write_alignment, write_atomic

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

SRC = ("Сәлем, әлем!", "Бұл бірінші сөйлем.", "Екінші\tсөйлем\nекі жолда.", "Артық сөйлем.", "Соңғы.")
TGT = ("Привет, мир!", "Это первое", "предложение.", "Второе предложение.", "Лишнее.", "Последнее.")


def make_alignment(**kw) -> Alignment:
    beads = (
        Bead((0,), (0,), 0.9731),
        Bead((1,), (1, 2), 0.8125),
        Bead((2,), (3,), 0.55),
        Bead((3,), (), 0.2),
        Bead((), (4,), 0.1),
        Bead((4,), (5,), 0.9),
    )
    return Alignment(SRC, TGT, beads, model="labse", **kw)


def test_formats_tuple():
    assert tuple(FORMATS) == ("vecalign", "tsv", "jsonl", "moses", "tmx", "html")


def test_vecalign_text_and_round_trip(tmp_path):
    al = make_alignment()
    text = render(al, "vecalign")
    assert text.splitlines()[1] == "[1]:[1, 2]:0.8125"
    assert text.splitlines()[3] == "[3]:[]:0.2000"
    assert "[]:[4]:0.1000" in text
    (path,) = write_alignment(al, "vecalign", tmp_path / "out.vecalign")
    assert read_beads(path) == list(al.beads)


def test_vecalign_reader_takes_gold_without_scores_and_compact_lists(tmp_path):
    gold = tmp_path / "gold"
    gold.write_text("[0]:[0, 1]\n[1,2]:[2]\n\n[]:[3]\n[3]:[]\n[4, 7]:[4, 5]\n", encoding="utf-8")
    assert read_beads(gold) == [
        Bead((0,), (0, 1), 0.0),
        Bead((1, 2), (2,), 0.0),
        Bead((), (3,), 0.0),
        Bead((3,), (), 0.0),
        Bead((4, 7), (4, 5), 0.0),  # real Text+Berg gold has non-consecutive ids
    ]


@pytest.mark.parametrize(
    "content, line",
    [
        ("[0]:[0]\n[1]-[1]\n", 2),
        ("[0]:[0]\n\n[1]:[x]\n", 3),
        ("[0]:[0]:high\n", 1),
        ("[0]:[0]\n[]:[]\n", 2),
    ],
)
def test_vecalign_reader_points_at_bad_line(tmp_path, content, line):
    path = tmp_path / "bad.vecalign"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=rf"bad\.vecalign:{line}:"):
        read_beads(path)


def test_tsv_columns_cleaned_and_round_trip(tmp_path):
    al = make_alignment()
    lines = render(al, "tsv").splitlines()
    assert len(lines) == len(al.beads)
    assert lines[1] == "Бұл бірінші сөйлем.\tЭто первое предложение.\t0.8125"
    assert lines[2].split("\t")[0] == "Екінші сөйлем екі жолда."
    assert lines[3] == "Артық сөйлем.\t\t0.2000"
    assert lines[4] == "\tЛишнее.\t0.1000"
    (path,) = write_alignment(al, "tsv", tmp_path / "out.tsv")
    got = read_bitext(path)
    assert [(s, t) for s, t, _ in got] == [
        (al.src_text(b).replace("\t", " ").replace("\n", " "), al.tgt_text(b)) for b in al.beads
    ]
    assert [score for *_, score in got] == [0.9731, 0.8125, 0.55, 0.2, 0.1, 0.9]


def test_tsv_reader_score_optional_and_bad_columns(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("a\tб\nc\tд\t0.5\n", encoding="utf-8")
    assert read_bitext(path) == [("a", "б", None), ("c", "д", 0.5)]
    path.write_text("a\tб\t0.5\nonly one column\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"x\.tsv:2:"):
        read_bitext(path)


def test_jsonl_one_bead_per_line_and_round_trip(tmp_path):
    al = make_alignment()
    lines = render(al, "jsonl").splitlines()
    assert len(lines) == len(al.beads)
    rec = json.loads(lines[1])
    assert rec == {
        "src": [1],
        "tgt": [1, 2],
        "score": 0.8125,
        "src_text": "Бұл бірінші сөйлем.",
        "tgt_text": "Это первое предложение.",
        "kind": "1-2",
    }
    assert "Бұл" in lines[1]  # ensure_ascii=False
    (path,) = write_alignment(al, "jsonl", tmp_path / "out.jsonl")
    assert read_beads(path) == list(al.beads)
    assert read_bitext(path) == [(al.src_text(b), al.tgt_text(b), b.score) for b in al.beads]


def test_jsonl_meta_only_when_asked_and_skipped_by_readers(tmp_path):
    al = make_alignment()
    assert "meta" not in render(al, "jsonl")
    text = render(al, "jsonl", meta=True)
    first = json.loads(text.splitlines()[0])
    quartiles = first["meta"].pop("link_score_quartiles")
    assert first == {
        "meta": {"src_lang": "kk", "tgt_lang": "ru", "model": "labse", "src_sentences": 5, "tgt_sentences": 6,
                 "beads": 6, "links": 4, "src_linked": 4, "tgt_linked": 5, "kkru_version": __version__}
    }
    # the four links' scores 0.55, 0.8125, 0.9, 0.9731: min, quartiles, max
    assert quartiles == pytest.approx([0.55, 0.7469, 0.8562, 0.9183, 0.9731], abs=1e-4)
    path = tmp_path / "meta.jsonl"
    path.write_text(text, encoding="utf-8")
    assert read_beads(path) == list(al.beads)
    assert len(read_bitext(path)) == len(al.beads)
    with pytest.raises(UsageError, match="jsonl"):
        render(al, "tsv", meta=True)


def test_jsonl_meta_is_rendered_from_the_typed_result_and_diagnostics_only_for_debug():
    verdict = Verdict("unrelated", 0.04444, 1, 5, 6, 1.0, 0.81234, in_order=0.0123, k=4, threshold=0.8)
    stats = AlignStats(5, 6, np.array([[-2.5, 0.0], [0.25, 1.0]]), levels=1, band_cells=552,
                       slope=np.float64(37.5), strings_embedded=13, seconds_align=0.02)
    al = Alignment(SRC, TGT, make_alignment().beads, SourceFacts("kk", "kk.txt", "utf-8", (3,)),
                   SourceFacts("ru", "ru.txt", "cp1251", ()), "labse", verdict, "parallel", 0, stats)
    meta = json.loads(render(al, "jsonl", meta=True, min_score=0.5).splitlines()[0])["meta"]
    assert list(meta.items()) == [  # the keys and order users' files have had, the links' summary added
        ("src_path", "kk.txt"), ("tgt_path", "ru.txt"), ("src_encoding", "utf-8"), ("tgt_encoding", "cp1251"),
        ("src_lang", "kk"), ("tgt_lang", "ru"), ("model", "labse"), ("verdict", "unrelated"),
        ("verdict_figure", "mined share"), ("verdict_value", 0.0444), ("parallelness", 0.0444), ("n_mutual", 1),
        ("order", 1.0), ("in_order", 0.0123), ("supported", 0), ("off_chain", 0), ("mean_mined_score", 0.8123),
        ("threshold", 0.8), ("mode", "parallel"), ("unlinked_beads", 0), ("src_foreign", [3]), ("tgt_foreign", []),
        ("src_sentences", 5), ("tgt_sentences", 6), ("beads", 4), ("links", 4), ("src_linked", 4),
        ("tgt_linked", 5), ("link_score_quartiles", [0.55, 0.7469, 0.8562, 0.9183, 0.9731]),
        ("kkru_version", __version__)]
    debug = json.loads(render(al, "jsonl", meta=True, debug=True).splitlines()[0])["meta"]["debug"]
    # real JSON numbers and lists, not numpy's repr in a string
    assert debug == {"k": 4, "n_src": 5, "n_tgt": 6, "confidence_features": [[-2.5, 0.0], [0.25, 1.0]], "levels": 1,
                     "band_cells": 552, "slope": 37.5, "strings_embedded": 13, "seconds_align": 0.02}


def test_jsonl_meta_of_mined_pairs_and_corpora():
    """Unlinked beads are counted only where a monotonic path was checked; a corpus names
    its document counts and has no per-file facts."""
    verdict = Verdict("comparable", 0.5, 3, 5, 6, 0.5, 0.9, linked=0.61234, probability=0.91234)
    mined = dataclasses.replace(make_alignment(), verdict=verdict, mode="mine")
    meta = json.loads(render(mined, "jsonl", meta=True).splitlines()[0])["meta"]
    assert meta["mode"] == "mine" and "unlinked_beads" not in meta and "debug" not in meta
    # the second stage's two figures, though neither made the pair parallel
    assert (meta["linked_share"], meta["parallel_probability"], meta["verdict_figure"]) == (0.6123, 0.9123,
                                                                                            "in-order share")
    corpus = dataclasses.replace(make_alignment(), src=SourceFacts("kk", documents=2),
                                 tgt=SourceFacts("ru", documents=3), mode="mine-corpus")
    meta = json.loads(render(corpus, "jsonl", meta=True, debug=True).splitlines()[0])["meta"]
    assert list(meta) == ["src_lang", "tgt_lang", "model", "mode", "src_documents", "tgt_documents", "src_sentences",
                          "tgt_sentences", "beads", "links", "src_linked", "tgt_linked", "link_score_quartiles",
                          "kkru_version", "debug"] and meta["debug"] == {}


def test_scores_have_four_decimals_in_every_text_format():
    al = Alignment(SRC[:2], TGT[:2], (Bead((0,), (0,), 0.71554255131), Bead((1,), (), 0.123456789),
                                      Bead((), (1,), 0.5)))
    for fmt in ("vecalign", "tsv"):
        assert [line.rsplit(":" if fmt == "vecalign" else "\t", 1)[1] for line in render(al, fmt).splitlines()] == [
            "0.7155", "0.1235", "0.5000"]
    assert [json.loads(line)["score"] for line in render(al, "jsonl").splitlines()] == [0.7155, 0.1235, 0.5]
    props = [p.text for p in ET.fromstring(render(al, "tmx").split("\n", 2)[2]).iter("prop")]
    assert props == ["0.7155"]  # the only unit: 1-0 / 0-1 beads have no translation unit
    html = render(al, "html")
    assert all(f"<b>{score}</b>" in html for score in ("0.7155", "0.1235", "0.5000"))


def test_tmx_writer_leaves_out_empty_variants_and_lone_units():
    units = [formats.TmxUnit((formats.TmxVariant("kk", "Сәлем."), formats.TmxVariant("ru", " "),
                              formats.TmxVariant("en", "Hello.", (("x-source", "kk"),))), (("x-score", "0.5000"),)),
             formats.TmxUnit((formats.TmxVariant("kk", "Жалғыз."), formats.TmxVariant("ru", "")))]
    root = ET.fromstring(formats.render_tmx(units, "kk").split("\n", 2)[2])
    (tu,) = root.iter("tu")
    assert [(tuv.get(XML_LANG), tuv.findtext("seg")) for tuv in tu.iter("tuv")] == [("kk", "Сәлем."), ("en", "Hello.")]
    assert [(p.get("type"), p.text) for p in tu.iter("prop")] == [("x-score", "0.5000"), ("x-source", "kk")]


def test_jsonl_keeps_per_bead_extras():
    @dataclasses.dataclass(frozen=True)
    class MarginBead(Bead):
        margin: float = 0.0

    al = Alignment(("a",), ("б",), (MarginBead((0,), (0,), 0.7, margin=0.25),))
    rec = json.loads(render(al, "jsonl"))
    assert rec["margin"] == 0.25 and rec["src"] == [0] and rec["kind"] == "1-1"


def test_jsonl_reader_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"src": [0], "tgt": [0], "score": 1}\n{"src": [0], "tgt": "x"}\n', encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad\.jsonl:2:.*tgt"):
        read_beads(path)
    path.write_text('{"src": [0], "tgt": [0]}\n{not json\n', encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad\.jsonl:2: not valid JSON"):
        read_beads(path)


def test_moses_parallel_files_skip_empty_sides(tmp_path):
    al = make_alignment()
    paths = write_alignment(al, "moses", tmp_path / "corpus" / "train")
    assert [p.name for p in paths] == ["train.kk", "train.ru"]
    kk, ru = (p.read_text(encoding="utf-8").splitlines() for p in paths)
    assert len(kk) == len(ru) == 4  # the 1-0 and 0-1 beads are left out
    assert kk[2] == "Екінші сөйлем екі жолда." and ru[1] == "Это первое предложение."
    with pytest.raises(FormatError, match="prefix"):
        write_alignment(al, "moses", None)


def test_tmx_is_valid_xml_with_languages_and_scores(tmp_path):
    al = make_alignment()
    (path,) = write_alignment(al, "tmx", tmp_path / "out.tmx")
    root = ET.parse(path).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = dict(root.find("header").attrib)
    assert header.pop("creationtoolversion")
    assert header == {
        "creationtool": "kkru",
        "datatype": "plaintext",
        "segtype": "sentence",
        "adminlang": "en",
        "srclang": "kk",
        "o-tmf": "kkru",
    }
    tus = root.findall("body/tu")
    assert len(tus) == 4  # only beads with both sides
    assert [tuv.get(XML_LANG) for tuv in tus[1].findall("tuv")] == ["kk", "ru"]
    assert tus[1].find("prop[@type='x-score']").text == "0.8125"
    assert tus[1].findall("tuv/seg")[1].text == "Это первое предложение."
    assert read_bitext(path) == [
        ("Сәлем, әлем!", "Привет, мир!", 0.9731),
        ("Бұл бірінші сөйлем.", "Это первое предложение.", 0.8125),
        ("Екінші сөйлем екі жолда.", "Второе предложение.", 0.55),
        ("Соңғы.", "Последнее.", 0.9),
    ]


def test_tmx_escapes_markup_and_drops_forbidden_characters(tmp_path):
    nasty = 'x <script>alert("&amp;")</script> & \x00\x01\x0b\x1f\ufffe end'
    al = Alignment((nasty,), ("ok ]]> <b>",), (Bead((0,), (0,), 1.0),), src=SourceFacts("kk"), tgt=SourceFacts("ru"))
    path = tmp_path / "nasty.tmx"
    write_alignment(al, "tmx", path)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    segs = [seg.text for seg in ET.parse(path).getroot().iter("seg")]
    # \x0b is a line break to str.splitlines(), so it becomes a space like \n; the rest go.
    assert segs == ['x <script>alert("&amp;")</script> &   end', "ok ]]> <b>"]


def test_tmx_uses_the_alignment_languages(tmp_path):
    al = make_alignment(src=SourceFacts("ru"), tgt=SourceFacts("kk"))
    root = ET.fromstring(render(al, "tmx").split("\n", 2)[2])
    assert root.find("header").get("srclang") == "ru"
    assert {tuv.get(XML_LANG) for tuv in root.iter("tuv")} == {"ru", "kk"}


def test_tmx_reader_reports_broken_xml(tmp_path):
    path = tmp_path / "broken.tmx"
    path.write_text("<tmx>\n<body>\n<tu></body>\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"broken\.tmx:3:"):
        read_bitext(path)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "html"])
def test_min_score_drops_low_beads_of_every_kind(tmp_path, fmt):
    al = make_alignment()
    kept = [b for b in al.beads if b.score >= 0.5]
    written = write_alignment(al, fmt, tmp_path / f"out.{fmt}", min_score=0.5)
    if fmt in ("vecalign", "jsonl"):
        assert read_beads(written[0], fmt) == kept
    elif fmt in ("tsv", "tmx"):
        assert [s for *_, s in read_bitext(written[0], fmt)] == [b.score for b in kept]
    else:
        assert all(len(p.read_text(encoding="utf-8").splitlines()) == 4 for p in written)
    assert "0.2000" not in "".join(p.read_text(encoding="utf-8") for p in written)


def test_html_report_keeps_every_bead_and_flags_low_ones(tmp_path):
    al = make_alignment()
    html = write_alignment(al, "html", tmp_path / "r.html", min_score=0.5)[0].read_text(encoding="utf-8")
    for sentence in al.src_sentences + al.tgt_sentences:
        assert sentence.split()[0] in html
    assert "0.2000" in html or "0.20" in html


def test_write_to_stdout(capsys):
    assert write_alignment(make_alignment(), "vecalign", None) == []
    assert capsys.readouterr().out.startswith("[0]:[0]:0.9731\n")


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown format"):
        render(make_alignment(), "csv")
    with pytest.raises(UsageError):
        read_beads("whatever", "tsv")


def test_format_inferred_from_content(tmp_path):
    al = make_alignment()
    for fmt in ("vecalign", "jsonl"):
        path = tmp_path / f"noext_{fmt}"
        path.write_text(render(al, fmt), encoding="utf-8")
        assert read_beads(path) == list(al.beads)
    for fmt in ("tsv", "jsonl", "tmx"):
        path = tmp_path / f"noext_{fmt}"
        path.write_text(render(al, fmt), encoding="utf-8")
        assert read_bitext(path)[0] == ("Сәлем, әлем!", "Привет, мир!", 0.9731)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_beads(tmp_path / "nope.vecalign")


def test_write_atomic_creates_dirs_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    write_atomic(target, "один\nдва\r\n")
    assert target.read_bytes() == "один\nдва\r\n".encode()
    assert os.listdir(target.parent) == ["out.txt"]


def test_write_atomic_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old complete content", encoding="utf-8")

    def boom(*args, **kwargs):
        raise OSError("disk vanished")

    monkeypatch.setattr(formats.os, "replace", boom)
    with pytest.raises(OSError, match="disk vanished"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old complete content"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_tsv_header_names_the_languages_and_is_skipped_by_the_reader(tmp_path):
    al = make_alignment(src=SourceFacts("ru"), tgt=SourceFacts("kk"))
    assert not render(al, "tsv").startswith("#")  # off by default
    lines = render(al, "tsv", header=True).splitlines()
    assert lines[0] == "# ru\tkk\tscore" and len(lines) == len(al.beads) + 1
    (path,) = write_alignment(al, "tsv", tmp_path / "out.tsv", header=True)
    assert read_bitext(path) == read_bitext(write_alignment(al, "tsv", tmp_path / "plain.tsv")[0])
    with pytest.raises(UsageError, match="tsv"):
        render(al, "jsonl", header=True)


# A format a contributor might add: one registry entry, nothing else.
def _write_psv(alignment, options):
    return "".join(f"{alignment.src_text(b)}|{alignment.tgt_text(b)}\n" for b in alignment.beads if b.src and b.tgt)


def _read_psv(path, text):
    return [(*line.split("|"), None) for line in text.splitlines() if line]


@pytest.fixture
def psv_cli(monkeypatch):
    """``align``'s CLI as it is built with a "psv" format registered (click reads the registry at import)."""
    import importlib

    import align.cli

    psv = formats.Format("psv", ".psv", "(kk text|ru text)", _write_psv, read_bitext=_read_psv,
                         read_suffixes=(".psv",))
    monkeypatch.setitem(formats.FORMATS, "psv", psv)
    yield importlib.reload(align.cli).main
    monkeypatch.undo()
    importlib.reload(align.cli)


def test_a_format_registered_once_is_a_choice_in_help_batch_and_the_reader(psv_cli, tmp_path):
    from click.testing import CliRunner

    from tests.conftest import KK_SEED, RU_SEED

    help_text = " ".join(CliRunner().invoke(psv_cli, ["--help"]).stdout.split())
    assert "psv (kk text|ru text)" in help_text and "|html|psv]" in help_text
    (tmp_path / "kk.txt").write_bytes(KK_SEED.read_bytes())
    (tmp_path / "ru.txt").write_bytes(RU_SEED.read_bytes())
    (tmp_path / "pairs.tsv").write_text("kk.txt\tru.txt\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(psv_cli, ["--batch", str(tmp_path / "pairs.tsv"), "--out-dir", str(out),
                                          "-f", "psv", "-q"])
    assert result.exit_code == 0, result.output
    (written,) = out.glob("kk-*.psv")
    rows = read_bitext(written)
    assert rows and all(src and tgt and score is None for src, tgt, score in rows)


def test_read_languages_names_the_columns_read_bitext_gives(tmp_path):
    from align.formats import read_languages

    al = make_alignment()  # kk and ru
    (jsonl,) = write_alignment(al, "jsonl", tmp_path / "a.jsonl", meta=True)
    (tsv,) = write_alignment(al, "tsv", tmp_path / "a.tsv")
    assert read_languages(jsonl) == ("kk", "ru") and read_languages(tsv) == (None, None)
    tmx = tmp_path / "a.tmx"  # Russian <tuv> first; the header says the source is Kazakh
    tmx.write_text('<tmx version="1.4"><header srclang="KK"/><body><tu><tuv xml:lang="ru-RU"><seg>Привет</seg>'
                   '</tuv><tuv xml:lang="KK"><seg>Сәлем</seg></tuv></tu></body></tmx>', encoding="utf-8")
    assert read_bitext(tmx) == [("Сәлем", "Привет", None)]
    assert read_languages(tmx) == ("KK", "ru-RU")
    (tmp_path / "bare.jsonl").write_text('{"src": [0], "tgt": [0], "src_text": "a", "tgt_text": "b"}\n')
    assert read_languages(tmp_path / "bare.jsonl") == (None, None)
