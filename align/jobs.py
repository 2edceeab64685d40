"""One job runner for every ``--batch`` command (``align``, ``translate``): plan,
work, collect; only the executor differs between one process and a Ray cluster.

- **plan** (driver): the tasks of the list; a task is pending unless an earlier
  run left its record (``<name>.json``) under the same resume key and every file
  the record names is still there.
- **work** (a worker): :meth:`Worker.run` over a chunk of tasks, with the model
  loaded once per worker: it reads, embeds the chunk in one call, aligns or
  translates, and writes each task's outputs atomically, record last. A failing
  task removes what it wrote and comes back as a failed row; the rest go on. A
  worker touches only its own tasks' files (and its own temporary files).
- **collect** (driver): rows sorted by task, so a cluster run and a local run
  compare equal; ``report.tsv``, ``failures.tsv``, ``stale.tsv`` and whatever the
  job adds (``index.html``, the Parquet bitext).

:class:`LocalExecutor` runs chunks in this process; :class:`RayExecutor` runs the
same work function as Ray tasks. Ray retries a task whose worker or node was lost,
so a chunk may run twice: its outputs are rewritten whole (atomic renames), and the
driver lists each task once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence

from . import __version__
from .errors import InputError
from .formats import write_atomic


@dataclass(frozen=True)
class ResumeKey:
    """What one output depends on; a recorded key that differs means "redo"."""

    inputs: str | None  # hash over the input files' bytes; None when one cannot be read
    options: str  # hash over every setting that shapes the output, the toolkit version included

    @classmethod
    def of(cls, paths: Sequence[str], settings: dict) -> "ResumeKey":
        settings = {**settings, "version": __version__}
        options = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
        return cls(_content_hash(paths), options)

    def redo_reason(self, recorded: dict | None) -> str | None:
        """Why an output made under the ``recorded`` key is out of date, or None when it holds."""
        if not recorded:
            return "no resume key"  # written by a version that did not record one
        if self.inputs is None or recorded.get("inputs") != self.inputs:
            return "inputs changed"
        if recorded.get("options") != self.options:
            return "options changed"
        return None

    def as_record(self) -> dict:
        return {"inputs": self.inputs, "options": self.options}


def _content_hash(paths: Sequence[str]) -> str | None:
    digest = hashlib.sha256()
    try:
        for path in paths:
            with open(path, "rb") as fh:  # in blocks: inputs may be hundreds of MB
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            digest.update(b"\0")  # a file boundary: ("ab", "c") differs from ("a", "bc")
    except OSError:
        return None  # the run itself reports why the file cannot be read
    return digest.hexdigest()


@dataclass(frozen=True)
class Task:
    """One line of the list: its ``inputs``, the output stem ``name`` (stable, independent
    of the list's order), its place in the list (``index``: reports are sorted by it), the
    resume key its record will carry, and why an earlier output is being redone."""

    index: int
    name: str
    inputs: tuple[str, ...]
    key: ResumeKey
    redo: str | None = None


class Worker(Protocol):
    """A job's model, loaded once, doing the work of chunks of tasks."""

    def run(self, tasks: Sequence[Task]) -> list[dict]:
        """One row per task, in order: the task's record when done (``status`` "done",
        ``outputs``), else ``status`` "failed" and a ``reason``. Raises only for what no
        other task could survive either (the model cannot load or run)."""


class Job(Protocol):
    """What one ``--batch`` command does; picklable, so a cluster worker can hold it."""

    out_dir: str
    unit: str  # "pair", "file": the progress bar's unit
    inputs: tuple[str, ...]  # the report's input columns, one per path of a list line
    columns: tuple[str, ...]  # the report's columns

    def settings(self) -> dict:
        """Every setting the outputs depend on (into the resume key)."""

    def open(self, warn: Callable[[str], None]) -> Worker:
        """Load the model: once per worker process."""

    def owned(self, record: dict) -> set[str]:
        """Names, in the output folder, of the files a finished task's record stands for."""

    def collect(self, out: Path, rows: list[dict]) -> None:
        """Outputs over all tasks besides the reports (e.g. ``index.html``)."""

    def failed(self, task: Task, reason: str) -> dict:
        """The row of a task that failed for ``reason``."""


@dataclass
class BatchSummary:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    redone: Counter = field(default_factory=Counter)  # why finished outputs were made again
    stale: list[Path] = field(default_factory=list)  # files of earlier runs no current result owns
    rows: list[dict] = field(default_factory=list)  # every task's row, in list order
    seconds: float = 0.0  # the work (planning and collecting excluded)

    def counts(self, verb: str) -> str:
        """E.g. "3 aligned (2 redone: inputs changed 1, options changed 1), 5 already done, 0 failed"."""
        redone = ""
        if self.redone:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.redone.items())
            redone = f" ({sum(self.redone.values())} redone: {reasons})"
        return f"{self.done} {verb}{redone}, {self.skipped} already done, {self.failed} failed"


