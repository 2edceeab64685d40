"""Corpus mining: pool the sentences of many documents on each side and mine
translation pairs across them, the way WikiMatrix/CCMatrix-style corpora are built.

The result is an Alignment over the two pools, so every output format works;
each bead also names the documents its sentences came from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .beads import Alignment, Bead, SourceFacts
from .errors import InputError, ToolkitError
from .mine import mine_corpus
from .pipeline import AlignOptions, document_language, document_sentences
from .text import read_document


@dataclass(frozen=True)
class MinedBead(Bead):
    """A mined pair with the files and in-document sentence numbers it came from."""

    src_doc: str = ""
    src_sent: int = 0
    tgt_doc: str = ""
    tgt_sent: int = 0


def document_files(path: str) -> list[Path]:
    """A folder's regular, non-hidden files (sorted, recursively), or the one file given."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.parts))
        if not files:
            raise InputError(path, "folder holds no documents")
        return files
    if p.is_file():
        return [p]
    raise InputError(path, "no such file or folder")


def _read_side(path: str, lang: str | None, options: AlignOptions, warn) -> tuple[list[str], list[list[str]], str]:
    names, docs, langs = [], [], []
    for file in document_files(path):
        try:
            doc = read_document(str(file))
            doc_lang = document_language(doc, lang, "", lambda m: None, presplit=options.presplit)
            docs.append(document_sentences(doc, doc_lang, options.presplit))
        except ToolkitError as exc:  # one bad file must not stop the corpus
            warn(f"skipped {exc}")
            continue
        names.append(str(file))
        langs.append(doc_lang)
    if not docs:
        raise InputError(path, "no readable document")
    return names, docs, max(set(langs), key=langs.count)


def _dedupe(docs: list[list[str]]) -> list[list[str]]:
    """Keep the first copy of each sentence: duplicates would compete as hubs."""
    seen: set[str] = set()
    out = []
    for sentences in docs:
        kept = []
        for s in sentences:
            if s not in seen:
                seen.add(s)
                kept.append(s)
        out.append(kept)
    return out


def mine_folders(src_path: str, tgt_path: str, encoder, options: AlignOptions = AlignOptions(), *,
                 quiet: bool = False, warn: Callable[[str], None] = lambda m: None,
                 work_dir: str | Path | None = None, executor=None) -> Alignment:
    """Mine the documents of two folders. ``work_dir``: where the run folder of this job
    (vectors and neighbour lists, named by the model, the sentences and the mining
    settings) lives until the job succeeds, so a killed run resumes (None: a temporary
    one); ``executor``: the k-NN executor (:class:`align.knn.RayShards` for ``--ray``)."""
    src_names, src_docs, src_lang = _read_side(src_path, options.src_lang, options, warn)
    tgt_names, tgt_docs, tgt_lang = _read_side(tgt_path, options.tgt_lang, options, warn)
    src_docs, tgt_docs = _dedupe(src_docs), _dedupe(tgt_docs)
    run_dir = Path(work_dir) / "mine" / run_key(encoder.name, src_docs, tgt_docs, options) if work_dir else None
    pairs = mine_corpus(src_docs, tgt_docs, encoder, options.mine, progress=not quiet, run_dir=run_dir,
                        executor=executor)
    if run_dir is not None:  # done: the neighbour lists were only for resuming
        shutil.rmtree(run_dir, ignore_errors=True)
    src_offsets = _offsets(src_docs)
    tgt_offsets = _offsets(tgt_docs)
    beads = tuple(
        MinedBead((src_offsets[p.src_doc] + p.src_sent,), (tgt_offsets[p.tgt_doc] + p.tgt_sent,), round(p.score, 4),
                  src_names[p.src_doc], p.src_sent, tgt_names[p.tgt_doc], p.tgt_sent)
        for p in pairs if p.score >= options.mine.threshold)
    return Alignment(tuple(s for d in src_docs for s in d), tuple(t for d in tgt_docs for t in d), beads,
                     SourceFacts(src_lang, documents=len(src_docs)), SourceFacts(tgt_lang, documents=len(tgt_docs)),
                     encoder.name, mode="mine-corpus")


def run_key(model: str, src_docs: list[list[str]], tgt_docs: list[list[str]], options: AlignOptions) -> str:
    """The name of a mining job's run folder: equal inputs and settings, equal name."""
    digest = hashlib.blake2b(json.dumps([model, options.mine.k, options.mine.chunk]).encode("utf-8"), digest_size=10)
    for side in (src_docs, tgt_docs):
        for doc in side:  # one document at a time: a corpus is not serialised whole
            digest.update(json.dumps(doc).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _offsets(docs: list[list[str]]) -> list[int]:
    offsets, total = [], 0
    for d in docs:
        offsets.append(total)
        total += len(d)
    return offsets
