"""``translate``: English (or Kazakh/Russian) for Kazakh and Russian documents and
for aligned kk-ru bitext, one translation per sentence, layout kept."""

from __future__ import annotations

import time

import click

from align.cliutil import (EXIT_STATUS_HELP, batch_exit_code, executor_for, handle_errors, info, progress, ray_options,
                           run_options, version_option, warn, worker_cache_dir)
from align.errors import UsageError
from align.formats import check_writable, write_atomic

from .batch import document_language
from .engines import DEFAULT_MODEL, ENGINES
from .families import LANGUAGES
from .output import FORMATS, format_for_output, format_help


def _summary(stats, what: str, model: str, engine: str, seconds: float) -> str:
    notes = [f"{stats.cached} from cache"] if stats.cached else []
    if stats.split:
        notes.append(f"{stats.split} too long for the model, translated in pieces")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"translated {stats.sentences} sentences {what}{extra} with {model} [{engine}] in {seconds:.1f}s"


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
               epilog=EXIT_STATUS_HELP)
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option("--from", "src", type=click.Choice(["auto", "kk", "ru"]), default="auto", show_default=True,
              help="Language of the documents; auto detects it per document.")
@click.option("--to", "tgt", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
              help="Language to translate into.")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Hub id or local directory of an NLLB-200, M2M100, SMaLL-100, OPUS-MT (Marian), MADLAD "
                   "or instruction-tuned chat model (Qwen, Gemma, ...).")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="ctranslate2 converts the model once (cached) and runs it int8 on CPU, float16 on GPU, "
                   "several times faster; auto uses it on CPU when the model converts, else transformers.")
