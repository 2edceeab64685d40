"""Bertalign 2.0.1 run for :mod:`eval.peers`, inside its own Python >= 3.12 environment, with the
*parent's* encoder: every overlap Bertalign wants embedded is sent to the parent process, which
embeds it with the encoder (and cache) the other rows use, so the strings, the vectors and the
cache are the same as for ours and sentalign.

Standard library, numpy and bertalign only: this file runs in the peer's environment, where this
toolkit is not installed. The protocol, one JSON line per message (vectors follow their line as
raw little-endian float32):

    worker -> parent   {"ready": VERSION, "load_seconds": S}
    parent -> worker   {"src": [...], "tgt": [...], "options": {...}}   one document; {} ends
    worker -> parent   {"encode": [strings]}          parent answers {"shape": [n, d]} + bytes
    worker -> parent   {"beads": [[[i...], [j...]], ...], "seconds": S} | {"error": "..."}
"""

from __future__ import annotations

import json
import os
import sys
import time

started = time.perf_counter()
_out = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)  # whatever the libraries print goes to stderr, not into the protocol
_in = sys.stdin.buffer

import numpy as np  # noqa: E402
from bertalign import Bertalign, Encoder, __version__  # noqa: E402
from bertalign.utils import yield_overlaps  # noqa: E402


def send(message: dict) -> None:
    _out.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    _out.flush()


def receive() -> dict:
    line = _in.readline()
    return json.loads(line) if line.strip() else {}


class ParentEncoder(Encoder):
    """Bertalign's ``transform`` (every 1..num_overlaps run of sentences, its byte lengths), the
    embedding done by the parent. ``Encoder.__init__`` is not called: it loads a SentenceTransformer."""

    model_name = "the parent's encoder"

    def __init__(self) -> None:  # noqa: D107 - deliberately not Encoder.__init__
        pass

    def transform(self, sents, num_overlaps):
        overlaps = list(yield_overlaps(sents, num_overlaps))
        send({"encode": overlaps})
        header = receive()
        vecs = np.frombuffer(_in.read(header["shape"][0] * header["shape"][1] * 4), dtype="<f4")
        vecs = vecs.reshape(num_overlaps, len(sents), header["shape"][1]).copy()
        lens = np.array([len(x.encode("utf-8")) for x in overlaps], np.int64).reshape(num_overlaps, len(sents))
        return vecs, lens


def main() -> None:
    encoder = ParentEncoder()
    send({"ready": __version__, "load_seconds": time.perf_counter() - started})
    while request := receive():
        begin = time.perf_counter()
        src, tgt = request["src"], request["tgt"]
        aligner = Bertalign("\n".join(src), "\n".join(tgt), is_split=True, model=encoder, **request["options"])
        if (aligner.src_num, aligner.tgt_num) != (len(src), len(tgt)):
            send({"error": f"Bertalign read {aligner.src_num}/{aligner.tgt_num} sentences of "
                           f"{len(src)}/{len(tgt)} (blank sentences?)"})
            continue
        beads = aligner.align_sents()
        send({"beads": [[[int(i) for i in a], [int(j) for j in b]] for a, b in beads],
              "seconds": time.perf_counter() - begin})


if __name__ == "__main__":
    main()
