"""Find the document pairs in two folders: which Kazakh document translates (or reports
the same story as) which Russian one.

Cheap candidates first, the toolkit's verdict on the few that can win, one partner each:

1. every sentence of every document is embedded (chunked; the embedding cache makes
   reruns cheap) and weighted: a sentence whose normalised text occurs in several
   documents of its folder (menus, footers, "© 2024 ...") gets weight 1/df, and none
   from ``boilerplate_docs`` documents on, so boilerplate does not pair pages;
2. a document vector (the weighted mean of its sentence vectors; or, ``doc_vector=order``,
   Thompson & Koehn's position-weighted, order-preserving bins) and the ``k`` nearest
   documents of the other folder both ways (faiss), never all pairs; optional URL or
   file-name evidence adds the pairs whose language-stripped keys agree;
3. every candidate is scored by BiMax (the weighted mean of the row maxima and of the
   column maxima of the sentence similarity matrix);
4. one partner each: candidates in BiMax order (plus ``url_bonus`` where URLs agree),
   each judged by the alignment verdict on the content sentences (its first stage,
   :func:`align.pipeline.judge_pair`; ``second_stage`` adds the path check) when both
   documents are still free; ``parallel`` pairs are taken first, ``comparable`` ones in a
   second pass, ``unrelated`` never; a document gets at most ``rescore`` verdicts. Or,
   ``matching=hungarian``, the verdict on each document's ``rescore`` best candidates
   and an optimal assignment (scipy) per connected component of that graph.

URL agreement is strong evidence but never the only one: a pair still needs a verdict
other than ``unrelated``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np

from .errors import InputError, ToolkitError
from .pipeline import AlignOptions, judge_pair, model_options

RANK = {"parallel": 0, "comparable": 1}


@dataclass(frozen=True)
class PairConfig:
    """How documents are paired (see the module docstring)."""

    k: int = 8  # nearest documents per document, each way
    rescore: int = 3  # most verdicts per document
    doc_vector: str = "mean"  # "mean" or "order" (position-weighted bins)
    bins: int = 4  # bins of the order-preserving document vector
    matching: str = "greedy"  # or "hungarian"
    boilerplate_docs: int = 3  # a sentence in this many documents of a folder has no weight
    min_score: float = 0.0  # least BiMax of a proposed pair
    url_bonus: float = 0.1  # added to BiMax where URL (or file-name) keys agree
    names: bool = True  # file names are evidence too, for documents without a URL
    second_stage: bool = False  # the verdict's second stage (a comparable pair's monotonic path: embeds merged
    # sentences, 50x the cost cold; same pairs on the benchmark; --out-dir's alignment asks it anyway)
    chunk: int = 2000  # documents embedded per encoder call
    exact_up_to: int = 50_000  # exact nearest-document search up to this many documents, then faiss IVF


@dataclass(frozen=True)
class DocText:
    """One document: its path (the name in outputs) and its sentences."""

    path: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class DocPair:
    src: str
    tgt: str
    score: float  # BiMax of the two documents' sentence vectors (boilerplate weighted)
    verdict: str  # parallel or comparable
    url_agrees: bool = False


class Candidate(NamedTuple):
    """A candidate pair: ``rank`` orders the matching (BiMax ``score``, plus the URL bonus)."""

    rank: float
    score: float
    src: int
    tgt: int
    url: bool


@dataclass(frozen=True)
class Unpaired:
    path: str
    side: str  # "src" or "tgt"
    reason: str


@dataclass
class PairingResult:
    pairs: list[DocPair]
    unpaired: list[Unpaired]
    candidates: int = 0  # candidate pairs scored by BiMax
    judged: int = 0  # verdicts asked
    seconds: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ reading


def read_folder(folder: str, side: str, lang: str | None, options: AlignOptions,
                warn: Callable[[str], None]) -> tuple[list[DocText], list[Unpaired]]:
    """The documents of ``folder`` (every regular non-hidden file, recursively) split into
    sentences, and the files that could not be read (empty, binary, no main text: reported,
    never fatal). An empty folder gives no documents and a warning."""
    from .corpus import document_files
    from .pipeline import document_language, document_sentences
    from .text import read_document

    p = Path(folder)
    if not p.exists():
        raise InputError(folder, "no such folder")
    if p.is_dir() and not any(p.iterdir()):
        warn(f"{folder}: folder holds no documents: every document of the other folder stays unpaired")
        return [], []
    docs, failed = [], []
    for file in document_files(folder):
        try:
            doc = read_document(str(file))
            sentences = document_sentences(doc, document_language(doc, lang, "", lambda m: None,
                                                                  presplit=options.presplit), options.presplit)
            if not sentences:
                raise InputError(str(file), "no sentences")
            docs.append(DocText(str(file), tuple(sentences)))
        except ToolkitError as exc:
            warn(f"skipped {exc}")
            failed.append(Unpaired(str(file), side, f"unreadable: {getattr(exc, 'problem', exc)}"))
    return docs, failed


_LANG = r"(?:kk|kz|kaz|qaz|kk-kz|ru|rus|ru-ru|en|eng)"
_MARKER_SEGMENT = re.compile(rf"^{_LANG}$", re.I)
_MARKER_AFFIX = re.compile(rf"(?:[_.-]{_LANG})(?=$|[_.-])|^{_LANG}[_.-]", re.I)
_LANG_PARAMS = {"lang", "language", "lng", "hl", "locale"}


def url_key(url: str) -> str:
    """A URL or a file path without its language markers: ``/kz/``, ``/kk/``, ``/ru/`` path
    segments, ``kk.`` / ``ru.`` subdomains, ``lang=`` parameters, ``_kaz``/``-rus``-style
    affixes and the file extension; lower-case. Equal keys on both sides are URL evidence."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    host = re.sub(rf"^(?:www\.)?(?:{_LANG}\.)?", "", host)
    segments = []
    for segment in parts.path.split("/"):
        if not segment or _MARKER_SEGMENT.match(segment):
            continue
        segment = re.sub(r"\.(?:s?html?|php|aspx?|txt|jsp)$", "", segment, flags=re.I)
        segments.append(_MARKER_AFFIX.sub("", segment.lower()))
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _LANG_PARAMS))
    return "/".join(filter(None, [host, *segments])) + (f"?{query}" if query else "")