@click.option("--beam", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Beam size; 1 is greedy decoding (fastest).")
@click.option("--batch-tokens", type=click.IntRange(16), default=2048, show_default=True,
              help="Most tokens (sentences x longest sentence) in one model call; lower it if memory runs out.")
@click.option("--max-length", type=click.IntRange(8), default=None,
              help="Longest sentence, in model tokens, translated in one piece; longer ones are cut at "
                   "clause punctuation, never truncated. Default: the model's limit.")
@click.option("-f", "--format", "fmt", type=click.Choice(list(FORMATS)), default=None, help=format_help())
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write here (atomically) instead of standard output.")
@click.option("--aligned", type=click.Path(), default=None, metavar="FILE_OR_DIR",
              help="An alignment file (tsv, jsonl or tmx from `align`) or a Parquet bitext (an `align "
                   "--bitext-out` folder or one .parquet file): add a translation of its Kazakh and/or "
                   "Russian side, giving kk-ru-en triples.")
@click.option("--side", type=click.Choice(["kk", "ru", "both"]), default="kk", show_default=True,
              help="With --aligned: which side to translate. With both, the Russian side's translation "
                   "goes to the field en_from_ru (in TMX: a second English <tuv>, each marked x-source).")
@run_options
@ray_options
@version_option
@handle_errors
def main(documents, src, tgt, model, engine, device, beam, batch_tokens, max_length, fmt, output, aligned,
         side, list_file, out_dir, no_cache, cache_dir, quiet, ray, ray_address):
    """Translate Kazakh or Russian DOCs (default: into English with NLLB-200).

    Each document is read in any common encoding, split into sentences,
    translated in batches and written back with its paragraphs in place:
    exactly one translation per sentence, long sentences cut rather than
    truncated. Translations are cached, so re-running a corpus is cheap.
    Models are found in a local directory or the Hugging Face cache; offline
    and not cached is a clear error saying how to get them. With --batch, each
    line of LIST is one DOC path.

    \b
    Examples:
      translate seeds/kk_nazarbayev_putin.txt
      translate ru.txt --from ru -f jsonl -o ru.en.jsonl
      translate --aligned pair.tsv --side both -f tmx -o pair.kk-ru-en.tmx
      translate --aligned bitext/ -f jsonl -o triples.jsonl
      translate --batch files.txt --out-dir english/ --engine ctranslate2 --beam 1
      translate --batch files.txt --out-dir english/ --ray   # on a Ray cluster
      translate doc.txt --model Helsinki-NLP/opus-mt-ru-en --from ru
    """
    from align.jobs import read_job_list

    inputs = list(documents) + ([path for (path,) in read_job_list(list_file, 1)] if list_file else [])
    if aligned and inputs:
        raise UsageError("give either DOCs/--batch or --aligned FILE, not both")
    if not aligned and not inputs:
        raise UsageError("nothing to translate: give DOC, --batch LIST or --aligned FILE (see --help)")
    many = len(inputs) > 1 or list_file
    if many and not out_dir:
        raise UsageError("several documents need --out-dir DIR (one output file each)")
    if out_dir and output:
        raise UsageError("give -o for one document or --out-dir for many, not both")
    if out_dir and aligned:
        raise UsageError("--aligned writes one file: use -o, not --out-dir")
    if ray and not out_dir:
        raise UsageError("--ray runs --batch LIST --out-dir DIR on a cluster")
    fmt = fmt or format_for_output(output)
    if output:  # before the model loads: a bad output path must not cost a run
        check_writable(output)
    if out_dir:
        check_writable(out_dir, folder=True)

    say = (lambda m: None) if quiet else warn
    options = dict(model=model, engine=engine, device=device, beam=beam, max_length=max_length,
                   cache=not no_cache, cache_dir=cache_dir, warn=say)
    if out_dir:
        from .batch import TranslateJob

        job = TranslateJob(out_dir, fmt, src, tgt, model, engine=engine, device=device, beam=beam,
                           max_length=max_length, batch_tokens=batch_tokens, cache=not no_cache,
                           cache_dir=worker_cache_dir(cache_dir, ray))
        _translate_many(job, inputs, executor_for(ray, ray_address), say, quiet)
        return
    with _Session(options, batch_tokens, quiet) as session:
        if aligned:
            _translate_aligned(session, aligned, side, tgt, fmt, output, say, quiet)
        else:
            _translate_one(session, inputs[0], src, tgt, fmt, output, say, quiet)


class _Session:
    """The model and cache, loaded once on first use (after inputs were checked)."""

    def __init__(self, options: dict, batch_tokens: int, quiet: bool):
        self.options, self.batch_tokens, self.quiet = options, batch_tokens, quiet
        self._translator = self._cache = None
        self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        if self._cache is not None:
            self._cache.close()

    @property
    def translator(self):
        if self._translator is None:
            from .engines import load_translator

            o = self.options
            self._translator = load_translator(o["model"], engine=o["engine"], device=o["device"], beam=o["beam"],
                                               max_length=o["max_length"], cache_dir=o["cache_dir"])
            if o["cache"]:
                from .cache import TranslationCache

                self._cache = TranslationCache(o["cache_dir"], warn=o["warn"])
        return self._translator

    def run_options(self) -> dict:
        translator = self.translator
        if self._bar is None:
            self._bar = progress(total=0, desc="translating", unit="sent", quiet=self.quiet)
        return dict(translator=translator, cache=self._cache, batch_tokens=self.batch_tokens, progress=self._bar)


def _report_empty(stats, where: str, say) -> None:
    if stats.empty:
        say(f"{where}: {stats.empty} sentences got an empty translation from the model")


def _emit(text: str, output) -> None:
    """Write atomically to ``output``, or to standard output."""
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


def _translate_one(session: _Session, path: str, src: str, tgt: str, fmt: str, output, say, quiet) -> None:
    from align.text import read_document

    from .document import translate_document
    from .output import render_document

    doc = read_document(path, warn=say)
    lang = document_language(doc, src, say)
    started = time.perf_counter()
    result = translate_document(doc, lang, tgt, **session.run_options())
    text = render_document(result, fmt)
    _emit(text, output)
    _report_empty(result.stats, doc.path, say)
    info(_summary(result.stats, f"{lang}->{tgt}", result.model, result.engine, time.perf_counter() - started), quiet)


def _translate_aligned(session: _Session, path: str, side: str, tgt: str, fmt: str, output, say, quiet) -> None:
    from .bitext import read_aligned, translate_bitext
    from .output import render_bitext

    aligned = read_aligned(path)
    aligned.sides(side)  # a wrong file fails before the model loads
    started = time.perf_counter()
    result = translate_bitext(aligned, side, tgt, **session.run_options())
    text = render_bitext(result, fmt)
    _emit(text, output)
    _report_empty(result.stats, path, say)
    what = f"{'+'.join(result.sides)}->{tgt} in {len(result.rows)} aligned pairs"
    info(_summary(result.stats, what, result.model, result.engine, time.perf_counter() - started), quiet)


def _translate_many(job, paths: list[str], executor, say, quiet) -> None:
    """Each input to its own file (see :mod:`translate.batch`), through the job runner."""
    from align.jobs import run_jobs

    from .document import Stats

    summary = run_jobs(job, job.tasks(paths), executor, chunk=1, quiet=quiet, warn=say)
    total, engine = Stats(), job.engine
    for row in summary.rows:
        if row["status"] == "done":  # this run's (earlier runs' rows say "done (earlier run)")
            stats = Stats(**row["stats"])
            total.add(stats)
            engine = row["engine"]
            _report_empty(stats, row["path"], say)
    if summary.done:
        info(_summary(total, f"from {summary.done} files", job.model, engine, summary.seconds), quiet)
    info(f"{summary.counts('translated')} (see {job.out_dir}/report.tsv)", quiet)
    code = batch_exit_code(summary.done + summary.skipped, summary.failed)
    if code:
        raise SystemExit(code)
