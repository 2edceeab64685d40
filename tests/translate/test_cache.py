"""The translation cache: a damaged file is moved aside, damaged entries translated again,
entries from earlier versions (no checksums) still used."""

from __future__ import annotations

import hashlib
import sqlite3

from tests.translate.test_document import Upper
from translate.cache import TranslationCache
from translate.document import Stats, translate_texts

TEXTS = [f"Сөйлем {i}." for i in range(12)]


def translate(cache_dir, translator=None, warnings=None) -> tuple[list[str], Stats, Upper]:
    translator = translator or Upper()
    cache = TranslationCache(cache_dir, warn=warnings.append if warnings is not None else lambda m: None)
    stats = Stats()
    try:
        return translate_texts(TEXTS, "kk", "ru", translator, cache=cache, stats=stats), stats, translator
    finally:
        cache.close()


def test_unreadable_cache_file_is_moved_aside_and_replaced(tmp_path):
    path = tmp_path / "translations.sqlite"
    path.write_bytes(b"\x00garbage, not SQLite\x00" * 200)
    warnings: list[str] = []
    out, stats, _ = translate(tmp_path, warnings=warnings)
    assert out == [t.upper() for t in TEXTS] and stats.translated == 12
    asides = list(tmp_path.glob("translations.sqlite.corrupt-*"))
    assert len(asides) == 1 and asides[0].read_bytes() == b"\x00garbage, not SQLite\x00" * 200
    assert len(warnings) == 1 and str(path) in warnings[0] and str(asides[0]) in warnings[0]
    assert translate(tmp_path)[1].cached == 12  # the new file works


def test_damaged_entries_are_translated_again_and_rewritten(tmp_path):
    translate(tmp_path)
    path = tmp_path / "translations.sqlite"
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM translations ORDER BY key")]
        db.execute("UPDATE translations SET translation = 'WRONG TEXT' WHERE key = ?", [keys[0]])
        db.execute("UPDATE translations SET translation = ? WHERE key = ?", [b"\xff\xfe broken", keys[1]])
    warnings: list[str] = []
    out, stats, translator = translate(tmp_path, warnings=warnings)
    assert out == [t.upper() for t in TEXTS]
    assert stats.cached == 10 and sum(map(len, translator.calls)) == 2
    assert warnings == [f"{path}: 2 damaged cache entries ignored; recomputing them"]
    assert translate(tmp_path)[1].cached == 12


def test_cache_written_before_checksums_is_still_used(tmp_path):
    translator = Upper()
    model = TranslationCache.model_key(translator)
    with sqlite3.connect(tmp_path / "translations.sqlite") as db:  # the layout earlier versions wrote
        db.execute("CREATE TABLE tr (model TEXT, pair TEXT, key BLOB, translation TEXT, "
                   "PRIMARY KEY (model, pair, key))")
        db.executemany("INSERT INTO tr VALUES (?, ?, ?, ?)",
                       [(model, "kk-ru", hashlib.blake2b(t.encode(), digest_size=16).digest(), f"old {t}")
                        for t in TEXTS[:6]])
    out, stats, _ = translate(tmp_path, translator)
    assert out == [f"old {t}" for t in TEXTS[:6]] + [t.upper() for t in TEXTS[6:]]
    assert stats.cached == 6 and stats.translated == 6


def test_translate_with_an_unreadable_cache_file_warns_and_runs(tiny_models, tmp_path):
    from click.testing import CliRunner

    from translate.cli import main

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "translations.sqlite").write_bytes(b"\x00" * 4096)
    doc = tmp_path / "kk.txt"
    doc.write_text("Біз келдік. Ол кетті.\n", encoding="utf-8")
    args = [str(doc), "--model", tiny_models["nllb"], "--engine", "transformers", "--beam", "1",
            "--cache-dir", str(cache)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    aside = next(cache.glob("translations.sqlite.corrupt-*"))
    assert f"warning: {cache / 'translations.sqlite'}: damaged cache file" in first.stderr
    assert str(aside) in first.stderr
    second = CliRunner().invoke(main, args)
    assert "from cache" in second.stderr and second.stdout == first.stdout
