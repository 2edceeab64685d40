"""Sharded k-nearest-neighbour search (inner product) for corpus mining, local or on Ray.

The ratio margin needs each sentence's ``k`` nearest neighbours on the other side,
both ways. At corpus scale neither side fits one index on one worker, so the base
side is split into shards (contiguous row ranges of a vector file) and every block
of queries is searched against every shard:

* **Exact shards** (flat inner product, ``faiss.knn`` on the shard's rows: 4 * dim
  bytes a vector, nothing copied into an index) up to ``ivf_above`` base vectors;
  **IVF-PQ shards** beyond (or with ``ivf=True``): one index trained per side on a
  fixed sample (``nlist`` lists, ``pq_m`` sub-quantizers of 8 bits, residuals),
  cloned per shard, each holding only its rows' codes (``pq_m`` + 8 bytes a
  vector); ``nprobe`` lists are visited and ``rerank`` candidates a query re-ranked
  by the exact product, read from the memory-mapped vector file.
* **Exact merge**: every shard returns ``k + extra`` candidates whose cosines are
  recomputed one pair at a time in float64 (so a pair's cosine does not depend on
  how BLAS blocked the shard it sat in), sorted by cosine then id; the per-shard
  lists are merged the same way and cut at ``k``. The result of exact search is thus
  the same for any shard count (the ``extra`` candidates absorb BLAS-level near-ties
  at a shard's cut).
* **Resume**: the neighbour list of each (query block, shard) is a ``.npy`` file in the
  run folder, written atomically; a rerun with the same vectors and settings
  (``manifest.json``) searches only what is missing. Anything else there is cleared.
* **Executors**: :class:`LocalShards` searches shard after shard in this process
  (one shard in memory at a time); :class:`RayShards` gives each shard to an actor
  (fractional CPUs, restarted when it dies) and feeds it query blocks. Both call
  :class:`Shard`. On a multi-node cluster the run folder must be on storage every
  node sees: actors read their rows from the vector files there.

Memory per worker: exact shard, ``4 * dim * shard_rows`` plus a query block's
``block * 4 * dim`` and faiss's result buffers; IVF-PQ shard, ``(pq_m + 8) *
shard_rows`` plus the trained quantizer (``nlist * dim * 4``) and the pages of the
vector file that re-ranking touches (file-backed page cache, reclaimable).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .formats import write_atomic

NEIGHBOUR = np.dtype([("sim", "<f4"), ("id", "<i8")])  # one candidate of a stored neighbour list


@dataclass(frozen=True)
class KnnConfig:
    """How the k-NN step runs. ``shards``: base-side shards (None: :meth:`shard_count`).
    ``ivf``: None picks IVF-PQ for bases above ``ivf_above`` vectors. The per-shard
    defaults bound a worker's memory (module docstring)."""

    k: int = 4
    block: int = 4096           # queries per (block, shard) task and file
    extra: int = 4              # candidates past k an exact shard returns (near-ties at its cut)
    shards: int | None = None
    shard_size: int = 1_000_000  # exact shards' vectors when ``shards`` is None (1.5 GB at dim 384)
    ivf_shard_size: int = 16_000_000  # IVF-PQ shards' vectors when ``shards`` is None (0.9 GB of codes at pq_m 48)
    ivf: bool | None = None
    ivf_above: int = 4_000_000  # base vectors above which shards are IVF-PQ
    nlist: int | None = None    # IVF lists (None: the power of two nearest 4 * sqrt(base size))
    pq_m: int = 48              # PQ sub-quantizers, 8 bits each (fewer where dim does not divide by it)
    nprobe: int = 32            # IVF lists visited per query
    rerank: int = 32            # IVF candidates per query re-ranked by the exact product
    train_per_list: int = 40    # IVF training sample: this many vectors per list (fixed seed)
    seed: int = 0

    def use_ivf(self, n_base: int) -> bool:
        return self.ivf if self.ivf is not None else n_base > self.ivf_above

    def shard_count(self, n_base: int, workers: int) -> int:
        """Shards of a base of ``n_base`` vectors: as set, else by size, at least one per worker."""
        size = self.ivf_shard_size if self.use_ivf(n_base) else self.shard_size
        return self.shards or max(math.ceil(n_base / size), workers)

    def subquantizers(self, dim: int) -> int:
        m = min(self.pq_m, dim)
        while dim % m:
            m -= 1
        return m

    def lists(self, n_base: int) -> int:
        if self.nlist:
            return self.nlist
        return max(1, min(n_base // 39, 2 ** round(math.log2(max(4 * math.sqrt(n_base), 1)))))


@dataclass(frozen=True)
class VectorFile:
    """An ``.npy`` file of L2-normalised float32 rows and the digest of its bytes."""

    path: str
    rows: int
    dim: int
    digest: str

    def open(self) -> np.ndarray:
        """The rows, memory-mapped (read on demand)."""
        return np.load(self.path, mmap_mode="r")

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo:hi`` read into memory (not mapped: mapped pages would count twice in RSS)."""
        with open(self.path, "rb") as fh:
            major, _ = np.lib.format.read_magic(fh)
            (np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0)(fh)
            fh.seek(lo * self.dim * 4, os.SEEK_CUR)
            rows = np.fromfile(fh, dtype=np.float32, count=(hi - lo) * self.dim)
        return rows.reshape(hi - lo, self.dim)


def write_vectors(path: str | Path, chunks: Iterable[np.ndarray], rows: int) -> VectorFile:
    """Stream ``chunks`` (float32 rows, ``rows`` in all; the first one sets the width) into an
    ``.npy`` file, atomically, hashing them on the way: the file is whole only when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    digest = hashlib.blake2b(digest_size=12)
    out, at = None, 0
    try:
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk, dtype=np.float32)
            if out is None:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(rows, chunk.shape[1]))
            out[at:at + len(chunk)] = chunk
            digest.update(chunk.tobytes())
            at += len(chunk)
        if out is None or at != rows:
            raise ValueError(f"{path}: {at} vectors written, {rows} announced")
        dim = out.shape[1]
        out.flush()
        del out
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return VectorFile(str(path), rows, dim, digest.hexdigest())


