"""`align --batch`: many pairs, one model load, resume after a kill, bad pairs reported."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from align.cli import main
from tests.conftest import KK_SEED, RU_SEED


def make_pairs(tmp_path: Path, n: int, bad: dict[int, bytes] | None = None) -> Path:
    lines = []
    for i in range(n):
        kk = tmp_path / f"kk_{i}.txt"
        ru = tmp_path / f"ru_{i}.txt"
        shutil.copy(KK_SEED, kk)
        shutil.copy(RU_SEED, ru)
        if bad and i in bad:
            kk.write_bytes(bad[i])
        lines.append(f"{kk.name}\t{ru.name}")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# kk\tru\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return pairs


def test_batch_reports_a_corrupt_pair_and_aligns_the_rest(tmp_path):
    pairs = make_pairs(tmp_path, 3, bad={1: bytes(range(256)) * 16})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--batch", str(pairs), "--out-dir", str(out), "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "2 aligned, 0 already done, 1 failed" in result.stderr
    assert len(list(out.glob("kk_*.jsonl"))) == 2
    failures = (out / "failures.tsv").read_text(encoding="utf-8").splitlines()
    assert len(failures) == 1 and "kk_1.txt" in failures[0] and "binary" in failures[0]
    report = (out / "report.tsv").read_text(encoding="utf-8").splitlines()
    assert len(report) == 4 and sum("\tfailed\t" in row for row in report) == 1


def test_batch_resumes_after_a_kill(tmp_path):
    pairs = make_pairs(tmp_path, 12)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "align", "--batch", str(pairs), "--out-dir", str(out), "-f", "tsv", "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p.stem for p in out.glob("*.json")}
    assert 2 <= len(done_before) < 12, "the kill should land mid-batch"
    # Nothing counts as done unless its alignment file is complete.
    assert {p.stem for p in out.glob("*.tsv") if p.name not in ("report.tsv", "failures.tsv")} >= done_before

    result = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{12 - len(done_before)} aligned, {len(done_before)} already done, 0 failed" in result.stderr
    assert len(list(out.glob("*.json"))) == 12
    assert not list(out.glob(".*.tmp")), "temp files of the killed run are cleaned up"


def test_batch_pairs_file_errors(tmp_path):
    bad = tmp_path / "pairs.tsv"
    bad.write_text("only-one-column\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--batch", str(bad), "--out-dir", str(tmp_path / "o")])
    assert result.exit_code == 1 and "line 1" in result.stderr
    assert CliRunner().invoke(main, ["--batch", str(bad)]).exit_code == 2
