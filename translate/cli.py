"""``translate``: English (or Kazakh/Russian) for Kazakh and Russian documents and
for aligned kk-ru bitext, one translation per sentence, layout kept."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import click

from align.cliutil import (EXIT_STATUS_HELP, batch_exit_code, handle_errors, info, progress, run_options,
                           version_option, warn)
from align.errors import InputError, ModelError, ToolkitError, UsageError
from align.formats import check_writable, remove_files, write_atomic

from .engines import DEFAULT_MODEL, ENGINES
from .families import LANGUAGES
from .output import FORMATS, format_for_output, format_help


def _summary(stats, what: str, model: str, engine: str, seconds: float) -> str:
    notes = [f"{stats.cached} from cache"] if stats.cached else []
    if stats.split:
        notes.append(f"{stats.split} too long for the model, translated in pieces")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"translated {stats.sentences} sentences {what}{extra} with {model} [{engine}] in {seconds:.1f}s"


def _document_language(doc, given: str, say) -> str:
    from align.pipeline import document_language

    lang = document_language(doc, None if given == "auto" else given, "source", say, option="--from kk or --from ru")
    if lang not in LANGUAGES:
        raise InputError(doc.path, f"looks {lang!r}, not Kazakh or Russian; pass --from kk or --from ru")
    return lang


def _output_stems(paths: list[str], tgt: str) -> list[str]:
    """``<stem>.<tgt>`` (the output adds its format's suffix); a stem shared by two
    inputs gets a short hash of the path."""
    stems = [Path(p).stem for p in paths]
    names = []
    for path, stem in zip(paths, stems):
        if stems.count(stem) > 1:
            stem = f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}"
        names.append(f"{stem}.{tgt}")
    return names


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
@version_option
@handle_errors
def main(documents, src, tgt, model, engine, device, beam, batch_tokens, max_length, fmt, output, aligned,
         side, list_file, out_dir, no_cache, cache_dir, quiet):
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
      translate doc.txt --model Helsinki-NLP/opus-mt-ru-en --from ru
    """
    from align.batch import read_job_list

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
    fmt = fmt or format_for_output(output)
    if output:  # before the model loads: a bad output path must not cost a run
        check_writable(output)
    if out_dir:
        check_writable(out_dir, folder=True)

    say = (lambda m: None) if quiet else warn
    options = dict(model=model, engine=engine, device=device, beam=beam, max_length=max_length,
                   cache=not no_cache, cache_dir=cache_dir, warn=say)
    with _Session(options, batch_tokens, quiet) as session:
        if aligned:
            _translate_aligned(session, aligned, side, tgt, fmt, output, say, quiet)
        elif out_dir:
            _translate_many(session, inputs, src, tgt, fmt, out_dir, say, quiet)
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
    lang = _document_language(doc, src, say)
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


def _translate_many(session: _Session, paths: list[str], src: str, tgt: str, fmt: str, out_dir: str,
                    say, quiet) -> None:
    """Each input to its own file, written atomically, then a ``<stem>.<tgt>.json``
    beside it with the resume key (the input's bytes, languages, model, decoding
    options, format, toolkit version): a rerun skips a file only while its key holds.
    A failing file is reported, leaves none of its files, and the rest go on."""
    from align.batch import BatchSummary, ResumeKey, stale_files, write_reports
    from align.text import read_document

    from .document import Stats, translate_document
    from .output import render_document

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = {"from": src, "to": tgt, "format": fmt,
                **{name: session.options[name] for name in ("model", "engine", "beam", "max_length")}}
    total, rows, summary, owned = Stats(), [], BatchSummary(), set()
    stems = _output_stems(paths, tgt)
    for path, stem in zip(paths, stems):
        target, record = out / f"{stem}{FORMATS[fmt].suffix}", out / f"{stem}.json"
        key = ResumeKey.of([path], settings)
        reason = None
        if record.exists():
            reason = key.redo_reason(_read_record(record).get("resume_key"))
            if reason is None and not target.exists():
                reason = "outputs missing"
        elif target.exists():
            reason = "no resume key"  # written by a version that kept no record
        if record.exists() and reason is None:
            rows.append({"path": path, "status": "done (earlier run)", "output": str(target)})
            owned |= {target.name, record.name}
            summary.skipped += 1
            continue
        written: list[Path] = []
        try:
            doc = read_document(path, warn=say)
            result = translate_document(doc, _document_language(doc, src, say), tgt, **session.run_options())
            write_atomic(target, render_document(result, fmt))
            written.append(target)
            write_atomic(record, json.dumps({"input": path, "output": target.name,
                                             "resume_key": dataclasses.asdict(key)}, ensure_ascii=False, indent=1))
            total.add(result.stats)
            _report_empty(result.stats, path, say)
            rows.append({"path": path, "status": "done", "output": str(target)})
            owned |= {target.name, record.name}
            summary.done += 1
            if reason:
                summary.redone[reason] += 1
        except (ModelError, UsageError):  # the model or the options: no other file can do better
            raise
        except ToolkitError as exc:
            remove_files([*written, record])  # no half result, nothing claims "done"
            say(f"{path} failed: {exc}")
            rows.append({"path": path, "status": "failed", "reason": str(exc)})
            summary.failed += 1
    summary.stale = stale_files(out, stems, owned)
    if summary.stale:
        say(f"{len(summary.stale)} file(s) of earlier runs belong to no current result (another format, "
            f"or a file that failed): left in place, listed in {out / 'stale.tsv'}")
    write_reports(out, rows, ("path", "status", "output", "reason"), ("path",), summary.stale)
    if summary.done:
        info(_summary(total, f"from {summary.done} files", session.options["model"], session.translator.engine,
                      time.perf_counter() - started), quiet)
    info(f"{summary.counts('translated')} (see {out}/report.tsv)", quiet)
    code = batch_exit_code(summary.done + summary.skipped, summary.failed)
    if code:
        raise SystemExit(code)


def _read_record(path: Path) -> dict:
    """A finished file's record; an unreadable one counts as no record."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