def read_job_list(list_path: str, columns: int, extra_columns: bool = False) -> list[tuple[str, ...]]:
    """The job list of ``--batch`` (``align`` and ``translate``): per line ``columns`` input
    paths separated by tabs (``extra_columns``: and any columns after them, ignored, as in
    the score and verdict of ``align --pair-docs`` output); blank lines and lines starting
    with ``#`` are skipped, and a relative path that does not exist from the current
    directory is taken from the list file's folder."""
    path = Path(list_path)
    if not path.is_file():
        raise InputError(list_path, "no such list file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(list_path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    expected = "<TAB>".join(["path"] * columns)
    jobs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        paths = [p.strip() for p in line.split("\t")]
        if extra_columns:
            paths = paths[:columns]
        if len(paths) != columns or not all(paths):
            raise InputError(list_path, f"line {number}: expected '{expected}'")
        jobs.append(tuple(p if Path(p).exists() or Path(p).is_absolute() else str(path.parent / p) for p in paths))
    if not jobs:
        raise InputError(list_path, "lists no inputs")
    return jobs


def read_record(path: Path) -> dict | None:
    """A finished task's record; an unreadable one counts as none."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def plan(job: Job, tasks: Iterable[Task]) -> tuple[list[Task], dict[int, dict]]:
    """The pending tasks (each with why it is redone, if it is), and the rows of the tasks
    an earlier run finished under the same key, by task index."""
    out = Path(job.out_dir)
    pending: list[Task] = []
    finished: dict[int, dict] = {}
    for task in tasks:
        earlier = read_record(out / f"{task.name}.json")
        if earlier is None:
            pending.append(task)
            continue
        reason = task.key.redo_reason(earlier.get("resume_key"))
        if reason is None and not all((out / name).exists() for name in job.owned(earlier)):
            reason = "outputs missing"
        if reason is None:
            finished[task.index] = earlier | {"status": "done (earlier run)"}
        else:
            pending.append(Task(task.index, task.name, task.inputs, task.key, reason))
    return pending, finished


def chunked(tasks: Sequence[Task], size: int) -> list[list[Task]]:
    return [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]


class Executor(Protocol):
    def map(self, job: Job, chunks: list[list[Task]],
            warn: Callable[[str], None]) -> Iterator[tuple[list[Task], list[dict]]]:
        """Each chunk with its rows, as chunks finish (in any order). ``warn``: for what
        loading the model finds (a repaired cache); a remote worker logs it instead."""


@dataclass
class LocalExecutor:
    """Chunks one after another in this process, the model loaded once (or ``worker``:
    one the caller already loaded)."""

    worker: Worker | None = None

    def map(self, job: Job, chunks: list[list[Task]],
            warn: Callable[[str], None]) -> Iterator[tuple[list[Task], list[dict]]]:
        if not chunks:
            return
        worker = self.worker or job.open(warn)
        try:
            for chunk in chunks:
                yield chunk, worker.run(chunk)
        finally:
            if self.worker is None and hasattr(worker, "close"):
                worker.close()


def run_jobs(job: Job, tasks: list[Task], executor: Executor | None = None, *, chunk: int = 8,
             quiet: bool = False, warn: Callable[[str], None] = lambda m: None,
             progress=None) -> BatchSummary:
    """Plan, work (through ``executor``, by default in this process), collect."""
    from tqdm.auto import tqdm

    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for leftover in out.glob(".*.tmp"):  # left by a killed run mid-write; no worker runs yet
        leftover.unlink(missing_ok=True)
    pending, rows = plan(job, tasks)
    summary = BatchSummary(skipped=len(rows))
    bar = progress or tqdm(total=len(pending), desc=f"{job.unit}s", unit=job.unit, disable=quiet or None,
                           leave=False)
    started = time.perf_counter()
    try:
        for chunk_tasks, chunk_rows in (executor or LocalExecutor()).map(job, chunked(pending, chunk), warn):
            for task, row in zip(chunk_tasks, chunk_rows):
                if task.index in rows:  # a chunk run twice (a lost worker's retry): listed once
                    continue
                rows[task.index] = row
                if row["status"] == "failed":
                    summary.failed += 1
                    warn(f"{' / '.join(task.inputs)} failed: {row['reason']}")
                else:
                    summary.done += 1
                    if task.redo:
                        summary.redone[task.redo] += 1
            bar.update(len(chunk_tasks))
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - started
    summary.rows = [rows[i] for i in sorted(rows)]
    owned = set().union(*(job.owned(row) for row in summary.rows if row["status"] != "failed"))
    summary.stale = stale_files(out, [task.name for task in tasks], owned)
    if summary.stale:
        warn(f"{len(summary.stale)} file(s) of earlier runs belong to no current result (another format, "
             f"or an input that failed): left in place, listed in {out / 'stale.tsv'}")
    write_reports(out, summary.rows, job.columns, job.inputs, summary.stale)
    job.collect(out, summary.rows)
    return summary


def stale_files(out: Path, stems: list[str], owned: set[str]) -> list[Path]:
    """Files ``<stem>.<anything>`` in ``out`` whose names no current result owns: outputs
    of a format no longer asked for, or of an input that failed this time. One listing
    of the folder rather than a glob per stem: batches run to thousands of inputs."""
    wanted = set(stems)
    stale = []
    for path in out.iterdir():
        parts = path.name.split(".")
        if path.name not in owned and any(".".join(parts[:i]) in wanted for i in range(1, len(parts))):
            stale.append(path)
    return sorted(stale)


def write_reports(out: Path, rows: list[dict], columns: tuple[str, ...], inputs: tuple[str, ...],
                  stale: list[Path]) -> None:
    """The reports of a ``--batch`` run: ``report.tsv``, every row under a header of
    ``columns``; ``failures.tsv``, the ``inputs`` columns and the reason of each failed row;
    ``stale.tsv``, files of earlier runs that no current result owns."""
    def line(row: dict, names) -> str:
        return "\t".join("" if row.get(c) is None else str(row[c]).replace("\t", " ") for c in names) + "\n"

    write_atomic(out / "report.tsv", "\t".join(columns) + "\n" + "".join(line(row, columns) for row in rows))
    failed = [row for row in rows if row["status"] == "failed"]
    write_atomic(out / "failures.tsv", "".join(line(row, (*inputs, "reason")) for row in failed))
    write_atomic(out / "stale.tsv", "".join(f"{path}\n" for path in stale))


def failure_reason(exc: BaseException) -> str:
    """A failed task's reason: the toolkit's one-line message, else the exception's type and text."""
    from .errors import ToolkitError

    return str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {exc}"