def read_urls(path: str) -> dict[str, str]:
    """``path<TAB>url`` lines (``#`` lines skipped) as {resolved path: url}."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8") from None
    urls = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            raise InputError(path, f"line {number}: expected 'path<TAB>url'")
        urls[str(Path(cols[0].strip()).resolve())] = cols[1].strip()
    return urls


# ------------------------------------------------------------------ embedding


_NOT_WORD = re.compile(r"[\W\d_]+")


def sentence_key(text: str) -> str:
    """A sentence as boilerplate detection compares it: case, digits, punctuation dropped
    (so "© 2023 ..." and "© 2024 ..." are one footer)."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass
class Side:
    """One folder embedded: sentence vectors (float16, all documents end to end), their
    weights, each document's slice and its vector."""

    docs: list[DocText]
    vectors: np.ndarray
    weights: np.ndarray
    starts: np.ndarray  # document d's sentences are starts[d]:starts[d + 1]
    doc_vectors: np.ndarray

    def sentences(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.starts[d], self.starts[d + 1]
        return self.vectors[a:b].astype(np.float32), self.weights[a:b]

    def content(self, d: int) -> float:
        return float(self.weights[self.starts[d]:self.starts[d + 1]].sum())


def sentence_weights(docs: Sequence[DocText], config: PairConfig) -> list[np.ndarray]:
    """1/df per sentence (df: documents of the folder holding its normalised text), 0 from
    ``boilerplate_docs`` documents on and for sentences without letters."""
    keys = [[sentence_key(s) for s in doc.sentences] for doc in docs]
    df = Counter(k for doc_keys in keys for k in set(doc_keys))
    out = []
    for doc_keys in keys:
        w = np.array([0.0 if not k or df[k] >= config.boilerplate_docs else 1.0 / df[k] for k in doc_keys],
                     dtype=np.float32)
        out.append(w)
    return out


def document_vector(vecs: np.ndarray, weights: np.ndarray, config: PairConfig) -> np.ndarray:
    """The weighted mean of the sentence vectors, or (``order``) Thompson & Koehn's
    order-preserving embedding: ``bins`` weighted means, each sentence spread over the bins
    near its relative position (Gaussian, width 1/bins), concatenated."""
    dim = vecs.shape[1]
    if config.doc_vector == "mean":
        v = weights @ vecs
    else:
        n = len(weights)
        content = np.cumsum(weights > 0) - (weights > 0) * 0.5  # positions among content sentences
        pos = content / max(content[-1] + 0.5, 1) if n else content
        centres = (np.arange(config.bins) + 0.5) / config.bins
        spread = np.exp(-((pos[:, None] - centres[None, :]) ** 2) * (2 * config.bins ** 2)) * weights[:, None]
        v = (spread.T @ vecs).reshape(-1) if n else np.zeros(dim * config.bins, np.float32)
    norm = np.linalg.norm(v)
    return (v / norm if norm > 0 else v).astype(np.float32)


def embed_side(docs: Sequence[DocText], encoder, config: PairConfig, progress=None) -> Side:
    """Embed every sentence, ``chunk`` documents per encoder call."""
    weights = sentence_weights(docs, config)
    dim_out = None
    vec_parts, doc_vecs = [], []
    for start in range(0, len(docs), config.chunk):
        part = docs[start:start + config.chunk]
        texts = [s for doc in part for s in doc.sentences]
        vecs = np.asarray(encoder.encode(texts), dtype=np.float32)
        offset = 0
        for d, doc in enumerate(part, start):
            v = vecs[offset:offset + len(doc.sentences)]
            offset += len(doc.sentences)
            doc_vecs.append(document_vector(v, weights[d], config))
        vec_parts.append(vecs.astype(np.float16))
        dim_out = vecs.shape[1]
        if progress is not None:
            progress.update(len(part))
    lengths = np.array([len(doc.sentences) for doc in docs], dtype=np.int64)
    dim = dim_out or 1
    return Side(list(docs), np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim), np.float16),
                np.concatenate(weights) if weights else np.zeros(0, np.float32),
                np.concatenate([[0], np.cumsum(lengths)]),
                np.stack(doc_vecs) if doc_vecs else np.zeros((0, dim), np.float32))


