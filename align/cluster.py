"""The Ray connection of ``--ray`` runs: one place that starts or joins a cluster.

Without an address (``--ray-address`` or ``$RAY_ADDRESS``) a fresh local Ray is
started (``address="local"``: a cluster file left by another run on this machine
must not capture the job); with one, the running cluster is joined. Ray is an
optional dependency (``pip install -e '.[ray]'``); without ``--ray`` nothing here
is imported.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from .errors import UsageError

RAY_EXTRA = "pip install -e '.[ray]'"


def import_ray():
    """The ``ray`` module, or a usage error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray: {RAY_EXTRA}") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[object]:
    """Ray, initialised for one run and shut down after it (when this run started it).

    ``address``: a cluster to join (``ray://…`` or ``HOST:PORT``); ``None`` reads
    ``$RAY_ADDRESS`` and, without it, starts a local Ray with ``num_cpus`` CPUs
    (default: the machine's). Ray 2.60 protects local clusters with a token it
    generates itself; joining a cluster that wants one reads ``$RAY_AUTH_TOKEN`` or
    ``~/.ray/auth_token`` as Ray does, and a missing token is a one-line error.
    """
    ray = import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():  # a caller (a notebook, a test) already connected: use that
        yield ray
        return
    kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(address="local", num_cpus=num_cpus, **kwargs)
    except ConnectionError as exc:
        raise UsageError(f"cannot join the Ray cluster at {address}: {exc}") from None
    except Exception as exc:  # Ray raises its own types (auth, version mismatch): one line, not a traceback
        if "token" in str(exc).lower() or "auth" in str(exc).lower():
            raise UsageError(f"the Ray cluster at {address or 'local'} wants an authentication token: set "
                             f"RAY_AUTH_TOKEN or copy the head node's ~/.ray/auth_token ({exc})") from None
        raise
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray) -> float:
    """CPUs the connected cluster has in all (what worker pools are sized from)."""
    return float(ray.cluster_resources().get("CPU", 0))