def shard_bounds(n_base: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous row ranges of nearly equal size covering ``n_base`` rows."""
    edges = np.linspace(0, n_base, min(shards, n_base) + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def exact_sims(queries: np.ndarray, base: np.ndarray, ids: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Cosines of each query with its candidate rows ``base[ids]`` (ids < 0: -inf), pair by
    pair in float64: the same pair gives the same number however the search was blocked.
    ``chunk`` queries at a time, so the float64 copy stays small."""
    sims = np.empty(ids.shape, np.float32)
    for lo in range(0, len(ids), chunk):
        part = ids[lo:lo + chunk]
        rows = np.asarray(base[np.where(part < 0, 0, part).ravel()], dtype=np.float64).reshape(*part.shape, -1)
        sims[lo:lo + chunk] = np.einsum("qkd,qd->qk", rows, np.asarray(queries[lo:lo + chunk], dtype=np.float64))
    sims[ids < 0] = -np.inf
    return sims


def best(sims: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best candidates of every row as a NEIGHBOUR array: cosine descending,
    then id ascending (the tie-break that makes results independent of sharding)."""
    order = np.lexsort((ids, -sims), axis=1)[:, :k]
    out = np.empty(order.shape, NEIGHBOUR)
    out["sim"] = np.take_along_axis(sims, order, axis=1)
    out["id"] = np.take_along_axis(ids, order, axis=1)
    return out


class Shard:
    """Rows ``lo:hi`` of a base vector file, searchable by query blocks. Exact: the rows in
    memory; IVF-PQ: the trained index (``ivf_path``) filled with these rows' codes, and the
    memory-mapped file for re-ranking."""

    def __init__(self, base: VectorFile, lo: int, hi: int, config: KnnConfig, ivf_path: str | None = None,
                 threads: int | None = None) -> None:
        import faiss

        if threads:
            faiss.omp_set_num_threads(threads)
        self.start_mb = _status_mb("VmRSS")  # the worker before its shard: Python, numpy, faiss (and Ray)
        self.lo, self.hi, self.config = lo, hi, config
        self.index = None
        if ivf_path is None:
            self.rows = base.read(lo, hi)  # this shard's rows, in memory
        else:
            self.index = faiss.read_index(ivf_path)
            for start in range(lo, hi, 65536):  # codes only: the rows pass through in chunks
                stop = min(start + 65536, hi)
                self.index.add_with_ids(base.read(start, stop), np.arange(start, stop, dtype=np.int64))
            self.index.nprobe = config.nprobe
            self.mapped = base.open()  # re-ranking reads the candidates' rows from the file

    def search(self, queries: np.ndarray) -> np.ndarray:
        """This shard's best ``k + extra`` candidates of every query (global ids), as NEIGHBOUR rows."""
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        size = self.hi - self.lo
        keep = min(self.config.k + self.config.extra, size)
        if self.index is None:
            _, ids = faiss.knn(queries, self.rows, keep, metric=faiss.METRIC_INNER_PRODUCT)
            sims = exact_sims(queries, self.rows, ids)
            return best(sims, np.where(ids < 0, ids, ids + self.lo), keep)
        _, ids = self.index.search(queries, min(max(self.config.rerank, keep), size))
        return best(exact_sims(queries, self.mapped, ids), ids, keep)

    def memory_mb(self) -> tuple[float, float]:
        """This worker's resident memory before it loaded its shard and its peak (VmHWM), MB."""
        return self.start_mb, _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_ivf(base: VectorFile, config: KnnConfig, path: str | Path) -> str:
    """An empty IVF-PQ index trained on a fixed sample of ``base``, saved at ``path``
    (trained once per side; every shard of that side starts from it)."""
    import faiss

    path = Path(path)
    if path.exists():
        return str(path)
    nlist = config.lists(base.rows)
    sample = min(base.rows, config.train_per_list * nlist)
    rows = np.sort(np.random.default_rng(config.seed).choice(base.rows, sample, replace=False))
    train = np.ascontiguousarray(base.open()[rows], dtype=np.float32)
    quantizer = faiss.IndexFlatIP(base.dim)
    index = faiss.IndexIVFPQ(quantizer, base.dim, nlist, config.subquantizers(base.dim), 8,
                             faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = config.seed
    index.pq.cp.seed = config.seed
    index.train(train)
    write_atomic(path, faiss.serialize_index(index).tobytes())
    return str(path)


@dataclass(frozen=True)
class Task:
    """One direction of the search: queries against every shard of a base side."""

    name: str  # "fwd" / "bwd": the run folder's subfolder
    queries: VectorFile
    base: VectorFile
    bounds: tuple[tuple[int, int], ...]
    ivf_path: str | None

    def blocks(self, size: int) -> list[tuple[int, int]]:
        return [(a, min(a + size, self.queries.rows)) for a in range(0, self.queries.rows, size)]

    def part(self, run_dir: Path, block: int, shard: int) -> Path:
        return run_dir / self.name / f"b{block:06d}-s{shard:04d}.npy"


def save_part(path: Path, neighbours: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, neighbours, allow_pickle=False)
    write_atomic(path, buffer.getvalue())


def _missing(task: Task, run_dir: Path, block_size: int) -> dict[int, list[int]]:
    """Blocks still to search, per shard."""
    todo: dict[int, list[int]] = {}
    for s in range(len(task.bounds)):
        for b in range(len(task.blocks(block_size))):
            if not task.part(run_dir, b, s).exists():
                todo.setdefault(s, []).append(b)
    return todo


class LocalShards:
    """Shards searched one after the other in this process: one shard in memory at a time."""

    workers = 1

    def run(self, task: Task, todo: dict[int, list[int]], config: KnnConfig, run_dir: Path,
            advance: Callable[[int], object]) -> None:
        queries = task.queries.open()
        blocks = task.blocks(config.block)
        for s, wanted in todo.items():
            shard = Shard(task.base, *task.bounds[s], config, task.ivf_path)
            for b in wanted:
                lo, hi = blocks[b]
                save_part(task.part(run_dir, b, s), shard.search(queries[lo:hi]))
                advance(1)
            del shard


class RayShards:
    """One actor per shard (``@ray.remote`` :class:`Shard`, fractional CPUs, restarted up to
    ``max_restarts`` times, its calls retried); the driver feeds query blocks, at most
    ``in_flight`` per actor, and writes each answer as it comes. ``memory``: each actor's
    (RSS before its shard, peak RSS) in MB once the run is done. ``shard``: the actors'
    class (a :class:`Shard`)."""

    def __init__(self, ray, workers: int | None = None, max_restarts: int = 3, in_flight: int = 2,
                 shard: type = Shard) -> None:
        from .cluster import cluster_cpus

        self.ray = ray
        self.cpus = cluster_cpus(ray)
        self.workers = workers or max(1, int(self.cpus))
        self.max_restarts = max_restarts
        self.in_flight = in_flight
        self.shard = shard
        self.memory: list[tuple[float, float]] = []

    def run(self, task: Task, todo: dict[int, list[int]], config: KnnConfig, run_dir: Path,
            advance: Callable[[int], object]) -> None:
        ray = self.ray
        cpus = min(1.0, self.cpus / max(len(todo), 1))  # every shard actor fits at once
        remote = ray.remote(self.shard).options(num_cpus=cpus, max_restarts=self.max_restarts,
                                           max_task_retries=self.max_restarts)
        actors = {s: remote.remote(task.base, *task.bounds[s], config, task.ivf_path, max(1, round(cpus)))
                  for s in todo}
        queries = task.queries.open()
        blocks = task.blocks(config.block)
        queue = {s: list(wanted) for s, wanted in todo.items()}
        pending: dict[object, tuple[int, int]] = {}

        def submit(s: int) -> None:
            if queue[s]:
                b = queue[s].pop(0)
                lo, hi = blocks[b]
                pending[actors[s].search.remote(np.array(queries[lo:hi]))] = (b, s)

        for s in actors:
            for _ in range(self.in_flight):
                submit(s)
        while pending:
            [ready], _ = ray.wait(list(pending), num_returns=1)
            b, s = pending.pop(ready)
            save_part(task.part(run_dir, b, s), ray.get(ready))
            advance(1)
            submit(s)
        self.memory += ray.get([a.memory_mb.remote() for a in actors.values()])
        for actor in actors.values():
            ray.kill(actor)


def _prepare(run_dir: Path, manifest: dict) -> None:
    """Keep the run folder's neighbour lists only when they were searched for this very job."""
    path = run_dir / "manifest.json"
    try:
        same = json.loads(path.read_text()) == manifest
    except (OSError, ValueError):
        same = False
    if not same:
        for target in run_dir.iterdir():
            if target.is_dir():
                shutil.rmtree(target)
            elif target.name == "manifest.json":
                target.unlink()
        write_atomic(path, json.dumps(manifest, indent=1))


def mutual_knn(src: VectorFile, tgt: VectorFile, config: KnnConfig, run_dir: str | Path,
               executor: LocalShards | RayShards | None = None, progress: bool = False
               ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Each source row's ``k`` nearest target rows and each target row's ``k`` nearest source
    rows: ((sims, ids), (sims, ids)), best first, as :class:`align.mine.Candidates` takes them.
    Neighbour lists found in ``run_dir`` for the same vectors and settings are reused."""
    fwd, bwd = search(run_dir, {"fwd": (src, tgt), "bwd": (tgt, src)}, config, executor, progress)
    return fwd, bwd


def search(run_dir: str | Path, directions: dict[str, tuple[VectorFile, VectorFile]], config: KnnConfig,
           executor: LocalShards | RayShards | None = None, progress: bool = False,
           ivf_dir: str | Path | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``k`` nearest base rows of every query row, for each named (queries, base) pair:
    (sims, ids) per direction, best first. Each base is split into ``config.shards`` shards
    (:meth:`KnnConfig.shard_count`). Trained IVF indexes are kept in ``ivf_dir`` (default
    ``run_dir``), named by the base's digest and the IVF settings, so other searches of the
    same base reuse them."""
    from tqdm import tqdm

    executor = executor or LocalShards()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    counts = {name: config.shard_count(base.rows, executor.workers) for name, (_, base) in directions.items()}
    _prepare(run_dir, {"config": asdict(config), "directions": {
        name: [q.digest, q.rows, b.digest, b.rows, counts[name]] for name, (q, b) in directions.items()}})
    tasks, trained = [], {}
    for name, (queries, base) in directions.items():
        ivf = None
        if config.use_ivf(base.rows):  # one trained index per base, shared by the directions that search it
            index = f"ivf-{base.digest}-{config.lists(base.rows)}-{config.subquantizers(base.dim)}-{config.seed}.index"
            ivf = trained.setdefault(base.digest, train_ivf(base, config, Path(ivf_dir or run_dir) / index))
        tasks.append(Task(name, queries, base, tuple(shard_bounds(base.rows, counts[name])), ivf))
    todo = [_missing(t, run_dir, config.block) for t in tasks]
    with tqdm(total=sum(len(b) for t in todo for b in t.values()), unit="block", desc="k-NN search",
              disable=not progress, file=sys.stderr) as bar:
        for task, missing in zip(tasks, todo):
            if missing:
                executor.run(task, missing, config, run_dir, bar.update)
    return [merged(t, run_dir, config) for t in tasks]


def merged(task: Task, run_dir: Path, config: KnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """The stored per-shard lists of every query block merged into the ``k`` best: (sims, ids)."""
    k = min(config.k, task.base.rows)
    sims = np.empty((task.queries.rows, k), np.float32)
    ids = np.empty((task.queries.rows, k), np.int64)
    for b, (lo, hi) in enumerate(task.blocks(config.block)):
        parts = np.concatenate([np.load(task.part(run_dir, b, s)) for s in range(len(task.bounds))], axis=1)
        top = best(parts["sim"], parts["id"], k)
        sims[lo:hi], ids[lo:hi] = top["sim"], top["id"]
    if (ids < 0).any():
        raise ValueError(f"IVF search found fewer than {k} neighbours for some queries: raise nprobe")
    return sims, ids