# ------------------------------------------------------------------ candidates and scores


def nearest(query: np.ndarray, base: np.ndarray, k: int, exact_up_to: int = 50_000,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of each query row in ``base``: exact (faiss flat) up to
    ``exact_up_to`` documents, whose cost grows with the square of the folders (100,000
    per side: 6 minutes on 2 cores); beyond, an inverted-file index (4 sqrt(n) k-means
    cells, 16 probed), near-linear."""
    import faiss

    base = np.ascontiguousarray(base, dtype=np.float32)
    query = np.ascontiguousarray(query, dtype=np.float32)
    dim = base.shape[1]
    if len(base) <= exact_up_to:
        index = faiss.IndexFlatIP(dim)
    else:
        cells = int(4 * np.sqrt(len(base)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, cells, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(len(base), min(len(base), 40 * cells), replace=False)
        index.train(base[np.sort(sample)])
        index.nprobe = 16
    index.add(base)
    return index.search(query, min(k, len(base)))


def candidate_pairs(src: Side, tgt: Side, config: PairConfig,
                    url_pairs: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """(src, tgt) index pairs: the ``k`` nearest documents each way, and the URL pairs."""
    _, fwd = nearest(src.doc_vectors, tgt.doc_vectors, config.k, config.exact_up_to)
    _, bwd = nearest(tgt.doc_vectors, src.doc_vectors, config.k, config.exact_up_to)
    n, m = len(src.docs), len(tgt.docs)
    pairs = [np.stack([np.repeat(np.arange(n), fwd.shape[1]), fwd.reshape(-1)], 1),
             np.stack([bwd.reshape(-1), np.repeat(np.arange(m), bwd.shape[1])], 1)]
    if url_pairs:
        pairs.append(np.asarray(url_pairs, dtype=np.int64).reshape(-1, 2))
    pairs = np.concatenate(pairs)
    pairs = pairs[(pairs >= 0).all(1)]
    return np.unique(pairs, axis=0)


def bimax(a: np.ndarray, wa: np.ndarray, b: np.ndarray, wb: np.ndarray) -> float:
    """The weighted mean of the row maxima and that of the column maxima, averaged."""
    sim = a @ b.T
    wa_sum, wb_sum = wa.sum(), wb.sum()
    if wa_sum <= 0 or wb_sum <= 0:
        return 0.0
    return float(0.5 * (wa @ sim.max(1) / wa_sum + wb @ sim.max(0) / wb_sum))


def url_matches(src: Sequence[DocText], tgt: Sequence[DocText], urls: Mapping[str, str],
                names: bool = True) -> list[tuple[int, int]]:
    """Pairs whose language-stripped URL keys agree, or (``names``, for a document without a
    URL) file names (``news_17_kaz.html`` and ``news_17_rus.html``); a key held by more
    than one document of a folder says nothing."""
    def keys(docs):
        out: dict[str, list[int]] = {}
        for i, doc in enumerate(docs):
            url = urls.get(str(Path(doc.path).resolve())) or (Path(doc.path).name if names else None)
            if url:
                out.setdefault(url_key(url), []).append(i)
        return out

    a, b = keys(src), keys(tgt)
    return [(a[k][0], b[k][0]) for k in a.keys() & b.keys() if len(a[k]) == 1 and len(b[k]) == 1]


# ------------------------------------------------------------------ the whole step


def pair_documents(src_docs: Sequence[DocText], tgt_docs: Sequence[DocText], encoder,
                   config: PairConfig = PairConfig(), options: AlignOptions | None = None,
                   urls: Mapping[str, str] | None = None, progress=None) -> PairingResult:
    """Propose one-to-one document pairs between two folders' documents (see the module
    docstring). ``urls``: {resolved path: URL} evidence, optional."""
    import time

    options = model_options(encoder) if options is None else options
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    src = embed_side(src_docs, encoder, config, progress)
    tgt = embed_side(tgt_docs, encoder, config, progress)
    seconds["embed"] = time.perf_counter() - started
    unpaired: list[Unpaired] = []
    if not src.docs or not tgt.docs:
        unpaired += [Unpaired(d.path, "src", "no documents on the other side") for d in src.docs]
        unpaired += [Unpaired(d.path, "tgt", "no documents on the other side") for d in tgt.docs]
        return PairingResult([], unpaired, seconds=seconds)

    started = time.perf_counter()
    by_url = set(url_matches(src.docs, tgt.docs, urls or {}, config.names))
    pairs = candidate_pairs(src, tgt, config, sorted(by_url))
    seconds["candidates"] = time.perf_counter() - started
    started = time.perf_counter()
    src_content = np.array([src.content(i) for i in range(len(src.docs))])
    tgt_content = np.array([tgt.content(j) for j in range(len(tgt.docs))])
    scored: list[Candidate] = []
    for i, j in pairs:
        if src_content[i] <= 0 or tgt_content[j] <= 0:  # boilerplate only: nothing to pair on
            continue
        score = bimax(*src.sentences(i), *tgt.sentences(j))
        if score < config.min_score:
            continue
        url = (int(i), int(j)) in by_url
        scored.append(Candidate(score + (config.url_bonus if url else 0.0), score, int(i), int(j), url))
    scored.sort(key=lambda c: (-c.rank, c.src, c.tgt))
    seconds["bimax"] = time.perf_counter() - started

    started = time.perf_counter()
    judged: dict[tuple[int, int], str] = {}

    def verdict(i: int, j: int) -> str:
        if (i, j) not in judged:  # on the content: boilerplate would pair any two pages of the site
            (a, wa), (b, wb) = src.sentences(i), tgt.sentences(j)
            keep_a, keep_b = np.flatnonzero(wa > 0), np.flatnonzero(wb > 0)
            judged[i, j] = judge_pair([src.docs[i].sentences[k] for k in keep_a],
                                      [tgt.docs[j].sentences[k] for k in keep_b],
                                      a[keep_a], b[keep_b], encoder, options,
                                      config.second_stage).verdict.label
        return judged[i, j]

    match = _hungarian if config.matching == "hungarian" else _greedy
    chosen = match(scored, verdict, config.rescore)
    seconds["verdict_and_matching"] = time.perf_counter() - started
    found = [DocPair(src.docs[c.src].path, tgt.docs[c.tgt].path, round(c.score, 4), label, c.url)
             for c, label in chosen]
    found.sort(key=lambda p: (p.src, p.tgt))
    paired_src = {p.src for p in found}
    paired_tgt = {p.tgt for p in found}
    for side, docs, content, paired in (("src", src.docs, src_content, paired_src),
                                        ("tgt", tgt.docs, tgt_content, paired_tgt)):
        for doc, mass in zip(docs, content):
            if doc.path not in paired:
                unpaired.append(Unpaired(doc.path, side, "boilerplate only" if mass <= 0 else "no counterpart found"))
    return PairingResult(found, unpaired, len(scored), len(judged), seconds)


def _greedy(scored: list[Candidate], verdict: Callable[[int, int], str], rescore: int):
    """Parallel pairs first, in score order, then comparable ones; at most ``rescore``
    verdicts per document."""
    asked_src: Counter = Counter()
    asked_tgt: Counter = Counter()
    used_src, used_tgt = set(), set()
    chosen, comparable = [], []
    for cand in scored:
        i, j = cand.src, cand.tgt
        if i in used_src or j in used_tgt or asked_src[i] >= rescore or asked_tgt[j] >= rescore:
            continue
        asked_src[i] += 1
        asked_tgt[j] += 1
        label = verdict(i, j)
        if label == "parallel":
            used_src.add(i)
            used_tgt.add(j)
            chosen.append((cand, label))
        elif label == "comparable":
            comparable.append(cand)
    for cand in comparable:
        i, j = cand.src, cand.tgt
        if i not in used_src and j not in used_tgt:
            used_src.add(i)
            used_tgt.add(j)
            chosen.append((cand, "comparable"))
    return chosen


def _hungarian(scored: list[Candidate], verdict: Callable[[int, int], str], rescore: int):
    """The verdict on each document's ``rescore`` best candidates (each way), then the
    assignment maximising the summed weight (parallel outranks comparable, then score),
    solved per connected component of the judged graph."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    top_src: Counter = Counter()
    top_tgt: Counter = Counter()
    kept = []
    for cand in scored:
        i, j = cand.src, cand.tgt
        if top_src[i] < rescore or top_tgt[j] < rescore:
            top_src[i] += 1
            top_tgt[j] += 1
            label = verdict(i, j)
            if label in RANK:
                kept.append((cand, label))
    if not kept:
        return []
    src_ids = sorted({c.src for c, _ in kept})
    tgt_ids = sorted({c.tgt for c, _ in kept})
    si = {v: k for k, v in enumerate(src_ids)}
    ti = {v: k for k, v in enumerate(tgt_ids)}
    n = len(src_ids)
    rows = [si[c.src] for c, _ in kept]
    cols = [n + ti[c.tgt] for c, _ in kept]
    graph = coo_matrix((np.ones(len(kept)), (rows, cols)), shape=(n + len(tgt_ids),) * 2)
    _, component = connected_components(graph, directed=False)
    groups: dict[int, list] = {}
    for cand, label in kept:
        groups.setdefault(component[si[cand.src]], []).append((cand, label))
    chosen = []
    for members in groups.values():
        rs = sorted({c.src for c, _ in members})
        cs = sorted({c.tgt for c, _ in members})
        weight = np.zeros((len(rs), len(cs)))
        where = {}
        for cand, label in members:
            r, c = rs.index(cand.src), cs.index(cand.tgt)
            weight[r, c] = (2.0 if label == "parallel" else 1.0) + cand.rank
            where[r, c] = (cand, label)
        for r, c in zip(*linear_sum_assignment(weight, maximize=True)):
            if (r, c) in where:
                chosen.append(where[r, c])
    return chosen


