"""The pure parts of the Ray benchmarks (eval/bench_ray.py): the steady-state clock,
the projection arithmetic, the benchmark's pairs, and the no-op job through the job
runner. Nothing here starts Ray; the suites themselves are benchmark commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.jobs import LocalExecutor, run_jobs
from eval.bench import SUITES, parse_settings
from eval.bench_ray import (ChunkDone, Clocked, NoopJob, PairSet, project, steady_rate, storage_limit, write_pairs,
                            noop_tasks)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def done(*events: tuple[float, int, int]) -> list[ChunkDone]:
    return [ChunkDone(at, pairs, sentences, 100, 50) for at, pairs, sentences in events]


def test_steady_state_starts_once_every_worker_finished_a_chunk():
    # Two workers: their first chunks end together at 10 s; then one chunk every 2 s.
    events = done((10.0, 8, 80), (10.5, 8, 80), (12.5, 8, 60), (14.5, 8, 100), (16.5, 4, 40))
    rate = steady_rate(list(reversed(events)), workers=2)  # order of arrival does not matter
    assert rate.startup_s == 10.5 and rate.total_s == 16.5 and rate.pairs == 36
    assert (rate.steady_pairs, rate.steady_sentences, rate.steady_s) == (20, 200, 6.0)
    assert rate.pairs_per_s == pytest.approx(20 / 6) and rate.sentences_per_s == pytest.approx(200 / 6)
    one = steady_rate(events, workers=1)  # one worker: everything after its first chunk
    assert (one.startup_s, one.steady_pairs, one.steady_s) == (10.0, 28, 6.5)


def test_too_few_chunks_for_a_steady_state_give_no_rate_rather_than_a_wrong_one():
    rate = steady_rate(done((3.0, 8, 80), (3.2, 8, 80)), workers=2)
    assert rate.steady_pairs == 0 and rate.pairs_per_s == 0.0 and rate.startup_s == 3.2
    assert steady_rate([], workers=2).pairs == 0


def test_projection_is_the_smallest_of_workers_driver_and_storage():
    few = project(8, per_worker=0.5, driver_tasks_per_s=300.0, pairs_per_task=8, storage_pairs_per_s=1000.0)
    assert (few.pairs_per_s, few.limit) == (4.0, "workers")
    many = project(512, per_worker=20.0, driver_tasks_per_s=300.0, pairs_per_task=8, storage_pairs_per_s=5000.0)
    assert (many.pairs_per_s, many.limit) == (2400.0, "driver") and many.by_workers == 10240.0
    disk = project(512, per_worker=20.0, driver_tasks_per_s=3000.0, pairs_per_task=8, storage_pairs_per_s=900.0)
    assert (disk.pairs_per_s, disk.limit) == (900.0, "storage")
    assert project(64, 1.0, 100.0, 8).by_storage == float("inf")  # no storage estimate: no storage limit


def test_storage_limit_is_bandwidth_or_file_creates_whichever_binds():
    assert storage_limit(bytes_per_pair=50_000, files_per_pair=3, mb_per_s=500, creates_per_s=2000) == \
        pytest.approx(2000 / 3)
    assert storage_limit(bytes_per_pair=5_000_000, files_per_pair=3, mb_per_s=500, creates_per_s=2000) == 100.0


@pytest.fixture
def ntrex_dir(tmp_path) -> Path:
    """An NTREX-shaped folder: the fixture's lines as three documents."""
    root = tmp_path / "data" / "ntrex128"
    root.mkdir(parents=True)
    kk = (FIXTURES / "ntrex" / "kk.txt").read_text(encoding="utf-8").splitlines()[:18]
    ru = (FIXTURES / "ntrex" / "ru.txt").read_text(encoding="utf-8").splitlines()[:18]
    (root / "DOCUMENT_IDS.tsv").write_text("".join(f"d{i // 6}\n" for i in range(18)), encoding="utf-8")
    for name, lines in (("newstest2019-ref.kaz.txt", kk), ("newstest2019-ref.rus.txt", ru),
                        ("newstest2019-src.eng.txt", kk)):
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root.parent


def test_pairs_are_the_clean_documents_then_perturbed_variants_shuffled_by_seed(ntrex_dir, tmp_path):
    pairs = write_pairs(str(ntrex_dir), tmp_path / "a", n=5, seed=3)
    lines = pairs.listing.read_text(encoding="utf-8").splitlines()
    assert pairs.pairs == len(lines) == 5
    names = [Path(line.split("\t")[0]).name for line in lines]
    assert sorted(names) == ["clean000.kk.txt", "clean001.kk.txt", "clean002.kk.txt", "perturbed000.kk.txt",
                             "perturbed001.kk.txt"]
    assert all(Path(p).is_file() for line in lines for p in line.split("\t"))
    assert pairs.unique < pairs.sentences, "perturbed variants repeat sentences of the clean documents"
    again = write_pairs(str(ntrex_dir), tmp_path / "b", n=5, seed=3)
    assert [Path(line.split("\t")[0]).name for line in again.listing.read_text(encoding="utf-8").splitlines()] == names
    other = write_pairs(str(ntrex_dir), tmp_path / "c", n=5, seed=4)
    assert [Path(line.split("\t")[0]).name for line in other.listing.read_text(encoding="utf-8").splitlines()] != names


def test_no_op_job_runs_through_the_job_runner_and_the_clock_sees_every_chunk(tmp_path):
    listing = tmp_path / "pairs.tsv"
    listing.write_text("a.txt\tb.txt\n", encoding="utf-8")
    tasks = noop_tasks(10, PairSet(listing, 1, 2, 2))
    clocked = Clocked(LocalExecutor())
    summary = run_jobs(NoopJob(str(tmp_path / "out")), tasks, clocked, chunk=3, quiet=True)
    assert (summary.done, summary.failed) == (10, 0)
    assert [d.pairs for d in clocked.done] == [3, 3, 3, 1]
    assert all(d.task_bytes > 0 and d.row_bytes > 0 for d in clocked.done)
    assert [d.at for d in clocked.done] == sorted(d.at for d in clocked.done)
    assert len((tmp_path / "out" / "report.tsv").read_text(encoding="utf-8").splitlines()) == 11


def test_ray_suites_are_registered_with_their_settings():
    assert SUITES["ray-overhead"].kind == SUITES["ray-scaling"].kind == "cluster"
    assert parse_settings(["chunk=4", "storage_mb_s=250"], ["ray-scaling"]) == (("chunk", 4), ("storage_mb_s", 250.0))


def test_cpu_time_counts_the_processes_below_this_one():
    import subprocess
    import sys
    import time

    from eval.bench_ray import tree_cpu_seconds

    before = tree_cpu_seconds()
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.6: pass\ntime.sleep(30)"])
    try:
        time.sleep(1.5)
        assert tree_cpu_seconds() - before >= 0.5, "the busy child's CPU time is counted"
        assert tree_cpu_seconds(child.pid) < tree_cpu_seconds()
    finally:
        child.kill()
        child.wait()
