"""Find model weights: a local directory, the Hugging Face cache, or the hub.

Shared by the embedding encoders and the translation engines, so every model
load fails the same clear way when the weights are not on this machine.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from .errors import ModelError


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Cheap reachability check, so an offline machine fails in ms, not after retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or ""
    old = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(timeout)
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(old)


def resolve_pretrained(spec: str, what: str = "model") -> str:
    """Return a local directory holding ``spec`` (a path or a hub id).

    Order: existing directory; the local HF cache; a download when the hub is
    reachable. Anything else raises ModelError saying how to get the weights.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists() or spec.startswith((".", "/", "~")):
        raise ModelError(f"{what} {spec!r}: not a model directory")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        return snapshot_download(spec, local_files_only=True)
    except HFValidationError as exc:
        raise ModelError(f"{what} {spec!r}: not a local directory nor a valid hub id") from exc
    except Exception:
        pass
    if _hub_reachable():
        try:
            return snapshot_download(spec)
        except Exception as exc:  # the hub answered but refused: wrong id, gated, ...
            raise ModelError(f"{what} {spec!r}: download failed: {exc}".splitlines()[0]) from exc
    raise ModelError(
        f"{what} {spec!r} is not on this machine and the Hugging Face hub cannot be reached. "
        f"On a machine with internet run `hf download {spec}` and copy the cache "
        f"(~/.cache/huggingface) here, or pass the path of a local model directory."
    )
