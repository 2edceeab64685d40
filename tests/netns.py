"""Run a Python script in a network namespace of its own, where only loopback exists.

The rule of these machines: tests send traffic only over loopback. Ray binds to
the machine's address by default; inside a fresh namespace (``unshare -n``, then
``ip link set lo up``) it starts on 127.0.0.1. Every cluster test runs with a
timeout: a Ray pool whose actor dies can hang (ray-project/ray#62746).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def run_isolated(script: str, *args: str, timeout: float = 300, cwd: str | None = None,
                 env: dict | None = None) -> subprocess.CompletedProcess:
    """``python script args…`` inside a loopback-only network namespace; skips the
    test where namespaces cannot be made (not root, no ``unshare``)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2) for a loopback-only namespace")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace: {probe.stderr.decode().strip()}")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    environment.update(env or {})
    command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, script, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=environment)
