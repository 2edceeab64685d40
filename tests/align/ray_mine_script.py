"""Run by test_mine_ray.py inside a loopback-only network namespace (tests/netns.py):
``align --mine`` locally and with ``--ray``, and the Ray k-NN executor against the local
one on vectors, with one actor dying mid-run. Writes its findings as JSON to argv[1]."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # Ray workers

import numpy as np  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from align.cli import main  # noqa: E402
from align.cluster import ray_session  # noqa: E402
from align.encoders.cache import EMBEDDINGS  # noqa: E402
from align.knn import KnnConfig, RayShards, Shard, mutual_knn, write_vectors  # noqa: E402


class DyingShard(Shard):
    """A shard whose worker dies at its first search, once (a marker file remembers)."""

    def search(self, queries):
        marker = Path(os.environ["KKRU_TEST_DIE"]) / f"died-{self.lo}"
        if self.lo > 0 and not marker.exists():
            marker.write_text("x")
            os._exit(1)
        return super().search(queries)


def mine_cli(work: Path, *extra: str) -> dict:
    out = work / f"mined{'-ray' if extra else ''}.tsv"
    result = CliRunner().invoke(main, ["--mine", str(work / "kk"), str(work / "ru"), "--presplit", "-f", "tsv",
                                       "-o", str(out), "-q", "--cache-dir", str(work / ("cache-ray" if extra else "cache")),
                                       *extra])  # a cold cache each: the Ray run embeds on its workers
    return {"exit": result.exit_code, "output": result.output,
            "rows": out.read_text(encoding="utf-8").splitlines() if out.exists() else []}


def main_script(result_path: str, work: str) -> None:
    work = Path(work)
    kk = (ROOT / "tests" / "fixtures" / "ntrex" / "kk.txt").read_text(encoding="utf-8").splitlines()
    ru = (ROOT / "tests" / "fixtures" / "ntrex" / "ru.txt").read_text(encoding="utf-8").splitlines()
    for side, lines, shift in (("kk", kk, 0), ("ru", ru, 2)):
        (work / side).mkdir(parents=True)
        for d in range(6):
            (work / side / f"doc{d}.txt").write_text("\n".join(lines[(d * 3 + shift) % 18:(d * 3 + shift) % 18 + 4])
                                                    + "\n", encoding="utf-8")
    found: dict = {"local": mine_cli(work)}
    os.environ["KKRU_TEST_DIE"] = str(work)
    with ray_session(num_cpus=2) as ray:
        found["ray"] = mine_cli(work, "--ray")  # joins the Ray this script started
        with sqlite3.connect(work / "cache-ray" / "embeddings.sqlite") as db:  # what the workers embedded
            found["ray_embedded"] = db.execute(f"SELECT count(*) FROM {EMBEDDINGS.name}").fetchone()[0]
        found["sentences"] = len({line for side in ("kk", "ru") for doc in (work / side).iterdir()
                                  for line in doc.read_text(encoding="utf-8").splitlines()})
        rng = np.random.default_rng(0)
        vecs = rng.normal(size=(2, 900, 16)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=-1, keepdims=True)
        src = write_vectors(work / "v" / "src.npy", [vecs[0]], 900)
        tgt = write_vectors(work / "v" / "tgt.npy", [vecs[1]], 900)
        knn = KnnConfig(k=4, block=128, shards=3)
        local = mutual_knn(src, tgt, knn, work / "knn-local")
        executor = RayShards(ray, shard=DyingShard)
        remote = mutual_knn(src, tgt, knn, work / "knn-ray", executor)
        found["knn_equal"] = all(np.array_equal(a, b) for x, y in zip(local, remote) for a, b in zip(x, y))
        found["died"] = sorted(p.name for p in work.glob("died-*"))
        found["memory"] = executor.memory
        found["parts"] = len(list((work / "knn-ray").rglob("b*.npy")))
    Path(result_path).write_text(json.dumps(found))


if __name__ == "__main__":
    main_script(*sys.argv[1:])
