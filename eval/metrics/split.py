"""Sentence-boundary precision/recall/F1 of a splitter against UD CoNLL-U gold.

Raw text is rebuilt from the ``# text =`` comments: sentences of a paragraph
are joined by one space, a ``# newpar`` starts a new line (``"\\n"``) and a
``# newdoc`` starts a new :class:`GoldDocument`. A file without those markers
is one document holding one paragraph.

Boundary definition: a boundary is the number of non-whitespace characters
before a sentence end. Predicted and gold boundary sets are compared per
document, so whitespace differences never matter and the paragraph-end and
document-end boundaries count like any other (every splitter gets the last
one right). True positives, predictions and gold boundaries are pooled over all
documents before precision, recall and F1 are computed.

Speed is the UTF-8 size of the raw text (MB = 10^6 bytes) divided by the
seconds spent inside the splitter only (reading and scoring are not timed).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import align
from align.errors import InputError
from align.split import split_sentences

_NEWDOC = re.compile(r"#\s*newdoc(?:_id)?\b")
_NEWPAR = re.compile(r"#\s*newpar(?:_id)?\b")
_TEXT = re.compile(r"#\s*text\s*=(.*)$")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class GoldDocument:
    """Raw text of one gold document and the character offsets of its sentence ends."""

    text: str
    ends: tuple[int, ...]


@dataclass(frozen=True)
class SplitScore:
    """Pooled boundary scores, sizes and speed; ``signature`` says what was measured how."""

    precision: float
    recall: float
    f1: float
    n_gold: int
    n_pred: int
    chars: int
    seconds: float
    mb_per_s: float
    signature: str

    def __str__(self) -> str:
        return (
            f"P={self.precision:.4f} R={self.recall:.4f} F1={self.f1:.4f} "
            f"gold={self.n_gold} pred={self.n_pred} {self.mb_per_s:.2f} MB/s  {self.signature}"
        )


def read_conllu_documents(path) -> list[GoldDocument]:
    """Rebuild the raw documents of a CoNLL-U file (see the module docstring)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read CoNLL-U file ({exc})") from exc

    documents: list[GoldDocument] = []
    paragraphs: list[list[str]] = []

    def close_document() -> None:
        if any(paragraphs):
            documents.append(_document(paragraphs))
        paragraphs.clear()

    for line in lines:
        if not line.startswith("#"):
            continue
        if _NEWDOC.match(line):
            close_document()
        elif _NEWPAR.match(line):
            paragraphs.append([])
        else:
            match = _TEXT.match(line)
            if match and match.group(1).strip():
                if not paragraphs:
                    paragraphs.append([])
                paragraphs[-1].append(match.group(1).strip())
    close_document()
    if not documents:
        raise InputError(path, "no '# text =' sentences found")
    return documents


def _document(paragraphs: list[list[str]]) -> GoldDocument:
    parts: list[str] = []
    ends: list[int] = []
    offset = 0
    for paragraph in (p for p in paragraphs if p):
        if parts:
            parts.append("\n")
            offset += 1
        for i, sentence in enumerate(paragraph):
            if i:
                parts.append(" ")
                offset += 1
            parts.append(sentence)
            offset += len(sentence)
            ends.append(offset)
    return GoldDocument("".join(parts), tuple(ends))


def boundaries(text: str, ends: Iterable[int]) -> set[int]:
    """Map character end offsets to counts of non-whitespace characters before them."""
    ends = sorted(ends)
    result: set[int] = set()
    count = 0
    previous = 0
    for end in ends:
        count += len(text[previous:end]) - len(_SPACE.findall(text, previous, end))
        previous = end
        result.add(count)
    return result


def score_split(gold_path, lang: str, splitter: Callable = split_sentences) -> SplitScore:
    """Score ``splitter(text, lang)`` (returning objects with ``.end``) on a CoNLL-U gold file."""
    documents = read_conllu_documents(gold_path)
    tp = n_gold = n_pred = chars = size = 0
    seconds = 0.0
    for doc in documents:
        started = time.perf_counter()
        predicted = splitter(doc.text, lang)
        seconds += time.perf_counter() - started
        gold = boundaries(doc.text, doc.ends)
        pred = boundaries(doc.text, (s.end for s in predicted))
        tp += len(gold & pred)
        n_gold += len(gold)
        n_pred += len(pred)
        chars += len(doc.text)
        size += len(doc.text.encode("utf-8"))
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    name = getattr(splitter, "__name__", type(splitter).__name__)
    signature = (
        f"data:{Path(gold_path).name}|lang:{lang}|splitter:{name}"
        f"|boundary:nonspace-chars|version:{align.__version__}"
    )
    mb_per_s = size / 1e6 / seconds if seconds else float("inf")
    return SplitScore(precision, recall, f1, n_gold, n_pred, chars, seconds, mb_per_s, signature)
