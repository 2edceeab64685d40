"""The peers' plumbing: Bertalign's subprocess protocol (run here against a stand-in
``bertalign`` package, since the real one needs Python 3.12 and a 5.7 GB torch), its
environment's discovery and repair, and the skip when no Python 3.12 exists."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from eval import peers

STAND_IN = '''
import numpy as np
__version__ = "stand-in"

class Encoder:
    def __init__(self, *a, **k):
        raise AssertionError("Encoder.__init__ loads a SentenceTransformer: must not be called")

class Bertalign:
    """Embeds through the encoder as Bertalign does, then links each source sentence to its
    nearest target sentence: the beads prove the vectors crossed the pipe intact."""
    def __init__(self, src, tgt, *, is_split, model, max_align=5):
        assert is_split
        self.src_num, self.tgt_num = len(src.splitlines()), len(tgt.splitlines())
        self.src_vecs, self.src_lens = model.transform(src.splitlines(), max_align - 1)
        self.tgt_vecs, self.tgt_lens = model.transform(tgt.splitlines(), max_align - 1)
        assert self.src_vecs.shape[:2] == self.src_lens.shape == (max_align - 1, self.src_num)
    def align_sents(self):
        best = (self.src_vecs[0] @ self.tgt_vecs[0].T).argmax(axis=1)
        return [([i], [int(j)]) for i, j in enumerate(best)]
'''

UTILS = '''
def yield_overlaps(lines, num_overlaps):
    for k in range(1, num_overlaps + 1):
        for i in range(len(lines)):
            yield " ".join(lines[max(0, i - k + 1):i + 1])
'''


WORDS = {"alpha": 0, "beta": 1, "gamma": 2}


class CountingEncoder:
    """One-hot vectors by the text's last word: the stand-in's beads follow them."""

    def __init__(self) -> None:
        self.hits = self.misses = 0
        self.asked: list[str] = []

    def encode(self, texts):
        self.asked += texts
        self.misses += len(texts)
        out = np.zeros((len(texts), 8), np.float32)
        for r, text in enumerate(texts):
            out[r, WORDS.get(text.split()[-1].strip("."), 7)] = 1.0  # last word: its own sentence
        return out


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    package = tmp_path / "site" / "bertalign"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(STAND_IN))
    (package / "utils.py").write_text(textwrap.dedent(UTILS))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    return sys.executable


def test_the_worker_embeds_through_the_parents_encoder(stand_in):
    encoder = CountingEncoder()
    src, tgt = ["one alpha.", "two beta.", "three gamma."], ["uno gamma.", "dos alpha.", "tres beta."]
    with peers.BertalignWorker(encoder, stand_in) as worker:
        assert worker.version == "stand-in" and worker.load_seconds >= 0
        beads = worker.align(src, tgt)
        again = worker.align(src[:2], tgt[:2])
    assert beads == [((0,), (1,)), ((1,), (2,)), ((2,), (0,))]
    assert len(again) == 2
    assert encoder.misses == 4 * (3 + 3) + 4 * (2 + 2)  # overlaps 1..4 a sentence, as Bertalign embeds
    assert worker.process.returncode == 0


def test_a_worker_that_fails_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # no bertalign there: the import fails
    with pytest.raises(RuntimeError, match="Bertalign worker ended"):
        peers.BertalignWorker(CountingEncoder(), sys.executable)


def test_bertalign_is_skipped_with_a_reason_without_python_312(tmp_path, monkeypatch):
    monkeypatch.setenv("KKRU_CACHE", str(tmp_path))
    monkeypatch.setattr(peers, "find_python312", lambda: None)
    assert "Python >= 3.12" in peers.PEERS["bertalign"].missing()
    with pytest.raises(RuntimeError, match="KKRU_PEER_PYTHON"):
        peers.ensure_bertalign_env()


def test_a_half_made_environment_is_rebuilt_and_a_finished_one_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("KKRU_CACHE", str(tmp_path))
    env = peers.bertalign_env()
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")  # an interrupted install: no marker
    commands = []
    monkeypatch.setattr(peers, "find_python312", lambda: (["python3.12"], None))
    stale = env / "bin" / "python"

    def run(command, **kw):
        if "venv" in command:  # what the venv module makes
            assert not stale.exists()  # the half-made environment was removed first
            (env / "bin").mkdir(parents=True)
        commands.append(command)

    monkeypatch.setattr(peers.subprocess, "run", run)
    python = peers.ensure_bertalign_env(log=lambda text: None)
    assert commands[0] == ["python3.12", "-m", "venv", str(env)]
    assert commands[1][-1] == peers.BERTALIGN and (env / "installed").exists()
    commands.clear()
    (env / "bin" / "python").write_text("")  # what the venv module would have made
    assert peers.ensure_bertalign_env() == python and not commands


def test_find_python312_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv("KKRU_PEER_PYTHON", sys.executable)
    found = peers.find_python312()
    if sys.version_info >= (3, 12):
        assert found == ([sys.executable], None)
    else:  # 3.11 is not enough: another interpreter or none
        assert found is None or found[0] != [sys.executable]
