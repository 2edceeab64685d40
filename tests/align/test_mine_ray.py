"""``align --mine --ray``: embedding on Ray tasks and the k-NN shards on Ray actors give
what the local run gives.
One isolated script (a loopback-only namespace, tests/netns.py) runs every scenario
once for the module; the tests read its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.netns import run_isolated

pytest.importorskip("ray")
SCRIPT = Path(__file__).with_name("ray_mine_script.py")


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    work = tmp_path_factory.mktemp("ray-mine")
    result_path = work / "found.json"
    done = run_isolated(str(SCRIPT), str(result_path), str(work / "run"), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(result_path.read_text())


def test_mine_with_ray_equals_the_local_run(found):
    assert found["local"]["exit"] == 0, found["local"]["output"]
    assert found["ray"]["exit"] == 0, found["ray"]["output"]
    assert len(found["local"]["rows"]) >= 12  # the fixture's translations, mined across documents
    assert found["ray"]["rows"] == found["local"]["rows"]  # same pairs, scores equal at 4 decimals
    assert found["ray_embedded"] == found["sentences"]  # embedded by the Ray workers, each sentence once


def test_ray_shards_equal_local_shards_though_an_actor_died(found):
    assert found["died"] == ["died-300", "died-600"]  # two of three shard actors died once each...
    assert found["knn_equal"]  # ...were restarted, their calls retried, and nothing differs
    assert found["parts"] == 2 * 3 * 8  # every (block, shard) list stored once: 2 directions, 3 shards, 8 blocks
    assert len(found["memory"]) == 6 and all(peak >= start > 0 for start, peak in found["memory"])
