"""Align many document pairs: one model load, embeddings batched across
documents, resumable, and one bad pair never stops the rest.

Each finished pair leaves its alignment file and a small ``.json`` summary,
both written atomically; a rerun skips pairs whose summary exists. Failures go
to ``failures.tsv`` with the reason; ``report.tsv`` lists every pair and
``index.html`` links every pair's HTML report.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from .errors import InputError, ToolkitError
from .formats import write_alignment, write_atomic
from .pipeline import AlignOptions, align_documents, document_language, document_sentences
from .report import render_index
from .text import read_document

SUFFIX = {"vecalign": ".align", "tsv": ".tsv", "jsonl": ".jsonl", "tmx": ".tmx", "moses": "", "html": ".html"}


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


def read_pairs(list_path: str) -> list[PairJob]:
    """Read ``src<TAB>tgt`` lines; paths are taken relative to the list file's folder
    when they do not exist relative to the current directory."""
    path = Path(list_path)
    if not path.is_file():
        raise InputError(list_path, "no such pairs file")
    jobs = []
    base = path.parent
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 2:
            raise InputError(list_path, f"line {number}: expected 'src_path<TAB>tgt_path'")
        src, tgt = (p if Path(p).exists() or Path(p).is_absolute() else str(base / p) for p in parts)
        digest = hashlib.sha1(f"{src}\t{tgt}".encode()).hexdigest()[:8]
        jobs.append(PairJob(src, tgt, f"{Path(src).stem}-{digest}"))
    if not jobs:
        raise InputError(list_path, "lists no pairs")
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
        **{k: v for k, v in alignment.info.items() if k in ("verdict", "verdict_figure", "verdict_value", "mode")},
    }


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
                texts += document_sentences(doc, document_language(doc, given, "", lambda m: None), options.presplit)
            except ToolkitError:
                continue
    if texts:
        encoder.encode(texts)


def run_batch(jobs: list[PairJob], encoder, options: AlignOptions, out_dir: str, fmt: str, *,
              min_score: float | None = None, chunk: int = 8, quiet: bool = False,
              warn: Callable[[str], None] = lambda m: None) -> BatchSummary:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.tmp"):  # left by a killed run mid-write
        stale.unlink(missing_ok=True)
    summary = BatchSummary()
    rows: list[dict] = []
    todo = []
    for job in jobs:
        meta = out / f"{job.name}.json"
        if meta.exists():
            rows.append(json.loads(meta.read_text(encoding="utf-8")) | {"status": "done (earlier run)"})
            summary.skipped += 1
        else:
            todo.append(job)
    bar = tqdm(total=len(todo), desc="aligning pairs", unit="pair", disable=quiet or None, leave=False)
    for start in range(0, len(todo), chunk):
        group = todo[start:start + chunk]
        pairs = [_read_pair(job) for job in group]
        _pre_embed(pairs, encoder, options)
        for job, pair in zip(group, pairs):
            try:
                if isinstance(pair, Exception):
                    raise pair
                alignment = align_documents(*pair, encoder, options)
                outputs = write_alignment(alignment, fmt, out / f"{job.name}{SUFFIX[fmt]}", min_score=min_score,
                                          meta=fmt == "jsonl")
                if fmt != "html":  # every pair gets a report, linked from index.html
                    write_alignment(alignment, "html", out / f"{job.name}.html", min_score=min_score)
                row = _summary(job, alignment, outputs) | {"report": f"{job.name}.html"}
                write_atomic(out / f"{job.name}.json", json.dumps(row, ensure_ascii=False, indent=1))
                summary.done += 1
            except Exception as exc:  # one bad pair must not stop thousands of others
                reason = str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {exc}"
                row = {"name": job.name, "src": job.src, "tgt": job.tgt, "status": "failed", "reason": reason}
                summary.failed += 1
                warn(f"pair {job.src} / {job.tgt} failed: {reason}")
            rows.append(row)
            bar.update(1)
    bar.close()
    _write_reports(out, rows)
    return summary


def _write_reports(out: Path, rows: list[dict]) -> None:
    columns = ["name", "status", "src", "tgt", "src_lang", "tgt_lang", "src_sentences", "tgt_sentences",
               "beads", "mean_score", "verdict", "verdict_figure", "verdict_value", "mode", "reason"]
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join("" if row.get(c) is None else str(row.get(c)).replace("\t", " ") for c in columns))
    write_atomic(out / "report.tsv", "\n".join(lines) + "\n")
    failed = [r for r in rows if r["status"] == "failed"]
    write_atomic(out / "failures.tsv", "".join(f"{r['src']}\t{r['tgt']}\t{r['reason']}\n" for r in failed))
    write_atomic(out / "index.html", render_index(rows))
