"""HTML report, heatmap and batch index: escaping, completeness, size and speed, and
the real thing in headless Chromium (DOM, script isolation, jump/filter, load time)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import re
import select
import shutil
import struct
import subprocess
import time
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from align.beads import Alignment, Bead
from align.mine import Verdict
from align.report import _pooled_similarity, heatmap_figure, plot_heatmap, render_html, render_index
from tests.conftest import KK_SEED, ROOT, RU_SEED

NTREX = ROOT / "tests" / "fixtures" / "ntrex_report"
# Sets the title or marks the body if it ever runs; the report must show it as text.
PAYLOAD = ("<script>document.title='PWNED'</script>"
           "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> & \"quoted\" <b>bold</b>")


def alignment(src, tgt, beads, **decided) -> Alignment:
    return Alignment(tuple(src), tuple(tgt), tuple(Bead(tuple(s), tuple(t), score) for s, t, score in beads),
                     **decided)


def verdict(label: str, figure: float) -> Verdict:
    """A verdict that shows ``figure``: the mined share when unrelated, else the in-order share."""
    return Verdict(label, figure if label == "unrelated" else 0.3, 1, 4, 3, 1.0, 0.9, in_order=figure)


def small() -> Alignment:
    return alignment(
        ["Бірінші сөйлем.", PAYLOAD, "Үшінші сөйлем.", "Төртінші."],
        ["Первое предложение.", "Второе.", "Третье предложение."],
        [((0,), (0,), 0.93), ((1,), (), 0.7), ((2, 3), (1,), 0.31), ((), (2,), 0.6)],
        verdict=verdict("comparable", 0.42), mode="mine", model="test-model")


def big(n: int = 5000, seed: int = 0) -> Alignment:
    """``n`` beads of every shape over realistic-length sentences, some of them hostile."""
    rng = random.Random(seed)
    words = "қазақ тілі Ресей мемлекет <b> & </td> кездесу экономика бағдарлама президент".split()
    src, tgt, beads = [], [], []
    for k in range(n):
        ns, nt = rng.choice([(1, 1)] * 6 + [(1, 2), (2, 1), (1, 0), (0, 1)])
        s = [len(src) + i for i in range(ns)]
        t = [len(tgt) + j for j in range(nt)]
        src += [" ".join(rng.choices(words, k=14)) + f" {k}." for _ in s]
        tgt += [" ".join(rng.choices(words, k=14)) + f" {k}." for _ in t]
        beads.append((s, t, rng.random()))
    return alignment(src, tgt, beads, verdict=verdict("parallel", 0.9))


class Cells(HTMLParser):
    """Collects the text of every sentence span (class s/t, data-i) of a report."""

    def __init__(self):
        super().__init__()
        self.found: dict[str, list[tuple[int, str]]] = {"s": [], "t": []}
        self._open: tuple[str, int] | None = None
        self._text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "span" and attrs.get("class") in ("s", "t"):
            self._open, self._text = (attrs["class"], int(attrs["data-i"])), []

    def handle_endtag(self, tag):
        if tag == "span" and self._open:
            self.found[self._open[0]].append((self._open[1], "".join(self._text)))
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._text.append(data)


def parsed(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def assert_every_sentence_once(found: dict, al: Alignment) -> None:
    for side, sentences in (("s", al.src_sentences), ("t", al.tgt_sentences)):
        indices = sorted(i for i, _ in found[side])
        assert indices == list(range(len(sentences))), f"{side}: sentences missing or repeated"
        assert all(text == sentences[i] for i, text in found[side])


# --- HTML report -------------------------------------------------------------------------

def test_untrusted_text_is_escaped_and_pages_are_locked_down():
    html = render_html(small())
    assert "<script>document.title" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=" in html
    assert parsed(html).tags.count("script") == 1 and "img" not in parsed(html).tags
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # self-contained: nothing refers to another file or host
    assert not re.search(r'(?:src|href)="(?!#)', html) and "@import" not in html and "url(" not in html


def test_every_sentence_appears_once_with_its_language():
    al = small()
    html = render_html(al)
    assert_every_sentence_once(parsed(html).found, al)
    assert html.count('<td role="cell" lang="kk">') == html.count('<td role="cell" lang="ru">') == len(al.beads)


def test_flags_summary_and_verdict():
    html = render_html(small(), low_score=0.5)
    assert len(re.findall(r'class="r q\d fl low"', html)) == 1  # the 2-1 bead at 0.31
    assert len(re.findall(r'class="r q\d fl un"', html)) == 2  # the 1-0 and 0-1 beads
    assert "3 flagged" in html and "comparable" in html and "mined" in html
    assert "test-model" in html and "in-order share 0.42" in html
    assert 'class="r q9"' in html  # 0.93 is not flagged


def test_banner_is_worded_by_the_mode_used_and_shows_the_deciding_figure():
    """A comparable pair aligned in document order is a translation with edits, not a pile of
    doubtful rows; a mined one says its links are the strong pairs only."""
    def banner(decided: Verdict, mode: str) -> str:
        al = dataclasses.replace(small(), verdict=decided, mode=mode, model="m")
        return re.search(r'<p class="note">(.*?)</p>', render_html(al), re.S).group(1)

    edited = banner(verdict("comparable", 0.58), "parallel")
    assert "translation with edits" in edited and "document order" in edited and "in-order share 0.58" in edited
    assert "not translations" not in edited
    mined = banner(verdict("comparable", 0.31), "mine")
    assert "mined" in mined and "in any order" in mined and "in-order share 0.31" in mined
    forced = banner(verdict("unrelated", 0.04), "parallel")
    assert "unrelated" in forced and "mined share 0.04" in forced and "removed" in forced
    al = dataclasses.replace(small(), verdict=verdict("parallel", 0.9), mode="parallel")
    assert 'class="note"' not in render_html(al)


def test_english_column():
    al = small()
    english = {"src": ["First sentence.", "<i>second</i>", "Third.", "Fourth."]}
    html = render_html(al, english=english)
    assert html.count('<td role="cell" class="en" lang="en">') == len(al.beads)
    assert "Third. Fourth." in html and "&lt;i&gt;second&lt;/i&gt;" in html
    with pytest.raises(ValueError, match="one translation per src sentence"):
        render_html(al, english={"src": ["only one"]})


def test_5000_bead_report_renders_fast_and_small():
    al = big()
    started = time.perf_counter()
    html = render_html(al)
    seconds = time.perf_counter() - started
    assert seconds < 5, f"rendering 5,000 beads took {seconds:.1f}s"
    assert len(html.encode()) < 6_000_000
    assert_every_sentence_once(parsed(html).found, al)


# --- heatmap -----------------------------------------------------------------------------

def vectors(n: int, m: int, dim: int = 32, seed: int = 0):
    """Random unit vectors where target j resembles source round(j * n / m): a diagonal."""
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((n, dim)).astype(np.float32)
    tgt = src[np.minimum(n - 1, (np.arange(m) * n) // m)] + 0.8 * rng.standard_normal((m, dim)).astype(np.float32)
    norm = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return norm(src), norm(tgt)


def diagonal_beads(n: int, m: int) -> list[Bead]:
    beads = [Bead((i,), (i,), 0.9 if i % 7 else 0.3) for i in range(min(n, m))]
    return beads + [Bead((i,), (), 0.5) for i in range(m, n)] + [Bead((), (j,), 0.5) for j in range(n, m)]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("n, m", [(30, 28), (3000, 2990)])
def test_heatmap_png_is_bounded_for_small_and_large_documents(tmp_path, n, m):
    src, tgt = vectors(n, m)
    out = tmp_path / "heat.png"
    started = time.perf_counter()
    plot_heatmap(src, tgt, diagonal_beads(n, m), out, title="test")
    assert time.perf_counter() - started < 30
    width, height = png_size(out)
    assert width <= 1000 and height <= 1000
    assert out.stat().st_size < 400_000


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def test_mined_pairs_are_points_not_a_path_and_the_legend_hides_no_cell():
    from matplotlib.collections import LineCollection, PathCollection

    src, tgt = vectors(12, 10)
    beads = [Bead((0,), (), 0.4), Bead((3,), (7,), 0.9), Bead((8,), (1,), 0.7), Bead((), (5,), 0.3)]  # any order
    fig = heatmap_figure(src, tgt, beads, mined=True)
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]  # no staircase
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert points.get_offsets().tolist() == [[8.0, 4.0], [2.0, 9.0]]  # (ru, kk) sentence, 1-based
    assert points.get_array().tolist() == pytest.approx([0.9, 0.7])
    renderer = _drawn(fig)
    assert ax.get_legend() is None and len(fig.legends) == 1
    assert not fig.legends[0].get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))


def test_path_legend_sits_outside_the_matrix():
    src, tgt = vectors(30, 28)
    fig = heatmap_figure(src, tgt, diagonal_beads(30, 28))
    ax, renderer = fig.axes[0], _drawn(fig)
    assert ax.get_legend() is None and len(fig.legends) == 1
    assert not fig.legends[0].get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))


def test_pooling_is_blockwise_max():
    src, tgt = vectors(37, 23, seed=1)
    full = src @ tgt.T
    pooled = _pooled_similarity(src, tgt, 4)
    assert pooled.shape == (10, 6)
    assert np.isclose(pooled[2, 3], full[8:12, 12:16].max())
    assert np.isclose(pooled[9, 5], full[36:, 20:].max())  # partial edge blocks


def test_heatmap_of_a_huge_pair_never_holds_the_full_matrix(tmp_path):
    n = 12_000  # the full float32 matrix would take 576 MB
    src, tgt = vectors(n, n, dim=8)
    tracemalloc.start()
    try:
        _pooled_similarity(src, tgt, 22)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000_000


# --- batch index -------------------------------------------------------------------------

def index_rows() -> list[dict]:
    done = dict(src="a/kk.txt", tgt="a/ru.txt", src_lang="kk", tgt_lang="ru", src_sentences=10, tgt_sentences=11,
                beads=9, status="done")
    return [
        done | dict(name="pair-b", mean_score=0.91, verdict="parallel", report="pair b.html"),
        done | dict(name="<script>x()</script>", mean_score=0.42, verdict="unrelated",
                    report="javascript:alert(1)"),
        done | dict(name="pair-c", mean_score=0.7, verdict="comparable", report="sub/pair-c.html"),
        dict(name="broken", src="x", tgt="y", status="failed", reason="no such file"),
    ]


def test_index_lists_pairs_escaped_and_sortable():
    html = render_index(index_rows())
    assert 'href="pair%20b.html"' in html and 'href="sub/pair-c.html"' in html
    assert "javascript:" not in html and "<script>x()" not in html and "&lt;script&gt;x()" in html
    assert re.findall(r'<td data-v="(\d?)">', html) == ["0", "2", "1", ""]  # verdict sort ranks
    assert 'data-v="0.91"' in html and "failed: no such file" in html
    assert html.count("<button") == 9 and html.count("<tr>") == 5


# --- headless Chromium ---------------------------------------------------------------------

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if shutil.which(name)), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (CI installs it: apt-get install -y chromium)")


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3/4): no port,
    no websocket library, one browser for many pages."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--remote-debugging-pipe"]

    def __init__(self, binary: str, profile: Path):
        # The shell hands our stdin/stdout pipes to the browser as fds 3 and 4.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", binary, *self.FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer = b""
        self.events: list[dict] = []
        self.last_id = 0

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            if not select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("chromium exited")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.proc.stdin.write(json.dumps(message).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, event: str, session: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event and e.get("sessionId") == session for e in self.events):
            self.events.append(self._receive(deadline))

    def open(self, path: Path, timeout: float = 30) -> tuple[str, float]:
        """Load a file in a new 1280×900 tab; returns the session and the seconds to the load event."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session)
        self.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900, deviceScaleFactor=1,
                  mobile=False)
        started = time.perf_counter()
        self.call("Page.navigate", session, url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired", session, timeout)
        return session, time.perf_counter() - started

    def js(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def key(self, session: str, key: str) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", session, type=kind, key=key, code=f"Key{key.upper()}",
                      windowsVirtualKeyCode=ord(key.upper()))

    def screenshot(self, session: str, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session, format="png")["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir, tmp_path_factory):
    """The real pipeline with a tiny random model: these tests are about showing an
    alignment, not about its quality."""
    from align.encoders import load_encoder

    return load_encoder(str(tiny_encoder_dir), device="cpu", cache_dir=str(tmp_path_factory.mktemp("cache")))


# Everything the page shows, read back from the live DOM after its script ran.
DOM_STATE = """JSON.stringify({
  src: [...document.querySelectorAll('span.s')].map(e => [Number(e.dataset.i), e.textContent]),
  tgt: [...document.querySelectorAll('span.t')].map(e => [Number(e.dataset.i), e.textContent]),
  title: document.title, pwned: document.body.hasAttribute('data-pwned'),
  scripts: document.scripts.length, images: document.images.length,
  ready: document.documentElement.dataset.ready, kk: document.querySelectorAll('td[lang=kk]').length,
  flagged: document.querySelectorAll('tr.fl').length,
})"""


def check_in_browser(browser: Chromium, al: Alignment, html_path: Path, shot: Path) -> dict:
    session, _ = browser.open(html_path)
    state = json.loads(browser.js(session, DOM_STATE))
    browser.screenshot(session, shot)
    assert shot.stat().st_size > 10_000
    assert state["ready"] == "1", "the report's own script did not run (CSP hash?)"
    assert_every_sentence_once({"s": state["src"], "t": state["tgt"]}, al)
    assert state["kk"] == len(al.beads)
    assert not state["pwned"] and "PWNED" not in state["title"]
    assert state["scripts"] == 1 and state["images"] == 0
    return {"session": session, **state}


@needs_chromium
def test_seed_pair_report_in_chromium(browser, encoder, tmp_path):
    from align.pipeline import align_documents
    from align.text import read_document

    kk = tmp_path / "kk_injected.txt"
    kk.write_text(KK_SEED.read_text(encoding="utf-8").rstrip() + "\n\n" + PAYLOAD + "\n", encoding="utf-8")
    al = align_documents(read_document(str(kk)), read_document(str(RU_SEED)), encoder)
    assert any(PAYLOAD in s for s in al.src_sentences)
    report = tmp_path / "seed.html"
    report.write_text(render_html(al), encoding="utf-8")
    state = check_in_browser(browser, al, report, tmp_path / "seed.png")
    assert any(PAYLOAD in text for _, text in state["src"]), "the injected markup is not shown as text"

    session = state["session"]
    browser.key(session, "n")  # jump to the first flagged row
    first = browser.js(session, "document.activeElement.id")
    assert first == browser.js(session, "document.querySelector('tr.fl').id")
    browser.key(session, "f")  # filter: only flagged rows stay visible
    visible = browser.js(session, "[...document.querySelectorAll('tbody tr')].filter(r => r.offsetParent).length")
    assert visible == state["flagged"]


@needs_chromium
def test_ntrex_pair_report_with_english_in_chromium(browser, encoder, tmp_path):
    from align.pipeline import AlignOptions, align_documents
    from align.text import read_document

    options = AlignOptions(src_lang="kk", tgt_lang="ru", presplit=True)
    al = align_documents(read_document(str(NTREX / "kk.txt")), read_document(str(NTREX / "ru.txt")), encoder,
                         options)
    assert len(al.src_sentences) == len(al.tgt_sentences) == 11
    english = (NTREX / "en.txt").read_text(encoding="utf-8").splitlines()
    report = tmp_path / "ntrex.html"
    report.write_text(render_html(al, english={"src": english}), encoding="utf-8")
    state = check_in_browser(browser, al, report, tmp_path / "ntrex.png")
    shown = browser.js(state["session"], "[...document.querySelectorAll('td[lang=en]')].map(e => e.textContent)")
    assert " ".join(shown).split() == " ".join(english).split()


@needs_chromium
def test_5000_bead_report_loads_quickly_in_chromium(browser, tmp_path):
    al = big()
    report = tmp_path / "big.html"
    report.write_text(render_html(al), encoding="utf-8")
    session, seconds = browser.open(report)
    assert seconds < 5, f"5,000-bead report took {seconds:.1f}s to load"
    state = json.loads(browser.js(session, DOM_STATE))
    assert state["ready"] == "1" and len(state["src"]) == len(al.src_sentences)
    started = time.perf_counter()
    browser.key(session, "p")  # from the top, "previous" wraps round to the last flagged row
    assert browser.js(session, "document.activeElement.id") == browser.js(
        session, "[...document.querySelectorAll('tr.fl')].pop().id")
    browser.key(session, "f")
    assert time.perf_counter() - started < 3


@needs_chromium
def test_index_sorts_in_chromium(browser, tmp_path):
    page = tmp_path / "index.html"
    page.write_text(render_index(index_rows()), encoding="utf-8")
    session, _ = browser.open(page)
    names = "[...document.querySelectorAll('tbody tr')].map(r => r.cells[0].textContent)"
    browser.js(session, "document.querySelectorAll('th button')[2].click()")  # mean score, ascending
    assert browser.js(session, names) == ["<script>x()</script>", "pair-c", "pair-b", "broken"]
    browser.js(session, "document.querySelectorAll('th button')[2].click()")  # descending; missing stays last
    assert browser.js(session, names) == ["pair-b", "pair-c", "<script>x()</script>", "broken"]
    browser.js(session, "document.querySelectorAll('th button')[1].click()")  # verdict rank
    assert browser.js(session, names)[:3] == ["pair-b", "pair-c", "<script>x()</script>"]
