"""`align --batch`: many pairs, one model load, resume after a kill, bad pairs reported."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from align.cli import main
from align.errors import InputError
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
    assert result.exit_code == 3, result.output  # some pairs failed: scripts must notice
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


def batch(pairs: Path, out: Path, *args):
    return CliRunner().invoke(main, ["--batch", str(pairs), "--out-dir", str(out), *map(str, args)])


def rows(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_batch_redoes_a_pair_whose_input_changed(tmp_path):
    pairs = make_pairs(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(pairs, out, "-f", "tsv").exit_code == 0
    [first] = out.glob("kk_0-*.tsv")
    before = rows(first)
    kk = tmp_path / "kk_0.txt"  # the Kazakh side shrinks to its first three sentences
    kk.write_text(". ".join(kk.read_text(encoding="utf-8").split(". ")[:3]) + ".\n", encoding="utf-8")
    result = batch(pairs, out, "-f", "tsv")
    assert result.exit_code == 0, result.output
    assert "1 aligned (1 redone: inputs changed 1), 1 already done, 0 failed" in result.stderr
    assert rows(first) < before


def test_batch_redoes_on_changed_options_and_lists_stale_outputs(tmp_path):
    pairs = make_pairs(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(pairs, out, "-f", "tsv").exit_code == 0
    result = batch(pairs, out, "-f", "jsonl")
    assert "2 aligned (2 redone: options changed 2), 0 already done, 0 failed" in result.stderr
    assert len(list(out.glob("kk_*.jsonl"))) == 2
    old = sorted(p for p in out.glob("kk_*.tsv"))
    assert len(old) == 2, "outputs of the old format are left in place"
    assert (out / "stale.tsv").read_text(encoding="utf-8").splitlines() == [str(p) for p in old]
    assert "stale.tsv" in result.stderr
    assert "0 aligned, 2 already done" in batch(pairs, out, "-f", "jsonl").stderr
    assert "2 aligned (2 redone: options changed 2)" in batch(pairs, out, "-f", "jsonl", "--min-score", 0.5).stderr
    assert "2 aligned (2 redone: options changed 2)" in batch(pairs, out, "-f", "jsonl", "--min-score", 0.5,
                                                              "--max-bead", 4).stderr


def test_batch_redoes_a_pair_whose_output_was_deleted(tmp_path):
    pairs = make_pairs(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(pairs, out, "-f", "tsv").exit_code == 0
    next(out.glob("kk_1-*.tsv")).unlink()
    assert "1 aligned (1 redone: outputs missing 1), 1 already done" in batch(pairs, out, "-f", "tsv").stderr
    assert len(list(out.glob("kk_1-*.tsv"))) == 1


def test_batch_exit_codes(tmp_path):
    pairs = make_pairs(tmp_path, 2, bad={1: b""})
    out = tmp_path / "out"
    assert batch(pairs, out).exit_code == 3
    assert batch(pairs, out).exit_code == 3, "a pair done in an earlier run counts as a success"
    all_bad = tmp_path / "bad.tsv"
    all_bad.write_text("kk_1.txt\tru_1.txt\nmissing.txt\tru_0.txt\n", encoding="utf-8")
    result = batch(all_bad, tmp_path / "out2")
    assert result.exit_code == 1 and "0 aligned, 0 already done, 2 failed" in result.stderr
    fine = tmp_path / "fine"
    fine.mkdir()
    assert batch(make_pairs(fine, 1), tmp_path / "out3").exit_code == 0


def test_failed_pair_leaves_none_of_its_files(tmp_path, monkeypatch):
    import align.batch
    import align.jobs

    pairs = make_pairs(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(pairs, out, "-f", "tsv").exit_code == 0
    real = align.batch.write_alignment

    def report_fails_for_kk_1(alignment, fmt, path, **kwargs):
        if fmt == "html" and Path(path).name.startswith("kk_1-"):
            raise OSError(28, "No space left on device")
        return real(alignment, fmt, path, **kwargs)

    monkeypatch.setattr(align.batch, "write_alignment", report_fails_for_kk_1)
    result = batch(pairs, out, "-f", "jsonl")  # redo both: the report of kk_1 cannot be written
    assert result.exit_code == 3, result.output
    assert "1 aligned (1 redone: options changed 1), 0 already done, 1 failed" in result.stderr
    assert not list(out.glob("kk_1-*.jsonl")), "the failed pair's alignment is taken back"
    assert not list(out.glob("kk_1-*.json")), "nothing says the failed pair is done"
    assert len(list(out.glob("kk_0-*.jsonl"))) == 1, "finished pairs stay"
    stale = (out / "stale.tsv").read_text(encoding="utf-8")
    assert "kk_1-" in stale and "kk_0-" in stale  # the tsv files of the first run


def test_unwritable_out_dir_fails_before_the_model_loads(tmp_path, monkeypatch):
    import align.encoders

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load")

    monkeypatch.setattr(align.encoders, "load_encoder", no_model)
    pairs = make_pairs(tmp_path, 1)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    for out in (blocker / "out", blocker / "deeper" / "out"):
        result = batch(pairs, out)
        assert result.exit_code == 1, result.output
        assert f"{out}: {blocker} is a file, not a folder" in result.stderr
        assert len(result.stderr.splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_out_dir_fails_before_the_model_loads(tmp_path):
    pairs = make_pairs(tmp_path, 1)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = batch(pairs, locked / "out")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1 and f"{locked / 'out'}: no permission to write in {locked}" in result.stderr


def test_batch_redoes_pairs_of_another_toolkit_version(tmp_path, monkeypatch):
    import json

    import align.batch
    import align.jobs

    pairs = make_pairs(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(pairs, out).exit_code == 0
    summary = next(out.glob("kk_0-*.json"))  # as an older version wrote it: no resume key
    summary.write_text(json.dumps({k: v for k, v in json.loads(summary.read_text()).items() if k != "resume_key"}))
    assert "1 aligned (1 redone: no resume key 1), 1 already done" in batch(pairs, out).stderr
    monkeypatch.setattr(align.jobs, "__version__", "99.0")
    assert "2 aligned (2 redone: options changed 2), 0 already done" in batch(pairs, out).stderr


def test_job_list_rules(tmp_path, monkeypatch):
    """One reader for `align --batch` and `translate --batch`: comments, blank lines,
    padding and a BOM skipped; relative paths from here, else from the list's folder."""
    from align.jobs import read_job_list

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "b.txt").write_text("x", encoding="utf-8")
    here = tmp_path / "here"
    here.mkdir()
    (here / "a.txt").write_text("x", encoding="utf-8")
    monkeypatch.chdir(here)
    listing = lists / "jobs.tsv"
    listing.write_text("\ufeff# kk\tru\n\n   \n  # indented comment\n a.txt \t b.txt\n/abs/c.txt\tmissing.txt\n",
                       encoding="utf-8")
    assert read_job_list(str(listing), 2) == [("a.txt", str(lists / "b.txt")),
                                              ("/abs/c.txt", str(lists / "missing.txt"))]
    with pytest.raises(InputError, match=r"jobs\.tsv: line 5: expected 'path'$"):
        read_job_list(str(listing), 1)  # a tab where one path is expected
    listing.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"jobs\.tsv: lists no inputs"):
        read_job_list(str(listing), 2)
    with pytest.raises(InputError, match=r"nope\.tsv: no such list file"):
        read_job_list(str(tmp_path / "nope.tsv"), 2)
    listing.write_bytes(b"\xff\xfe a\n")
    with pytest.raises(InputError, match=r"jobs\.tsv: not UTF-8"):
        read_job_list(str(listing), 1)


def test_batch_takes_padded_paths_in_the_list(tmp_path):
    pairs = make_pairs(tmp_path, 1)
    pairs.write_text("  kk_0.txt \t ru_0.txt  \n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--batch", str(pairs), "--out-dir", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("kk_0-*.tsv"))) == 1


def test_one_report_writer_for_every_batch(tmp_path):
    from align.jobs import write_reports

    rows = [{"path": "a.txt", "status": "done", "output": "a.en.txt"},
            {"path": "b\tc.txt", "status": "failed", "reason": "no such\tfile"}]
    write_reports(tmp_path, rows, ("path", "status", "output", "reason"), ("path",), [tmp_path / "old.tmx"])
    assert (tmp_path / "report.tsv").read_text(encoding="utf-8") == (
        "path\tstatus\toutput\treason\na.txt\tdone\ta.en.txt\t\nb c.txt\tfailed\t\tno such file\n")
    assert (tmp_path / "failures.tsv").read_text(encoding="utf-8") == "b c.txt\tno such file\n"
    assert (tmp_path / "stale.tsv").read_text(encoding="utf-8") == f"{tmp_path / 'old.tmx'}\n"
