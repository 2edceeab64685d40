"""``translate --batch``: the work of translating many documents, run by the job
runner (:mod:`align.jobs`) in one process or on a Ray cluster.

Each input goes to its own file, written atomically, then a ``<stem>.<tgt>.json``
record beside it with the resume key (the input's bytes, languages, model, decoding
options, format, toolkit version): a rerun skips a file only while its key holds.
A failing file leaves none of its files and the rest go on; a model that cannot
load or run stops the run (no other file could do better).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from align.errors import InputError, ModelError, UsageError
from align.formats import remove_files, write_atomic
from align.jobs import ResumeKey, Task, failure_reason

from .output import FORMATS

REPORT_COLUMNS = ("path", "status", "output", "reason")


def output_stems(paths: Sequence[str], tgt: str) -> list[str]:
    """``<stem>.<tgt>`` (the output adds its format's suffix); a stem shared by two
    inputs gets a short hash of the path."""
    stems = [Path(p).stem for p in paths]
    names = []
    for path, stem in zip(paths, stems):
        if stems.count(stem) > 1:
            stem = f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}"
        names.append(f"{stem}.{tgt}")
    return names


def document_language(doc, given: str, say) -> str:
    """``--from``'s language for ``doc`` (``auto``: detected), Kazakh or Russian."""
    from align.pipeline import document_language as detect

    from .families import LANGUAGES

    lang = detect(doc, None if given == "auto" else given, "source", say, option="--from kk or --from ru")
    if lang not in LANGUAGES:
        raise InputError(doc.path, f"looks {lang!r}, not Kazakh or Russian; pass --from kk or --from ru")
    return lang


@dataclass(frozen=True)
class TranslateJob:
    """``translate --batch``: languages, format, where outputs go, the model and decoding."""

    out_dir: str
    fmt: str
    src: str
    tgt: str
    model: str
    engine: str = "auto"
    device: str = "auto"
    beam: int = 4
    max_length: int | None = None
    batch_tokens: int = 2048
    cache: bool = True
    cache_dir: str | None = None

    unit = "file"
    inputs = ("path",)
    columns = REPORT_COLUMNS

    def settings(self) -> dict:
        return {"from": self.src, "to": self.tgt, "format": self.fmt, "model": self.model, "engine": self.engine,
                "beam": self.beam, "max_length": self.max_length}

    def tasks(self, paths: Sequence[str]) -> list[Task]:
        settings = self.settings()
        return [Task(i, stem, (path,), ResumeKey.of([path], settings))
                for i, (path, stem) in enumerate(zip(paths, output_stems(paths, self.tgt)))]

    def open(self, warn=lambda m: None) -> "TranslateWorker":
        from .engines import load_translator

        translator = load_translator(self.model, engine=self.engine, device=self.device, beam=self.beam,
                                     max_length=self.max_length, cache_dir=self.cache_dir)
        cache = None
        if self.cache:
            from .cache import TranslationCache

            cache = TranslationCache(self.cache_dir, warn=warn)
        return TranslateWorker(self, translator, cache)

    def owned(self, record: dict) -> set[str]:
        return {f"{record['name']}.json", Path(record["output"]).name} if record.get("output") else set()

    def failed(self, task: Task, reason: str) -> dict:
        return {"name": task.name, "path": task.inputs[0], "status": "failed", "reason": reason}

    def collect(self, out: Path, rows: list[dict]) -> None:
        pass  # report.tsv and failures.tsv say it all


@dataclass
class TranslateWorker:
    job: TranslateJob
    translator: object
    cache: object = None

    def run(self, tasks: Sequence[Task]) -> list[dict]:
        return [self._translate(task) for task in tasks]

    def _translate(self, task: Task) -> dict:
        from align.text import read_document

        from .document import translate_document
        from .output import render_document

        job, out = self.job, Path(self.job.out_dir)
        (path,) = task.inputs
        target, record = out / f"{task.name}{FORMATS[job.fmt].suffix}", out / f"{task.name}.json"
        written: list[Path] = []
        try:
            doc = read_document(path)
            result = translate_document(doc, document_language(doc, job.src, lambda m: None), job.tgt,
                                        self.translator, cache=self.cache, batch_tokens=job.batch_tokens)
            write_atomic(target, render_document(result, job.fmt))
            written.append(target)
            done = {"name": task.name, "path": path, "status": "done", "output": str(target),
                    "resume_key": task.key.as_record()}
            write_atomic(record, json.dumps(done, ensure_ascii=False, indent=1))
            # Counts for the run's summary line, not the record: they depend on what the cache held.
            return done | {"engine": result.engine, "stats": dataclasses.asdict(result.stats)}
        except (ModelError, UsageError):  # the model or the options: no other file can do better
            raise
        except Exception as exc:
            remove_files([*written, record])  # no half result, nothing claims "done"
            return job.failed(task, failure_reason(exc))

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
