"""Reading documents: encodings, normalisation, and every kind of bad input."""

import os

import pytest

from align.errors import InputError
from align.text import decode, normalise, read_document
from tests.conftest import KK_SEED, RU_SEED

RU = "Президенты Казахстана и России обсудили вопросы сотрудничества. Об этом сообщила пресс-служба."
KK = "Мемлекет басшысы Ресей Президентімен кездесті. Кездесу барысында ынтымақтастық талқыланды."


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1251", "koi8_r"])
def test_russian_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "doc.txt"
    path.write_bytes(RU.encode(encoding))
    doc = read_document(str(path))
    assert doc.text == RU
    if encoding.startswith("cp") or encoding.startswith("koi"):
        assert doc.encoding.replace("_", "").lower() == encoding.replace("_", "").lower()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "kz1048"])
def test_kazakh_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "doc.txt"
    path.write_bytes(KK.encode(encoding))
    assert read_document(str(path)).text == KK


def test_non_utf8_encoding_is_reported(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(RU.encode("cp1251"))
    said = []
    read_document(str(path), warn=said.append)
    assert said == [f"{path}: decoded as cp1251"]


def test_normalise_keeps_meaning_and_lines():
    raw = "Сөз\u00a0бен\u00adсөз\u200b.\r\nЕкінші\u202fжол.\r\rҮшінші"
    assert normalise(raw) == "Сөз бенсөз.\nЕкінші жол.\n\nҮшінші"
    # NFC: a decomposed й becomes one code point
    assert normalise("и\u0306") == "й"


def test_seeds_read_unchanged():
    for seed in (KK_SEED, RU_SEED):
        doc = read_document(str(seed))
        assert doc.encoding == "utf-8"
        assert doc.text.split() == seed.read_text(encoding="utf-8").split()


def test_stdin(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(KK.encode("utf-8"))))
    assert read_document("-").text == KK


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"),
    (b"   \n\t\n  ", "is empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    (os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00\x00\x00", "binary"),
    (bytes(range(128, 256)) * 8, "cannot decode"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, problem):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_document(str(path))
    assert problem in str(err.value) and str(path) in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_document(str(tmp_path / "nope.txt"))
    with pytest.raises(InputError, match="is a directory"):
        read_document(str(tmp_path))


def test_broken_utf16(tmp_path):
    with pytest.raises(InputError):
        decode(b"\xff\xfe" + "абв".encode("utf-16-le") + b"\x00\xd8", "x")