def format_pairs(result: PairingResult) -> str:
    """The pair list: a ``#`` header, then ``src<TAB>tgt<TAB>score<TAB>verdict`` (what
    ``align --batch`` reads)."""
    lines = ["# kk_path\tru_path\tscore\tverdict"]
    lines += [f"{p.src}\t{p.tgt}\t{p.score:.4f}\t{p.verdict}" for p in result.pairs]
    return "\n".join(lines) + "\n"


def format_unpaired(result: PairingResult) -> str:
    lines = ["# path\tside\treason"]
    lines += [f"{u.path}\t{u.side}\t{u.reason}" for u in result.unpaired]
    return "\n".join(lines) + "\n"


__all__ = ["PairConfig", "DocText", "DocPair", "Unpaired", "PairingResult", "pair_documents", "read_folder",
           "read_urls", "url_key", "format_pairs", "format_unpaired"]


def pair_folders(src_dir: str, tgt_dir: str, encoder, options: AlignOptions, config: PairConfig = PairConfig(),
                 urls_file: str | None = None, warn: Callable[[str], None] = lambda m: None,
                 quiet: bool = True) -> PairingResult:
    """Read both folders (files that cannot be read are listed unpaired, never fatal) and
    pair their documents (``align --pair-docs``)."""
    from .cliutil import progress

    for folder in (src_dir, tgt_dir):
        if Path(folder).exists() and not Path(folder).is_dir():
            raise InputError(folder, "is not a folder (--pair-docs takes two folders)")
    urls = read_urls(urls_file) if urls_file else None
    src, src_failed = read_folder(src_dir, "src", options.src_lang or "kk", options, warn)
    tgt, tgt_failed = read_folder(tgt_dir, "tgt", options.tgt_lang or "ru", options, warn)
    with progress(total=len(src) + len(tgt), desc="embedding", unit="doc", quiet=quiet) as bar:
        result = pair_documents(src, tgt, encoder, config, options, urls, progress=bar)
    result.unpaired += src_failed + tgt_failed
    return result


