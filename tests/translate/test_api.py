"""The public translation API as a notebook user calls it."""

from __future__ import annotations

import pytest

from tests.translate.test_document import Upper


def test_translate_texts_with_a_given_translator_keeps_one_output_per_input():
    from translate import translate_texts

    out = translate_texts(["бір екі", "", "үш төрт бес"], src="kk", translator=Upper(), cache=False)
    assert out == ["БІР ЕКІ", "", "ҮШ ТӨРТ БЕС"]
    with pytest.raises(TypeError):
        translate_texts("not a list", src="kk", translator=Upper())


def test_translate_document_detects_the_language_and_keeps_the_layout():
    from translate import translate_document

    result = translate_document("Бүгін күн жылы. Ертең жаңбыр жауады.\n\nҚала әдемі.", translator=Upper(), cache=False)
    assert result.src == "kk"
    assert result.layout_text() == "БҮГІН КҮН ЖЫЛЫ. ЕРТЕҢ ЖАҢБЫР ЖАУАДЫ.\n\nҚАЛА ӘДЕМІ."


def test_a_model_by_path_is_loaded_once_and_translates(tiny_models):
    from translate import default_translator, translate_texts

    out = translate_texts(["Бүгін күн жылы."], src="kk", model=tiny_models["nllb"])
    assert len(out) == 1 and isinstance(out[0], str)
    assert default_translator(tiny_models["nllb"]) is default_translator(tiny_models["nllb"])
