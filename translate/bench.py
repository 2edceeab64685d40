"""Deprecated alias (one release): the translation benchmarks moved to ``evaluate bench``
(suites ``speed-translate``, ``translate-flores``, ``translate-ntrex``, ``translate-wmt19``).

    python -m translate.bench speed|quality ...   # runs python -m eval.bench_translate ...

It hands over to :mod:`eval.bench_translate` in a fresh interpreter rather than
importing it: ``translate`` sits below ``eval`` and never imports it.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    print("deprecated: use evaluate bench speed-translate / translate-flores (python -m translate.bench is "
          "an alias for one release)", file=sys.stderr)
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "eval.bench_translate", *args])


if __name__ == "__main__":
    main()
