"""Alignments for people to look at: a self-contained HTML report, a similarity
heatmap with the chosen path, and an index page for batch runs.

Document text is untrusted: templates autoescape everything, and each page
carries a Content-Security-Policy that allows only its own inline style and
script (by hash), so even a missed escape could not run code or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import __version__
from .beads import Alignment, Bead
from .formats import write_atomic

TEMPLATES = Path(__file__).with_name("templates")
LANG_NAMES = {"kk": "Kazakh", "ru": "Russian", "en": "English", "de": "German", "fr": "French",
              "uk": "Ukrainian", "tr": "Turkish"}
VERDICT_RANK = {"parallel": 0, "comparable": 1, "unrelated": 2}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _page(template: str, script: str, **context) -> str:
    """Render ``template`` with the shared stylesheet and its script inlined, allowed by hash."""
    style = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    code = (TEMPLATES / script).read_text(encoding="utf-8")
    return _env.get_template(template).render(
        style=Markup(style), style_hash=_csp_hash(style), script=Markup(code), script_hash=_csp_hash(code),
        version=__version__, **context)


def _span(ids: tuple[int, ...]) -> str:
    if not ids:
        return "–"
    return str(ids[0] + 1) if len(ids) == 1 else f"{ids[0] + 1}–{ids[-1] + 1}"


def _matched(bead: Bead) -> bool:
    return bool(bead.src and bead.tgt)


def render_html(alignment: Alignment, *, english: dict | None = None, low_score: float = 0.5) -> str:
    """One self-contained HTML page: the documents side by side, one row per bead.

    ``english`` holds machine translations per sentence, ``{"src": [...], "tgt": [...]}``
    (either key may be missing), indexed like the alignment's sentences; they fill an
    English column. Matched beads scoring below ``low_score`` and 1-0/0-1 beads are
    flagged: a filter shows only them and ``n``/``p`` jump between them.
    """
    english = {side: texts for side, texts in (english or {}).items() if texts is not None}
    for side, texts in english.items():
        if side not in ("src", "tgt"):
            raise ValueError(f"english keys are 'src' and 'tgt', not {side!r}")
        expected = len(alignment.src_sentences if side == "src" else alignment.tgt_sentences)
        if len(texts) != expected:
            raise ValueError(f"english[{side!r}] must hold one translation per {side} sentence ({expected})")
    rows = []
    for n, bead in enumerate(alignment.beads, 1):
        flag = ("low" if bead.score < low_score else "") if _matched(bead) else "un"
        rows.append({
            "n": n, "src": bead.src, "tgt": bead.tgt, "score": bead.score, "kind": bead.kind, "flag": flag,
            "q": min(9, max(0, int(bead.score * 10))),
            "span": f"{_span(bead.src)} · {_span(bead.tgt)}",
            "english": [(alignment.src_lang if side == "src" else alignment.tgt_lang,
                         " ".join(texts[i] for i in (bead.src if side == "src" else bead.tgt)))
                        for side, texts in sorted(english.items())],
        })
    matched = [b.score for b in alignment.beads if _matched(b)]
    kinds = Counter(b.kind for b in alignment.beads)
    src_label = LANG_NAMES.get(alignment.src_lang, alignment.src_lang)
    tgt_label = LANG_NAMES.get(alignment.tgt_lang, alignment.tgt_lang)
    src_name = Path(alignment.src.path).name if alignment.src.path else src_label
    tgt_name = Path(alignment.tgt.path).name if alignment.tgt.path else tgt_label
    verdict = alignment.verdict
    return _page(
        "report.html.j2", "report.js",
        title=f"{src_name} ⇄ {tgt_name} — alignment report",
        src_name=src_name, tgt_name=tgt_name, src_label=src_label, tgt_label=tgt_label,
        src_lang=alignment.src_lang, tgt_lang=alignment.tgt_lang,
        src=alignment.src_sentences, tgt=alignment.tgt_sentences,
        n_src=len(alignment.src_sentences), n_tgt=len(alignment.tgt_sentences),
        beads=alignment.beads, rows=rows, english=english, low_score=low_score,
        verdict=verdict.label if verdict else None, verdict_figure=verdict.figure_name if verdict else None,
        verdict_value=verdict.shown_figure if verdict else None, mode=alignment.mode, model=alignment.model,
        shapes=", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "–",
        mean_score=sum(matched) / len(matched) if matched else None,
        n_low=sum(r["flag"] == "low" for r in rows), n_unmatched=sum(r["flag"] == "un" for r in rows),
        n_flagged=sum(bool(r["flag"]) for r in rows),
    )


def _href(link) -> str | None:
    """A relative link for the index page; anything with a scheme (``javascript:``…) is dropped."""
    if not link:
        return None
    link = str(link)
    if urlsplit(link).scheme or link.startswith("//"):
        return None
    return quote(link.replace("\\", "/"), safe="/")


def render_index(rows: list[dict], *, title: str = "Alignment reports") -> str:
    """The batch index: one row per pair (the batch's per-pair summaries), sortable by
    any column. ``report`` is the pair's report path relative to the index page."""
    shown = []
    for row in rows:
        score = row.get("mean_score")
        shown.append({
            **{k: row.get(k) for k in ("name", "src", "tgt", "src_lang", "tgt_lang", "src_sentences",
                                       "tgt_sentences", "beads", "verdict", "status", "reason")},
            "mean_score": None if score is None or (isinstance(score, float) and math.isnan(score)) else score,
            "verdict_rank": VERDICT_RANK.get(row.get("verdict"), ""),
            "href": _href(row.get("report")),
        })
    verdicts = Counter(r["verdict"] for r in shown if r["verdict"])
    return _page("index.html.j2", "index.js", title=title, rows=shown,
                 verdicts=sorted(verdicts.items(), key=lambda kv: VERDICT_RANK.get(kv[0], 9)),
                 n_failed=sum(r["status"] == "failed" for r in shown))


# About the plot area's width in pixels at the figure size used below.
_AXES_PIXELS = 560
_MAX_PNG_BYTES = 300_000


def _pooled_similarity(src: np.ndarray, tgt: np.ndarray, factor: int) -> np.ndarray:
    """Cosine similarity max-pooled over ``factor``×``factor`` blocks, computed a band of
    source rows at a time so a 50,000-sentence pair never holds the full matrix."""
    n, m = len(src), len(tgt)
    rows, cols = -(-n // factor), -(-m // factor)
    image = np.empty((rows, cols), dtype=np.float32)
    pad_cols = cols * factor - m
    band = max(1, 4_000_000 // max(1, m * factor))  # pooled rows per band: ~16 MB of floats
    for start in range(0, rows, band):
        stop = min(rows, start + band)
        sims = src[start * factor:stop * factor] @ tgt.T
        pad_rows = (stop - start) * factor - len(sims)
        sims = np.pad(sims, ((0, pad_rows), (0, pad_cols)), constant_values=-np.inf)
        image[start:stop] = sims.reshape(stop - start, factor, cols, factor).max(axis=(1, 3))
    return image


def _path_vertices(beads) -> np.ndarray:
    """Corners of the alignment path in 1-based sentence coordinates (sentence k is the
    pixel centred on k): each bead moves the path by its sizes, so 1-1 is a diagonal
    step and 1-0/0-1 a vertical/horizontal one."""
    points = [(0.5, 0.5)]
    for bead in beads:
        x, y = points[-1]
        points.append((x + len(bead.tgt), y + len(bead.src)))
    return np.array(points)


def heatmap_figure(src_vecs, tgt_vecs, beads, *, max_pixels: int = 1000, title: str = "",
                   src_lang: str = "kk", tgt_lang: str = "ru", mined: bool = False):
    """The sentence similarity matrix with the alignment drawn over it, as a matplotlib Figure.

    The matrix is max-pooled down to at most ``max_pixels`` per side, and never finer
    than the plot's own pixels (resampling would average a sharp match away). A
    monotonic alignment is a path at exact sentence coordinates, each step coloured by
    its bead's score; ``mined`` pairs come in any order, so they are points, not a path.
    The legend sits below the matrix, where it hides no cell.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state
    from matplotlib.ticker import MaxNLocator

    src = np.asarray(src_vecs, dtype=np.float32)
    tgt = np.asarray(tgt_vecs, dtype=np.float32)
    n, m = len(src), len(tgt)
    if not n or not m:
        raise ValueError("both documents need at least one sentence to plot")
    factor = max(1, math.ceil(max(n, m) / min(max_pixels, _AXES_PIXELS)))
    image = _pooled_similarity(src, tgt, factor)
    beads = list(beads)

    fig = Figure(figsize=(8, 7), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    low = max(0.0, float(np.percentile(image, 5)))  # e5-style models rarely go below ~0.7
    shown = ax.imshow(image, cmap="Greys", vmin=low, vmax=max(low + 1e-6, float(image.max())),
                      interpolation="nearest", aspect="auto",
                      extent=(0.5, image.shape[1] * factor + 0.5, image.shape[0] * factor + 0.5, 0.5))
    score_colours = dict(cmap="RdYlBu", norm=Normalize(0, 1))
    if mined:
        pairs = [b for b in beads if _matched(b)]
        centres = np.array([(np.mean(b.tgt) + 1, np.mean(b.src) + 1) for b in pairs]).reshape(-1, 2)
        scores = ax.scatter(centres[:, 0], centres[:, 1], c=[b.score for b in pairs], **score_colours,
                            s=float(np.clip((0.45 * _AXES_PIXELS / max(n, m)) ** 2, 4, 100)), edgecolors="black",
                            linewidths=0.4, zorder=3, label="mined pair (colour: score)")
    else:
        corners = _path_vertices(beads)
        scores = LineCollection(np.stack([corners[:-1], corners[1:]], axis=1), **score_colours,
                                linewidths=max(1.0, min(2.0, 40 / max(1, len(beads)) ** 0.5)), alpha=0.9)
        scores.set_array(np.array([b.score for b in beads]))
        ax.add_collection(scores)
        gaps = np.array([c for c, b in zip(corners[1:], beads) if not _matched(b)])
        if 0 < len(gaps) <= 300:  # markers help in small documents and only clutter big ones
            ax.scatter(gaps[:, 0], gaps[:, 1], marker="x", s=20, color="#b3261e", linewidths=1, zorder=3,
                       label="end of a 1-0 / 0-1 bead")
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", fontsize=8, frameon=False)
    ax.set_xlim(0.5, m + 0.5)
    ax.set_ylim(n + 0.5, 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"{LANG_NAMES.get(tgt_lang, tgt_lang)} sentence ({m})")
    ax.set_ylabel(f"{LANG_NAMES.get(src_lang, src_lang)} sentence ({n})")
    note = f" — one pixel: max of {factor}×{factor} sentence pairs" if factor > 1 else ""
    default_title = "Sentence similarity and mined pairs" if mined else "Sentence similarity and alignment path"
    ax.set_title((title or default_title) + note, fontsize=10)
    fig.colorbar(shown, ax=ax, shrink=0.8, pad=0.01, label="cosine similarity")
    fig.colorbar(scores, ax=ax, shrink=0.8, pad=0.01, label="bead score")
    return fig


def plot_heatmap(src_vecs, tgt_vecs, beads, path, **options) -> None:
    """Write :func:`heatmap_figure` as a PNG, atomically and bounded in size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(heatmap_figure(src_vecs, tgt_vecs, beads, **options))
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    data = io.BytesIO()
    image.save(data, format="PNG", optimize=True)
    if data.tell() > _MAX_PNG_BYTES:  # a big noisy matrix: a 256-colour palette keeps the file small
        data = io.BytesIO()
        image.quantize(256).save(data, format="PNG", optimize=True)
    write_atomic(path, data.getvalue())  # like every other output: atomic, folders created
