"""The Ray connection of ``--ray`` runs: one place that starts or joins a cluster.

Without an address (``--ray-address`` or ``$RAY_ADDRESS``) a fresh local Ray is
started (``address="local"``: a cluster file left by another run on this machine
must not capture the job); with one, the running cluster is joined. Ray is an
optional dependency (``pip install -e '.[ray]'``); without ``--ray`` nothing here
is imported.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable, Iterator

from .errors import UsageError

RAY_EXTRA = "pip install -e '.[ray]'"


def import_ray():
    """The ``ray`` module, or a usage error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray: {RAY_EXTRA}") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[object]:
    """Ray, initialised for one run and shut down after it (when this run started it).

    ``address``: a cluster to join (``ray://…`` or ``HOST:PORT``); ``None`` reads
    ``$RAY_ADDRESS`` and, without it, starts a local Ray with ``num_cpus`` CPUs
    (default: the machine's). Ray 2.60 protects local clusters with a token it
    generates itself; joining a cluster that wants one reads ``$RAY_AUTH_TOKEN`` or
    ``~/.ray/auth_token`` as Ray does, and a missing token is a one-line error.
    """
    ray = import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():  # a caller (a notebook, a test) already connected: use that
        yield ray
        return
    kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(address="local", num_cpus=num_cpus, **kwargs)
    except ConnectionError as exc:
        raise UsageError(f"cannot join the Ray cluster at {address}: {exc}") from None
    except Exception as exc:  # Ray raises its own types (auth, version mismatch): one line, not a traceback
        if "token" in str(exc).lower() or "auth" in str(exc).lower():
            raise UsageError(f"the Ray cluster at {address or 'local'} wants an authentication token: set "
                             f"RAY_AUTH_TOKEN or copy the head node's ~/.ray/auth_token ({exc})") from None
        raise
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray) -> float:
    """CPUs the connected cluster has in all (what worker pools are sized from)."""
    return float(ray.cluster_resources().get("CPU", 0))


# The workers this process holds, by job: a Ray worker process runs many tasks of a
# run, and loads the model for the first of them only.
_WORKERS: dict[str, object] = {}


def _run_chunk(job, tasks):
    """The Ray task: one chunk of ``job`` on this process's worker (loaded on first use)."""
    key = f"{type(job).__module__}.{type(job).__qualname__}:{job!r}"  # jobs are frozen dataclasses
    worker = _WORKERS.get(key)
    if worker is None:
        import logging

        worker = _WORKERS[key] = job.open(logging.getLogger("kkru").warning)
    return worker.run(tasks)


@dataclass
class RayExecutor:
    """The job runner's chunks as Ray tasks.

    Why tasks and not an actor pool: a task whose worker or node is lost is retried on
    any node with room (``max_retries``), while an actor pool waits for its restarted
    actor to find room again, and a fixed-size Ray Data actor pool can hang when an actor
    dies (ray-project/ray#62746). The model is still loaded once per worker process
    (``_WORKERS``: Ray reuses a job's worker processes for its tasks). At most
    ``in_flight`` chunks are submitted ahead (default: two per CPU-slot), so a
    million-pair list never sits in the cluster's queue at once.
    """

    address: str | None = None
    cpus_per_task: float = 1.0
    gpus_per_task: float | None = None  # None: one GPU per task when the cluster has GPUs and the job may use them
    in_flight: int | None = None
    num_cpus: int | None = None  # of a fresh local Ray (default: the machine's)
    retries: int = 3

    def map(self, job, chunks, warn: Callable[[str], None]):
        if not chunks:
            return
        with ray_session(self.address, num_cpus=self.num_cpus) as ray:
            gpus = self.gpus_per_task
            if gpus is None:
                gpus = 1.0 if ray.cluster_resources().get("GPU", 0) and getattr(job, "device", "auto") != "cpu" else 0.0
            remote = ray.remote(_run_chunk).options(num_cpus=self.cpus_per_task, num_gpus=gpus,
                                                    max_retries=self.retries, retry_exceptions=False)
            slots = max(1, int(cluster_cpus(ray) // max(self.cpus_per_task, 1e-9)))
            window = self.in_flight or 2 * slots
            job_ref = ray.put(job)  # shipped once, not with every task
            queue = iter(chunks)
            running: dict = {}

            def submit() -> bool:
                chunk = next(queue, None)
                if chunk is not None:
                    running[remote.remote(job_ref, chunk)] = chunk
                return chunk is not None

            while len(running) < window and submit():
                pass
            while running:
                (ref,), _ = ray.wait(list(running), num_returns=1)
                chunk = running.pop(ref)
                try:
                    rows = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the model failed: the run stops, saying why
                    cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                    raise cause from None
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.OutOfMemoryError,
                        ray.exceptions.NodeDiedError) as exc:  # killed again on every retry: these tasks fail
                    reason = f"the worker died on every try ({type(exc).__name__}: {str(exc).splitlines()[0]})"
                    rows = [job.failed(task, reason) for task in chunk]
                submit()
                yield chunk, rows


# ------------------------------------------------------------------ embedding on Ray


@dataclass(frozen=True)
class EmbedJob:
    """Embedding as Ray tasks (``align --mine --ray``, ``align --pair-docs --ray``): each
    worker process loads the model once, behind its node's embedding cache."""

    model: str
    device: str = "auto"
    cache: bool = True
    cache_dir: str | None = None  # None: each node's own $KKRU_CACHE

    def open(self, warn: Callable[[str], None] = lambda message: None) -> "_EmbedWorker":
        from .encoders import load_encoder

        return _EmbedWorker(load_encoder(self.model, device=self.device, cache=self.cache,
                                         cache_dir=self.cache_dir, warn=warn))

    def failed(self, task, reason: str):
        from .errors import ModelError

        raise ModelError(f"embedding on Ray stopped: {reason}")


class _EmbedWorker:
    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def run(self, tasks):
        """``tasks``: (position, texts) pairs; one float32 array per task."""
        import numpy as np

        return [np.asarray(self.encoder.encode(list(texts)), dtype=np.float32) for _, texts in tasks]


class RayEncoder:
    """An encoder whose ``encode`` runs on Ray workers, ``piece`` distinct sentences a task,
    results in the order given; name, dimension and calibration profile are those of
    ``local`` (the same model, loaded here). ``preferred_call``: how many sentences a
    caller should hand over at once to keep every worker busy (two pieces per CPU)."""

    def __init__(self, local, job: EmbedJob, executor: RayExecutor | None = None, piece: int = 512) -> None:
        self.local, self.job, self.piece = local, job, piece
        self.executor = executor or RayExecutor()
        self.name = local.name
        if hasattr(local, "profile"):
            self.profile = local.profile
        self.dim = getattr(local, "dim", None)
        ray = import_ray()
        self.preferred_call = 2 * piece * max(1, int(cluster_cpus(ray))) if ray.is_initialized() else 0

    def encode(self, texts):
        import numpy as np

        texts = list(texts)
        distinct = list(dict.fromkeys(texts))  # each text embedded once
        tasks = [[(start, distinct[start:start + self.piece])] for start in range(0, len(distinct), self.piece)]
        parts: dict[int, np.ndarray] = {}
        for chunk, rows in self.executor.map(self.job, tasks, lambda message: None):
            for (start, _), vectors in zip(chunk, rows):
                parts[start] = vectors
        if not distinct:
            return np.zeros((0, self.dim or 0), np.float32)
        vectors = np.concatenate([parts[start] for start in sorted(parts)])
        self.dim = vectors.shape[1]
        where = {text: i for i, text in enumerate(distinct)}
        return vectors[[where[text] for text in texts]]