def pair_docs_command(folders: Sequence[str], output: str | None, out_dir: str | None, urls_file: str | None,
                      unpaired_file: str | None, encoder, options: AlignOptions, quiet: bool,
                      warn: Callable[[str], None]) -> str | None:
    """``align --pair-docs``: pair the two folders and write the list (``-o``, stdout, or
    ``out_dir``/pairs.tsv) and the unpaired documents (``unpaired_file``, else with
    ``out_dir`` ``out_dir``/unpaired.tsv); the list's path when ``out_dir``
    asks for the batch alignment to follow, else None."""
    import sys

    from .cliutil import info
    from .formats import write_atomic

    options = model_options(encoder, options)
    result = pair_folders(folders[0], folders[1], encoder, options, urls_file=urls_file, warn=warn, quiet=quiet)
    listing = format_pairs(result)
    target = str(Path(out_dir) / "pairs.tsv") if out_dir else output
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(target), listing)
    else:
        sys.stdout.write(listing)
    if unpaired_file or out_dir:
        write_atomic(Path(unpaired_file or Path(out_dir) / "unpaired.tsv"), format_unpaired(result))
    kinds = Counter(p.verdict for p in result.pairs)
    reasons = Counter(u.reason.split(":")[0] for u in result.unpaired)
    info(f"{len(result.pairs)} pairs ({', '.join(f'{k} {n}' for k, n in kinds.items()) or 'none'}); "
         f"{len(result.unpaired)} documents unpaired ({', '.join(f'{k} {n}' for k, n in reasons.items()) or 'none'}); "
         f"{result.candidates} candidate pairs scored, {result.judged} verdicts", quiet)
    if out_dir and not result.pairs:
        info("no pairs to align", quiet)
        return None
    return target if out_dir else None
