"""Each family gets its language codes right, on both engines where it converts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from align.errors import ModelError, UsageError
from translate.engines import load_translator, pick_engine
from translate.families import BY_NAME, FAMILIES, detect_family

KK = "Мемлекет басшысы Нұрсұлтан Назарбаев."


def tokens(translator, text, src, tgt):
    codec = translator.codec
    ids = codec.encode([text], src, tgt)[0]
    return codec.tokenizer.convert_ids_to_tokens(ids), codec.tokenizer.convert_ids_to_tokens(codec.target_prefix(tgt))


def test_every_family_has_codes_for_kk_ru_en():
    for family in FAMILIES:
        assert set(family.codes) == {"kk", "ru", "en"}
    assert BY_NAME["nllb"].codes == {"kk": "kaz_Cyrl", "ru": "rus_Cyrl", "en": "eng_Latn"}
    assert BY_NAME["madlad"].codes["en"] == "<2en>"


@pytest.mark.parametrize("name", ["nllb", "m2m100", "marian", "chat"])
def test_family_is_detected_from_the_files(tiny_models, name):
    assert detect_family(tiny_models[name]).name == name


@pytest.mark.parametrize("engine", ["transformers", "ctranslate2"])
def test_nllb_source_language_token_first_target_token_forced(tiny_models, engine):
    tr = load_translator(tiny_models["nllb"], engine=engine, beam=1)
    assert tokens(tr, KK, "kk", "en") == ([*["kaz_Cyrl"], *tokens(tr, KK, "kk", "en")[0][1:-1], "</s>"], ["eng_Latn"])
    assert tokens(tr, KK, "ru", "en")[0][0] == "rus_Cyrl"
    assert tokens(tr, KK, "kk", "ru")[1] == ["rus_Cyrl"]
    assert len(tr.translate([KK, "Ресей."], "kk", "en")) == 2


@pytest.mark.parametrize("engine", ["transformers", "ctranslate2"])
def test_m2m100_codes(tiny_models, engine):
    tr = load_translator(tiny_models["m2m100"], engine=engine, beam=2)
    source, prefix = tokens(tr, KK, "kk", "en")
    assert source[0] == "__kk__" and source[-1] == "</s>" and prefix == ["__en__"]
    assert all("__" not in out for out in tr.translate([KK], "kk", "en"))  # language tokens never leak


def test_small100_puts_the_target_code_before_the_source(tiny_models, tmp_path):
    model = Path(shutil.copytree(tiny_models["m2m100"], tmp_path / "small100"))
    config = json.loads((model / "tokenizer_config.json").read_text())
    (model / "tokenizer_config.json").write_text(json.dumps(config | {"tokenizer_class": "SMALL100Tokenizer"}))
    tr = load_translator(str(model), beam=1)
    assert tr.engine == "transformers"  # auto: CTranslate2 cannot load its tokenizer
    source, prefix = tokens(tr, KK, "kk", "en")
    assert source[0] == "__en__" and prefix == []
    assert len(tr.translate([KK], "kk", "en")) == 1


@pytest.mark.parametrize("engine", ["transformers", "ctranslate2"])
def test_marian_pair_model(tiny_models, engine):
    tr = load_translator(tiny_models["marian"], engine=engine, beam=1)
    source, prefix = tokens(tr, "Президенты обсудили.", "ru", "en")
    assert source[-1] == "</s>" and not source[0].startswith(">>") and prefix == []
    assert len(tr.translate(["Президенты обсудили.", "Да."], "ru", "en")) == 2
    with pytest.raises(ModelError, match="ru->en"):
        tr.translate([KK], "kk", "en")


def test_chat_model_prompt_names_both_languages(tiny_models):
    tr = load_translator(tiny_models["chat"], beam=1)
    assert tr.engine == "transformers"
    prompt = tr.prompt(KK, "kk", "en")
    assert prompt.startswith("<|user|>") and prompt.endswith("<|assistant|>")
    assert "Kazakh" in prompt and "English" in prompt and KK in prompt
    assert len(tr.translate([KK, "Ресей."], "kk", "en")) == 2
    with pytest.raises(UsageError):
        load_translator(tiny_models["chat"], engine="ctranslate2")


def test_auto_engine_is_ctranslate2_on_cpu_where_it_converts():
    assert pick_engine(BY_NAME["nllb"], "auto", "cpu") == "ctranslate2"
    assert pick_engine(BY_NAME["nllb"], "auto", "cuda") == "transformers"
    assert pick_engine(BY_NAME["chat"], "auto", "cpu") == "transformers"


def test_both_engines_agree_on_nllb(tiny_models):
    """Same ids in, same greedy output out: the codec is shared, only the runtime differs."""
    sentences = [KK, "Ресей Федерациясының Президенті."]
    hf = load_translator(tiny_models["nllb"], engine="transformers", beam=1).translate(sentences, "kk", "en")
    ct2 = load_translator(tiny_models["nllb"], engine="ctranslate2", beam=1).translate(sentences, "kk", "en")
    assert hf == ct2
