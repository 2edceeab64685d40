"""Align many document pairs: one model load, embeddings batched across
documents, resumable, and one bad pair never stops the rest.

Each finished pair leaves its alignment file and a small ``.json`` summary,
both written atomically. The summary records a resume key (a hash of both
inputs' bytes and one of every option the output depends on); a rerun skips a
pair only while its key still holds and its outputs are there, and redoes it
otherwise, saying why. A failed pair leaves none of its files behind. Failures
go to ``failures.tsv`` with the reason; ``report.tsv`` lists every pair,
``index.html`` links every pair's HTML report, and ``stale.tsv`` lists files
of earlier runs that no current result owns (another format, a failed pair):
they are left in place, never deleted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from . import __version__
from .errors import InputError, ToolkitError
from .formats import FORMATS, remove_files, write_alignment, write_atomic
from .pipeline import AlignOptions, align_documents, document_language, document_sentences
from .report import render_index
from .text import read_document


@dataclass(frozen=True)
class PairJob:
    src: str
    tgt: str
    name: str  # stable output stem, independent of the order of the list


@dataclass
class BatchSummary:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    redone: Counter = field(default_factory=Counter)  # why finished outputs were made again
    stale: list[Path] = field(default_factory=list)  # files of earlier runs no current result owns

    def counts(self, verb: str) -> str:
        """E.g. "3 aligned (2 redone: inputs changed 1, options changed 1), 5 already done, 0 failed"."""
        redone = ""
        if self.redone:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.redone.items())
            redone = f" ({sum(self.redone.values())} redone: {reasons})"
        return f"{self.done} {verb}{redone}, {self.skipped} already done, {self.failed} failed"


@dataclass(frozen=True)
class ResumeKey:
    """What one output depends on; a recorded key that differs means "redo"."""

    inputs: str | None  # hash over the input files' bytes; None when one cannot be read
    options: str  # hash over every setting that shapes the output, the toolkit version included

    @classmethod
    def of(cls, paths: list[str], settings: dict) -> "ResumeKey":
        settings = {**settings, "version": __version__}
        options = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
        return cls(_content_hash(paths), options)

    def redo_reason(self, recorded: dict | None) -> str | None:
        """Why an output made under the ``recorded`` key is out of date, or None when it holds."""
        if not recorded:
            return "no resume key"  # written by a version that did not record one
        if self.inputs is None or recorded.get("inputs") != self.inputs:
            return "inputs changed"
        if recorded.get("options") != self.options:
            return "options changed"
        return None


def _content_hash(paths: list[str]) -> str | None:
    digest = hashlib.sha256()
    try:
        for path in paths:
            with open(path, "rb") as fh:  # in blocks: inputs may be hundreds of MB
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            digest.update(b"\0")  # a file boundary: ("ab", "c") differs from ("a", "bc")
    except OSError:
        return None  # the run itself reports why the file cannot be read
    return digest.hexdigest()


def stale_files(out: Path, stems: list[str], owned: set[str]) -> list[Path]:
    """Files ``<stem>.<anything>`` in ``out`` whose names no current result owns: outputs
    of a format no longer asked for, or of an input that failed this time. One listing
    of the folder rather than a glob per stem: batches run to thousands of inputs."""
    wanted = set(stems)
    stale = []
    for path in out.iterdir():
        parts = path.name.split(".")
        if path.name not in owned and any(".".join(parts[:i]) in wanted for i in range(1, len(parts))):
            stale.append(path)
    return sorted(stale)


def read_job_list(list_path: str, columns: int) -> list[tuple[str, ...]]:
    """The job list of ``--batch`` (``align`` and ``translate``): per line ``columns`` input
    paths separated by tabs; blank lines and lines starting with ``#`` are skipped, and a
    relative path that does not exist from the current directory is taken from the list
    file's folder."""
    path = Path(list_path)
    if not path.is_file():
        raise InputError(list_path, "no such list file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(list_path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    expected = "<TAB>".join(["path"] * columns)
    jobs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        paths = [p.strip() for p in line.split("\t")]
        if len(paths) != columns or not all(paths):
            raise InputError(list_path, f"line {number}: expected '{expected}'")
        jobs.append(tuple(p if Path(p).exists() or Path(p).is_absolute() else str(path.parent / p) for p in paths))
    if not jobs:
        raise InputError(list_path, "lists no inputs")
    return jobs


def read_pairs(list_path: str) -> list[PairJob]:
    """``align --batch``'s jobs: a kk and a ru path per line."""
    jobs = []
    for src, tgt in read_job_list(list_path, 2):
        digest = hashlib.sha1(f"{src}\t{tgt}".encode()).hexdigest()[:8]
        jobs.append(PairJob(src, tgt, f"{Path(src).stem}-{digest}"))
    return jobs


def _summary(job: PairJob, alignment, outputs) -> dict:
    beads = alignment.beads
    scores = [b.score for b in beads if b.src and b.tgt]
    return {
        "name": job.name, "src": job.src, "tgt": job.tgt, "status": "done",
        "outputs": [str(p) for p in outputs],
        "src_lang": alignment.src_lang, "tgt_lang": alignment.tgt_lang,
        "src_sentences": len(alignment.src_sentences), "tgt_sentences": len(alignment.tgt_sentences),
        "beads": len(beads), "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        **_verdict_fields(alignment),
    }


def _verdict_fields(alignment) -> dict:
    """The verdict and mode columns of the batch report, named as in the JSONL meta line."""
    v = alignment.verdict
    fields = {"verdict": v.label, "verdict_figure": v.figure_name, "verdict_value": v.shown_figure} if v else {}
    return {**fields, "mode": alignment.mode} if alignment.mode else fields


def _read_pair(job: PairJob):
    """Both documents, or the error that makes this pair fail (reported by its job)."""
    try:
        return read_document(job.src), read_document(job.tgt)
    except ToolkitError as exc:
        return exc


def _pre_embed(pairs: list, encoder, options: AlignOptions) -> None:
    """Embed the sentences of several document pairs in one model call (fills the
    cache the aligner then reads); a pair that cannot be split fails later, alone."""
    texts: list[str] = []
    for pair in pairs:
        if isinstance(pair, Exception):
            continue
        for doc, given in zip(pair, (options.src_lang, options.tgt_lang)):
            try:
                lang = document_language(doc, given, "", lambda m: None, presplit=options.presplit)
                texts += document_sentences(doc, lang, options.presplit)
            except ToolkitError:
                continue
    if texts:
        encoder.encode(texts)


def _earlier_result(out: Path, job: PairJob) -> dict | None:
    """The summary a finished earlier run left for ``job`` (None when there is none)."""
    try:
        return json.loads((out / f"{job.name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _owned(row: dict) -> set[str]:
    """Names (in the output folder) of the files a finished pair's summary stands for."""
    names = {f"{row['name']}.json", *(Path(p).name for p in row.get("outputs", []))}
    return names | ({row["report"]} if row.get("report") else set())


def run_batch(jobs: list[PairJob], encoder, options: AlignOptions, out_dir: str, fmt: str, *,
              min_score: float | None = None, chunk: int = 8, quiet: bool = False,
              warn: Callable[[str], None] = lambda m: None) -> BatchSummary:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for leftover in out.glob(".*.tmp"):  # left by a killed run mid-write
        leftover.unlink(missing_ok=True)
    summary = BatchSummary()
    settings = {"format": fmt, "model": encoder.name, "min_score": min_score, "options": dataclasses.asdict(options)}
    rows: list[dict] = []
    todo: list[tuple[PairJob, ResumeKey, str | None]] = []
    for job in jobs:
        key = ResumeKey.of([job.src, job.tgt], settings)
        earlier = _earlier_result(out, job)
        if earlier is None:
            todo.append((job, key, None))
            continue
        reason = key.redo_reason(earlier.get("resume_key"))
        if reason is None and not all((out / name).exists() for name in _owned(earlier)):
            reason = "outputs missing"
        if reason is None:
            rows.append(earlier | {"status": "done (earlier run)"})
            summary.skipped += 1
        else:
            todo.append((job, key, reason))
    bar = tqdm(total=len(todo), desc="aligning pairs", unit="pair", disable=quiet or None, leave=False)
    for start in range(0, len(todo), chunk):
        group = todo[start:start + chunk]
        pairs = [_read_pair(job) for job, _, _ in group]
        _pre_embed(pairs, encoder, options)
        for (job, key, redo_reason), pair in zip(group, pairs):
            written: list[Path] = []
            try:
                if isinstance(pair, Exception):
                    raise pair
                alignment = align_documents(*pair, encoder, options)
                outputs = write_alignment(alignment, fmt, out / f"{job.name}{FORMATS[fmt].suffix}", min_score=min_score,
                                          meta=FORMATS[fmt].has_meta)
                written += outputs
                if fmt != "html":  # every pair gets a report, linked from index.html
                    written += write_alignment(alignment, "html", out / f"{job.name}.html", min_score=min_score)
                row = _summary(job, alignment, outputs) | {"report": f"{job.name}.html",
                                                           "resume_key": dataclasses.asdict(key)}
                write_atomic(out / f"{job.name}.json", json.dumps(row, ensure_ascii=False, indent=1))
                summary.done += 1
                if redo_reason:
                    summary.redone[redo_reason] += 1
            except Exception as exc:  # one bad pair must not stop thousands of others
                remove_files([*written, out / f"{job.name}.json"])  # no half result, nothing claims "done"
                reason = str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {exc}"
                row = {"name": job.name, "src": job.src, "tgt": job.tgt, "status": "failed", "reason": reason}
                summary.failed += 1
                warn(f"pair {job.src} / {job.tgt} failed: {reason}")
            rows.append(row)
            bar.update(1)
    bar.close()
    owned = set().union(*(_owned(row) for row in rows if row["status"] != "failed"))
    summary.stale = stale_files(out, [job.name for job in jobs], owned)
    if summary.stale:
        warn(f"{len(summary.stale)} file(s) of earlier runs belong to no current result (another format, "
             f"or a pair that failed): left in place, listed in {out / 'stale.tsv'}")
    write_reports(out, rows, REPORT_COLUMNS, ("src", "tgt"), summary.stale)
    write_atomic(out / "index.html", render_index(rows))
    return summary


REPORT_COLUMNS = ("name", "status", "src", "tgt", "src_lang", "tgt_lang", "src_sentences", "tgt_sentences",
                  "beads", "mean_score", "verdict", "verdict_figure", "verdict_value", "mode", "reason")


def write_reports(out: Path, rows: list[dict], columns: tuple[str, ...], inputs: tuple[str, ...],
                  stale: list[Path]) -> None:
    """The reports of a ``--batch`` run (``align`` and ``translate``): ``report.tsv``, every
    row under a header of ``columns``; ``failures.tsv``, the ``inputs`` columns and the reason
    of each failed row; ``stale.tsv``, files of earlier runs that no current result owns."""
    def line(row: dict, names) -> str:
        return "\t".join("" if row.get(c) is None else str(row[c]).replace("\t", " ") for c in names) + "\n"

    write_atomic(out / "report.tsv", "\t".join(columns) + "\n" + "".join(line(row, columns) for row in rows))
    failed = [row for row in rows if row["status"] == "failed"]
    write_atomic(out / "failures.tsv", "".join(line(row, (*inputs, "reason")) for row in failed))
    write_atomic(out / "stale.tsv", "".join(f"{path}\n" for path in stale))
