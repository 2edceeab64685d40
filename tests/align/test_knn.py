"""Sharded k-NN of corpus mining (align.knn): exact sharding changes nothing, a killed run
resumes from its stored neighbour lists, IVF-PQ shards find the exact neighbours."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from align.knn import KnnConfig, LocalShards, VectorFile, mutual_knn, search, write_vectors
from align.mine import MineConfig, mine_vectors, mutual_rows

DIM = 32
SYNTH = MineConfig(margin_weight=150.0, cos_weight=0.0, length_weight=0.0, intercept=-4.0)  # as test_mine


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _sides(tmp_path, n: int = 1500, m: int = 1300, seed: int = 0) -> tuple[VectorFile, VectorFile, dict[int, int]]:
    """Vectors around a shared mean direction (cosines all high, as e5's), a third of the
    sources with a translation at a random target row; duplicated target rows make exact ties."""
    rng = np.random.default_rng(seed)
    mean = 1.2 * _unit(rng.normal(size=DIM))
    src = _unit(mean + rng.normal(size=(n, DIM)) / np.sqrt(DIM))
    tgt = _unit(mean + rng.normal(size=(m, DIM)) / np.sqrt(DIM))
    rows = rng.permutation(m)[:n // 3]
    tgt[rows] = _unit(src[:n // 3] + 0.4 * rng.normal(size=(n // 3, DIM)) / np.sqrt(DIM))
    tgt[-5:] = tgt[:5]  # twins: ties broken by id, whatever the sharding
    return (write_vectors(tmp_path / "src.npy", [src[:700], src[700:]], n),
            write_vectors(tmp_path / "tgt.npy", [tgt], m), dict(zip(range(n // 3), rows.tolist())))


def _pairs(src, tgt, knn, run_dir, executor=None):
    cand = mine_vectors(src, tgt, SYNTH, knn, run_dir, executor)
    return [(int(cand.src[r]), int(cand.tgt[r]), float(cand.score[r])) for r in mutual_rows(cand)]


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    return _sides(tmp_path_factory.mktemp("vectors"))


@pytest.mark.parametrize("shards", [2, 3, 7])
def test_sharded_exact_search_equals_one_shard(sides, tmp_path, shards):
    src, tgt, gold = sides
    knn = KnnConfig(k=4, block=256)
    one = mutual_knn(src, tgt, dataclasses.replace(knn, shards=1), tmp_path / "one")
    many = mutual_knn(src, tgt, dataclasses.replace(knn, shards=shards), tmp_path / "many")
    for (s1, i1), (s2, i2) in zip(one, many):
        assert np.array_equal(s1, s2) and np.array_equal(i1, i2)
    # and they are the true neighbours: the brute-force product agrees wherever no near-tie blurs the cut
    full = src.open() @ tgt.open().T
    order = np.argsort(-full, axis=1, kind="stable")[:, :5]
    gap = np.take_along_axis(full, order[:, 3:5], axis=1)
    clear = gap[:, 0] - gap[:, 1] > 1e-5
    assert clear.mean() > 0.9
    assert all(set(a) == set(b) for a, b in zip(one[0][1][clear], order[clear, :4]))
    pairs = _pairs(src, tgt, dataclasses.replace(knn, shards=shards), tmp_path / "p-many")
    assert pairs == _pairs(src, tgt, dataclasses.replace(knn, shards=1), tmp_path / "p-one")
    found = sum(gold.get(s) == t for s, t, _ in pairs)
    assert found >= 0.9 * len(gold) and found >= 0.9 * len(pairs)


def test_twins_are_ordered_by_id(sides, tmp_path):
    src, tgt, _ = sides
    [(sims, ids)] = search(tmp_path, {"fwd": (tgt, tgt)}, KnnConfig(k=2, block=200, shards=3))
    m = tgt.rows
    for row in range(5):  # row r and row m-5+r are the same vector: both are its nearest, lower id first
        assert list(ids[row]) == [row, m - 5 + row] and list(ids[m - 5 + row]) == [row, m - 5 + row]
        assert sims[row, 0] == sims[row, 1]


class _Killed(Exception):
    pass


class _Counting(LocalShards):
    """Counts the (block, shard) searches it runs; ``die_after``: raise then, as a killed run."""

    def __init__(self, die_after: int | None = None) -> None:
        self.done, self.die_after = 0, die_after

    def run(self, task, todo, config, run_dir, advance):
        def step(n):
            self.done += n
            if self.die_after is not None and self.done >= self.die_after:
                raise _Killed

        super().run(task, todo, config, run_dir, step)


def test_a_killed_run_resumes_from_the_neighbour_lists_on_disk(sides, tmp_path):
    src, tgt, _ = sides
    knn = KnnConfig(k=4, block=256, shards=3)
    parts = 2 * 3 * 6  # two directions, three shards, six blocks each way
    with pytest.raises(_Killed):
        mutual_knn(src, tgt, knn, tmp_path / "run", _Counting(die_after=10))
    stored = sorted((tmp_path / "run").rglob("b*.npy"))
    assert len(stored) == 10 and not list((tmp_path / "run").rglob(".*.tmp"))
    again = _Counting()
    resumed = mutual_knn(src, tgt, knn, tmp_path / "run", again)
    assert again.done == parts - 10  # only what was missing
    clean = mutual_knn(src, tgt, knn, tmp_path / "clean")
    for (s1, i1), (s2, i2) in zip(resumed, clean):
        assert np.array_equal(s1, s2) and np.array_equal(i1, i2)
    # other settings or other vectors: nothing stored is reused
    other = _Counting()
    mutual_knn(src, tgt, dataclasses.replace(knn, k=3), tmp_path / "run", other)
    assert other.done == parts


def test_ivf_pq_shards_find_the_exact_neighbours(tmp_path):
    src, tgt, gold = _sides(tmp_path, n=3000, m=3000, seed=1)
    exact = mutual_knn(src, tgt, KnnConfig(k=4, block=1024, shards=2), tmp_path / "exact")
    ivf = mutual_knn(src, tgt, KnnConfig(k=4, block=1024, shards=2, ivf=True, nlist=16, pq_m=8, nprobe=12,
                                         train_per_list=100), tmp_path / "ivf")
    assert any((tmp_path / "ivf").glob("ivf-*.index"))
    for (es, ei), (vs, vi) in zip(exact, ivf):
        assert np.mean(ei[:, 0] == vi[:, 0]) > 0.95
        same = ei[:, 0] == vi[:, 0]
        assert np.array_equal(es[same, 0], vs[same, 0])  # re-ranked: the exact cosine, not PQ's estimate
    pairs = _pairs(src, tgt, KnnConfig(k=4, block=1024, shards=2, ivf=True, nlist=16, pq_m=8, nprobe=12,
                                       train_per_list=100), tmp_path / "ivf-pairs")
    assert sum(gold.get(s) == t for s, t, _ in pairs) >= 0.9 * len(gold)


def test_vector_files_are_whole_or_absent(tmp_path):
    def broken():
        yield np.ones((3, DIM), np.float32)
        raise OSError("disk gone")

    with pytest.raises(OSError):
        write_vectors(tmp_path / "v.npy", broken(), 6)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="3 vectors written, 6 announced"):
        write_vectors(tmp_path / "v.npy", [np.ones((3, DIM), np.float32)], 6)
    vectors = write_vectors(tmp_path / "v.npy", [np.eye(DIM, dtype=np.float32)], DIM)
    assert np.array_equal(vectors.read(3, 7), np.eye(DIM, dtype=np.float32)[3:7])


def _row_name(side: str, i: int) -> str:
    """A row's text, spelled without digits: a short numbered line would need its digits matched."""
    return side + "".join("abcdefghij"[int(d)] for d in str(i))


class _Table:
    """Texts are row names of two vector files: corpus mining without a model."""

    name = "table"

    def __init__(self, *files: VectorFile) -> None:
        self.rows = {_row_name(side, i): v for side, f in zip("st", files) for i, v in enumerate(f.open())}

    def encode(self, texts):
        return np.stack([self.rows[t] for t in texts])


def test_corpus_mining_resumes_from_its_run_folder(sides, tmp_path):
    from align.mine import mine_corpus

    src, tgt, _ = sides
    src_docs = [[_row_name("s", i) for i in range(a, min(a + 100, src.rows))] for a in range(0, src.rows, 100)]
    tgt_docs = [[_row_name("t", i) for i in range(a, min(a + 90, tgt.rows))] for a in range(0, tgt.rows, 90)]
    encoder, config = _Table(src, tgt), dataclasses.replace(SYNTH, chunk=500)
    with pytest.raises(_Killed):
        mine_corpus(src_docs, tgt_docs, encoder, config, run_dir=tmp_path / "run", executor=_Counting(die_after=5))
    again = _Counting()
    resumed = mine_corpus(src_docs, tgt_docs, encoder, config, run_dir=tmp_path / "run", executor=again)
    assert again.done == 2 * 3 - 5  # one shard, three blocks each way: only the last was searched again
    assert resumed == mine_corpus(src_docs, tgt_docs, encoder, config) and len(resumed) > 300
