"""``--ray``: batch alignment, batch translation and a cluster that loses a node give
the outputs the single-process path gives (tests/cluster_scenarios.py, run once in a
loopback-only network namespace; Ray takes seconds to start, so the scenarios share
one script run and these tests read its results)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.netns import run_isolated

pytest.importorskip("ray")

SCRIPT = Path(__file__).with_name("cluster_scenarios.py")
SCENARIOS = ("align_batch", "translate_batch", "kill_resume", "node_lost", "worker_crash", "pair_docs")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    from tests.translate.tiny import build_all

    root = tmp_path_factory.mktemp("cluster")
    models = build_all(root / "models")
    run = run_isolated(str(SCRIPT), str(root), models["nllb"], *SCENARIOS, timeout=600)
    assert (root / "results.json").exists(), run.stderr[-3000:]
    return json.loads((root / "results.json").read_text(encoding="utf-8"))


def scenario(results: dict, name: str) -> dict:
    outcome = results[name]
    assert "error" not in outcome, outcome.get("error")
    return outcome


def test_align_batch_on_ray_writes_what_the_local_run_writes(results):
    r = scenario(results, "align_batch")
    assert r["local_rc"] == r["ray_rc"] == 3, "one corrupt and one missing pair: exit 3 both ways"
    assert r["differ"] == [], "every file byte-identical: alignments, records, reports, the Parquet shards"
    assert sum(name.endswith(".jsonl") for name in r["files"]) == 6
    assert "part-00000.parquet" in r["shards"]
    assert "6 aligned, 0 already done, 2 failed" in r["ray_stderr"]
    assert "kk_bad.txt: looks like a binary file" in r["ray_stderr"]


def test_translate_batch_on_ray_writes_what_the_local_run_writes(results):
    r = scenario(results, "translate_batch")
    assert r["local_rc"] == r["ray_rc"] == 3
    assert r["differ"] == [] and sum(name.endswith(".jsonl") for name in r["files"]) == 3
    assert "3 translated, 0 already done, 1 failed" in r["ray_stderr"]


def test_a_killed_ray_batch_resumes_where_it_stopped(results):
    r = scenario(results, "kill_resume")
    assert r["killed_before_end"] and 3 <= r["done_at_kill"] < 16
    assert f"{16 - r['done_at_kill']} aligned, {r['done_at_kill']} already done, 2 failed" in r["resumed_stderr"]
    assert r["differ"] == [] and r["tmp_left"] == [], "every output complete, as the uninterrupted run wrote it"


def test_a_cluster_that_loses_a_node_still_does_every_pair_once(results):
    r = scenario(results, "node_lost")
    assert r["removed"] and r["nodes_alive"] == 1
    assert (r["done"], r["failed"]) == (12, 2)
    assert len(r["names"]) == len(set(r["names"])) == 14, "each pair listed once"
    assert r["differ"] == [], "outputs identical to a single-process run"


def test_a_pair_that_kills_its_worker_fails_alone(results):
    r = scenario(results, "worker_crash")
    assert (r["done"], r["failed"]) == (3, 3), "the crashing pair, the corrupt one, the missing one"
    assert "kk_1.txt" in r["failures"] and "the worker died on every try" in r["failures"]


def test_pair_docs_out_dir_on_ray_writes_what_the_local_run_writes(results):
    r = scenario(results, "pair_docs")
    assert r["local_rc"] == r["ray_rc"] == 0, r["ray_stderr"]
    assert r["differ"] == [], "pairs.tsv, unpaired.tsv and every alignment byte-identical"
    assert {"pairs.tsv", "unpaired.tsv", "report.tsv"} <= set(r["files"])
    assert sum(name.endswith(".jsonl") for name in r["files"]) == 3
    assert "3 pairs (parallel 3)" in r["ray_stderr"] and "3 aligned, 0 already done, 0 failed" in r["ray_stderr"]
