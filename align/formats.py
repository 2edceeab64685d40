"""Writers and readers for alignment and bitext formats, with atomic writing.

Writers take an :class:`~align.beads.Alignment`; readers give back what each
format can carry: bead indices (``vecalign``, ``jsonl``) or text pairs
(``tsv``, ``jsonl``, ``tmx``). Output files are written atomically so an
interrupted run never leaves a truncated alignment behind.

Each format is one :class:`Format` entry in :data:`FORMATS` (at the end of this
file): a new format added there is an ``align -f`` choice, listed in its help,
named in ``--batch`` outputs and, given a reader, read back by ``read_beads`` or
``read_bitext``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import secrets
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

from align import __version__
from align.beads import Alignment, Bead, LinkSummary
from align.errors import FormatError, InputError, OutputError, UsageError

BitextRow = tuple[str, str, "float | None"]  # (src_text, tgt_text, score), score None where a file has none
Languages = tuple["str | None", "str | None"]  # of a bitext file's two columns; None where it states none


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    """What a caller may ask of a writer besides the format (see :func:`render`)."""

    min_score: float | None = None
    meta: bool = False
    debug: bool = False
    header: bool = False


@dataclasses.dataclass(frozen=True)
class Format:
    """One alignment format, the single place that knows it: ``align -f`` and its help,
    the names of ``--batch`` outputs and the readers all take it from :data:`FORMATS`."""

    name: str
    suffix: str  # of a --batch output file; "" where the writer names its files (one per language)
    help: str  # what `-f NAME` writes, as `align --help` lists it
    writer: Callable[[Alignment, WriteOptions], "str | dict[str, str]"]
    read_beads: Callable[[Path, str], list[Bead]] | None = None  # (path, text) -> bead indices
    read_bitext: Callable[[Path, str], list[BitextRow]] | None = None  # (path, text) -> text pairs
    read_languages: Callable[[Path, str], Languages] | None = None  # (path, text) -> languages it states
    read_suffixes: tuple[str, ...] = ()  # file names that mean this format when reading
    looks_like: Callable[[str], bool] | None = None  # recognise a file's text when its name does not
    has_meta: bool = False  # can carry the {"meta": ...} line
    has_header: bool = False  # can start with a language header line
    one_file_per_language: bool = False  # the writer gives {lang: text}; -o is a prefix


_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters that break line- or column-based formats (str.splitlines() splits on all of these).
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TSV_HEADER = re.compile(r"^# [^\t]+\t[^\t]+\tscore$")
_VECALIGN_LINE = re.compile(
    r"^\s*\[([\d,\s]*)\]\s*:\s*\[([\d,\s]*)\]\s*(?::\s*(\S+))?\s*$"
)


def one_line(text: str) -> str:
    """Keep one segment on one line/column whatever the sentence contained."""
    return _BREAKS.sub(" ", text)


def _kept(alignment: Alignment, min_score: float | None) -> list[Bead]:
    """``--min-score`` drops every bead scored below it, 1-0/0-1 beads included."""
    if min_score is None:
        return list(alignment.beads)
    return [b for b in alignment.beads if b.score >= min_score]


def _ids(ids: tuple[int, ...]) -> str:
    # Same spelling as Vecalign's own output and the gold files: "[4, 5]".
    return "[" + ", ".join(str(i) for i in ids) + "]"


def _render_vecalign(alignment: Alignment, beads: list[Bead]) -> str:
    return "".join(f"{_ids(b.src)}:{_ids(b.tgt)}:{b.score:.4f}\n" for b in beads)


def _tsv_header(alignment: Alignment) -> str:
    return f"# {one_line(alignment.src_lang)}\t{one_line(alignment.tgt_lang)}\tscore\n"


def _render_tsv(alignment: Alignment, beads: list[Bead], header: bool = False) -> str:
    return (_tsv_header(alignment) if header else "") + "".join(
        f"{one_line(alignment.src_text(b))}\t{one_line(alignment.tgt_text(b))}\t{b.score:.4f}\n"
        for b in beads
    )


# The meta line (see _meta) holds what a user needs about the pair and the run; the search's
# statistics (confidence features, levels, band cells, timings...) are diagnostics, written
# under "debug" only when asked (align --debug).


def _score_4(score: float) -> float:
    """Scores carry 4 decimals in every format; more is noise, not information."""
    return round(float(score), 4)


def _json_value(value):
    """numpy arrays and scalars as JSON lists and numbers, never their repr."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _meta(alignment: Alignment, beads: list[Bead], debug: bool) -> dict:
    """The meta line's fields, in a fixed order; what is unknown (``None``) is left out. The
    count of unlinked beads appears where a monotonic path was checked and unlinked some,
    and always for an unrelated pair aligned in order (0 says the check ran)."""
    src, tgt, verdict = alignment.src, alignment.tgt, alignment.verdict
    meta = {"src_path": src.path, "tgt_path": tgt.path, "src_encoding": src.encoding, "tgt_encoding": tgt.encoding,
            "src_lang": src.lang, "tgt_lang": tgt.lang, "model": alignment.model}
    if verdict:
        meta.update(verdict=verdict.label, verdict_figure=verdict.figure_name, verdict_value=verdict.shown_figure,
                    parallelness=round(verdict.parallelness, 4), n_mutual=verdict.n_mutual,
                    order=round(verdict.order, 4), in_order=round(verdict.in_order, 4), supported=verdict.supported,
                    off_chain=verdict.off_chain, mean_mined_score=round(verdict.mean_score, 4),
                    linked_share=None if verdict.linked is None else round(verdict.linked, 4),
                    parallel_probability=None if verdict.probability is None else round(verdict.probability, 4),
                    threshold=verdict.threshold)
    meta["mode"] = alignment.mode
    if alignment.mode == "parallel" and (alignment.unlinked or (verdict and verdict.label == "unrelated")):
        meta["unlinked_beads"] = alignment.unlinked
    meta.update(src_foreign=src.foreign, tgt_foreign=tgt.foreign, src_documents=src.documents,
                tgt_documents=tgt.documents)
    meta = {key: value for key, value in meta.items() if value is not None}
    links = LinkSummary.of(beads)
    meta.update(src_sentences=len(alignment.src_sentences), tgt_sentences=len(alignment.tgt_sentences),
                beads=len(beads), links=links.links, src_linked=links.src_linked, tgt_linked=links.tgt_linked)
    if links.score_quartiles:
        meta["link_score_quartiles"] = list(links.score_quartiles)
    meta["kkru_version"] = __version__
    if debug:
        meta["debug"] = _diagnostics(alignment)
    return meta


def _diagnostics(alignment: Alignment) -> dict:
    """``align --debug``: the verdict's neighbour count and the search's statistics."""
    found = {"k": alignment.verdict.k} if alignment.verdict else {}
    if alignment.stats:
        found.update((f.name, getattr(alignment.stats, f.name)) for f in dataclasses.fields(alignment.stats))
    return {key: value for key, value in found.items() if value is not None}


def _render_jsonl(alignment: Alignment, beads: list[Bead], meta: bool, debug: bool = False) -> str:
    lines = []
    if meta:
        lines.append(json.dumps({"meta": _meta(alignment, beads, debug)}, ensure_ascii=False, default=_json_value))
    for b in beads:
        record = {
            "src": list(b.src),
            "tgt": list(b.tgt),
            "score": _score_4(b.score),
            "src_text": alignment.src_text(b),
            "tgt_text": alignment.tgt_text(b),
            "kind": b.kind,
        }
        # Bead subclasses may carry more per-bead fields (e.g. a margin); keep them.
        for f in dataclasses.fields(b):
            record.setdefault(f.name, getattr(b, f.name))
        lines.append(json.dumps(record, ensure_ascii=False, default=_json_value))
    return "".join(line + "\n" for line in lines)


def _render_moses(alignment: Alignment, beads: list[Bead]) -> dict[str, str]:
    if alignment.src_lang == alignment.tgt_lang:
        raise FormatError(
            f"moses files are named PREFIX.<lang>; both sides are {alignment.src_lang!r}"
        )
    pairs = [b for b in beads if b.src and b.tgt]  # training data: no 1-0/0-1
    return {
        alignment.src_lang: "".join(one_line(alignment.src_text(b)) + "\n" for b in pairs),
        alignment.tgt_lang: "".join(one_line(alignment.tgt_text(b)) + "\n" for b in pairs),
    }


def _xml_text(text: str) -> str:
    """ElementTree escapes <, & and quotes; characters XML forbids must go entirely."""
    return _NOT_XML.sub("", one_line(text))


@dataclasses.dataclass(frozen=True)
class TmxVariant:
    """One <tuv>: a language, its text and the variant's own <prop>s."""

    lang: str
    text: str
    props: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class TmxUnit:
    """One <tu>: its variants and the unit's <prop>s (type, value)."""

    variants: tuple[TmxVariant, ...]
    props: tuple[tuple[str, str], ...] = ()


def _add_props(parent: ET.Element, props: tuple[tuple[str, str], ...]) -> None:
    for kind, value in props:
        ET.SubElement(parent, "prop", type=kind).text = _xml_text(value)


def render_tmx(units: Iterable[TmxUnit], srclang: str, tool: str = "kkru") -> str:
    """A TMX 1.4 document; the one TMX writer of the toolkit (``align`` and ``translate``).

    Empty variants are left out (a 1-0 bead has nothing to say in the other language),
    and so is a unit left with fewer than two: a translation unit needs a translation.
    """
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {
        "creationtool": tool, "creationtoolversion": __version__, "datatype": "plaintext",
        "segtype": "sentence", "adminlang": "en", "srclang": _xml_text(srclang), "o-tmf": "kkru",
    })
    body = ET.SubElement(root, "body")
    for unit in units:
        variants = [v for v in unit.variants if _xml_text(v.text).strip()]
        if len(variants) < 2:
            continue
        tu = ET.SubElement(body, "tu")
        _add_props(tu, unit.props)  # TMX order: a unit's props, then its variants
        for variant in variants:
            tuv = ET.SubElement(tu, "tuv", {_XML_LANG: _xml_text(variant.lang)})
            _add_props(tuv, variant.props)
            ET.SubElement(tuv, "seg").text = _xml_text(variant.text)
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n'
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


def _render_tmx(alignment: Alignment, beads: list[Bead]) -> str:
    units = (TmxUnit((TmxVariant(alignment.src_lang, alignment.src_text(b)),
                      TmxVariant(alignment.tgt_lang, alignment.tgt_text(b))),
                     (("x-score", f"{b.score:.4f}"),))
             for b in beads)
    return render_tmx(units, alignment.src_lang)


def render(
    alignment: Alignment, fmt: str, *, min_score: float | None = None, meta: bool = False,
    debug: bool = False, header: bool = False,
) -> str | dict[str, str]:
    """Format ``alignment`` as text; ``moses`` gives ``{lang suffix: text}`` (two files).

    ``meta`` adds a first ``{"meta": {...}}`` line with the pair's facts and verdict
    (``debug`` adds the search's statistics); only ``jsonl`` has a place for
    it, so asking for it elsewhere is a usage error.
    ``header`` starts ``tsv`` with ``# <src lang>\t<tgt lang>\tscore``, which the
    TSV reader skips; other formats name their languages themselves.
    """
    spec = format_named(fmt)
    if meta and not spec.has_meta:
        raise UsageError(f"document metadata can only be written in {format_names(lambda f: f.has_meta)}, "
                         f"not {fmt}")
    if header and not spec.has_header:
        raise UsageError(f"a language header can only be written in {format_names(lambda f: f.has_header)}, "
                         f"not {fmt}")
    return spec.writer(alignment, WriteOptions(min_score, meta, debug, header))


def check_writable(path: str | Path, *, folder: bool = False) -> None:
    """Fail before any work when ``path`` (a file, or with ``folder`` a folder) could
    not be written later: the nearest existing folder on its way must let us add
    entries (missing folders below it are created when writing)."""
    target = Path(path)
    if target.exists() and target.is_dir() != folder:
        raise OutputError(path, "is a folder, not a file" if target.is_dir() else "is a file, not a folder")
    existing = target if folder else target.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(path, f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(path, f"no permission to write in {existing}")


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, newlines untouched) so ``path`` is either old or complete.

    Missing parent folders are created. The temporary file lives in the target
    directory so ``os.replace`` is a same-filesystem rename; it is created through
    ``os.open`` so the final file gets the usual umask-derived mode rather than
    mkstemp's 0600. Failures raise :class:`OutputError` naming ``path``, not the
    temporary file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(path, exc.strerror or str(exc)) from None
        raise
    try:  # make the rename itself durable; not every platform/filesystem allows it
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_alignment(
    alignment: Alignment,
    fmt: str,
    path: str | Path | None,
    *,
    min_score: float | None = None,
    meta: bool = False,
    debug: bool = False,
    header: bool = False,
) -> list[Path]:
    """Render and write; ``path`` None means stdout. Returns the files written.

    For ``moses`` ``path`` is a prefix and two files ``PREFIX.<lang>`` are written
    (each atomically; when the second fails, the first is removed again).
    """
    rendered = render(alignment, fmt, min_score=min_score, meta=meta, debug=debug, header=header)
    if isinstance(rendered, dict):
        if path is None:
            raise FormatError("moses writes two files: give an output path prefix, not stdout")
        written: list[Path] = []
        try:
            for suffix, text in rendered.items():
                target = Path(f"{path}.{suffix}")
                write_atomic(target, text)
                written.append(target)
        except BaseException:
            remove_files(written)
            raise
        return written
    if path is None:
        sys.stdout.write(rendered)
        sys.stdout.flush()
        return []
    write_atomic(path, rendered)
    return [Path(path)]


def remove_files(paths) -> None:
    """Take back the outputs of a run that failed, so no half result is left."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


# ---------------------------------------------------------------- readers


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None


def _lines(text: str):
    """Number lines on '\\n' only: U+2028 and friends may legitimately sit inside a sentence."""
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield n, line


def _first_content(text: str) -> str:
    return text.lstrip()[:1]


def _index_list(value, where: str, side: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value
    ):
        raise FormatError(f"{where}: {side!r} must be a list of sentence indices (integers >= 0)")
    return tuple(value)


def _score(value, where: str) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: score {value!r} is not a number") from None
    if not math.isfinite(score):  # json.loads reads NaN and Infinity
        raise FormatError(f"{where}: score {value!r} is not a finite number")
    return score


def _bead(src: tuple[int, ...], tgt: tuple[int, ...], score: float, where: str) -> Bead:
    if not src and not tgt:
        raise FormatError(f"{where}: bead is empty on both sides")
    return Bead(src, tgt, score)


def _parse_vecalign(path: Path, text: str) -> list[Bead]:
    beads = []
    for n, line in _lines(text):
        where = f"{path}:{n}"
        m = _VECALIGN_LINE.match(line)
        if not m:
            raise FormatError(f"{where}: expected '[src ids]:[tgt ids]:score', got {line.strip()!r}")
        try:
            src, tgt = (tuple(int(i) for i in g.split(",") if i.strip()) for g in m.group(1, 2))
        except ValueError:
            raise FormatError(f"{where}: bad index list in {line.strip()!r}") from None
        # Gold files carry no score; 0.0 keeps Bead's float type without inventing confidence.
        score = _score(m.group(3), where) if m.group(3) is not None else 0.0
        beads.append(_bead(src, tgt, score, where))
    return beads


def _jsonl_records(path: Path, text: str):
    """Yield (where, record) for bead lines; ``meta`` lines are document info, not beads."""
    for n, line in _lines(text):
        where = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise FormatError(f"{where}: expected a JSON object per line")
        if "meta" in record and "src" not in record:
            continue
        yield where, record


def _parse_jsonl_beads(path: Path, text: str) -> list[Bead]:
    beads = []
    for where, record in _jsonl_records(path, text):
        if "src" not in record or "tgt" not in record:
            raise FormatError(f"{where}: a bead line needs 'src' and 'tgt'")
        src = _index_list(record["src"], where, "src")
        tgt = _index_list(record["tgt"], where, "tgt")
        score = _score(record["score"], where) if record.get("score") is not None else 0.0
        beads.append(_bead(src, tgt, score, where))
    return beads


def _guess(path: Path, text: str, allowed: tuple[str, ...]) -> str:
    by_name = [f.name for f in FORMATS.values() if path.suffix.lower() in f.read_suffixes]
    by_content = [f.name for f in FORMATS.values() if f.looks_like and f.looks_like(text)]
    fmt = by_name[0] if by_name else (by_content[0] if by_content else None)
    if fmt not in allowed:
        # No command has a format option for its inputs: the file's name is how to say it.
        suffixes = ", ".join(s for name in allowed for s in FORMATS[name].read_suffixes)
        raise FormatError(
            f"{path}: cannot tell its format from its content (readable here: {', '.join(allowed)}); "
            f"if it is one of them, give it the matching suffix ({suffixes})"
        )
    return fmt


def _check_fmt(fmt: str, allowed: tuple[str, ...], what: str) -> None:
    if fmt not in allowed:
        raise UsageError(f"{what} can be read from {', '.join(allowed)}, not {fmt!r}")


def _read(path: str | Path, fmt: str | None, what: str, reader: str):
    """Read ``path`` with the ``reader`` attribute of its format (given, or guessed from the file)."""
    allowed = tuple(name for name, f in FORMATS.items() if getattr(f, reader) is not None)
    path = Path(path)
    if fmt is not None:
        _check_fmt(fmt, allowed, what)
    text = _read_text(path)
    fmt = fmt or _guess(path, text, allowed)
    return getattr(FORMATS[fmt], reader)(path, text)


def read_beads(path: str | Path, fmt: str | None = None) -> list[Bead]:
    """Bead indices from a ``vecalign`` or ``jsonl`` file (format guessed when None).

    Gold files without scores read with score 0.0. Non-consecutive indices are
    accepted because real gold files (Text+Berg) contain them.
    """
    return _read(path, fmt, "beads", "read_beads")


def _parse_tsv(path: Path, text: str) -> list[tuple[str, str, float | None]]:
    pairs = []
    for n, line in _lines(text):
        if not pairs and _TSV_HEADER.match(line):  # written by `align --header`
            continue
        cols = line.split("\t")
        if len(cols) not in (2, 3):
            raise FormatError(f"{path}:{n}: expected 'src<TAB>tgt[<TAB>score]', got {len(cols)} columns")
        score = None
        if len(cols) == 3 and cols[2].strip():
            score = _score(cols[2].strip(), f"{path}:{n}")
        pairs.append((cols[0], cols[1], score))
    return pairs


def _parse_jsonl_bitext(path: Path, text: str) -> list[tuple[str, str, float | None]]:
    pairs = []
    for where, record in _jsonl_records(path, text):
        src, tgt = record.get("src_text"), record.get("tgt_text")
        if not isinstance(src, str) or not isinstance(tgt, str):
            raise FormatError(f"{where}: a bitext line needs string 'src_text' and 'tgt_text'")
        score = record.get("score")
        pairs.append((src, tgt, None if score is None else _score(score, where)))
    return pairs


def _tmx_root(path: Path, text: str) -> ET.Element:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise FormatError(f"{path}:{line}: not well-formed XML (column {col + 1})") from None
    if root.tag != "tmx":
        raise FormatError(f"{path}: root element is <{root.tag}>, not <tmx>")
    return root


def _tuv_lang(tuv: ET.Element) -> str:
    return tuv.get(_XML_LANG) or tuv.get("lang") or ""  # "lang" is TMX 1.1


def _tmx_columns(root: ET.Element, langs: list[str]) -> tuple[int, int]:
    """Which <tuv> of a unit is the source column (the header's srclang, else the first)
    and which the target (the first other one)."""
    header = root.find("header")
    srclang = ((header.get("srclang") if header is not None else None) or "*all*").lower()
    src_i = next((i for i, lang in enumerate(langs) if lang.lower() == srclang), 0)
    return src_i, next(i for i in range(len(langs)) if i != src_i)


def _parse_tmx(path: Path, text: str) -> list[tuple[str, str, float | None]]:
    root = _tmx_root(path, text)
    pairs = []
    for k, tu in enumerate(root.iter("tu"), start=1):
        tuvs = tu.findall("tuv")
        if len(tuvs) < 2:
            raise FormatError(f"{path}: translation unit #{k} has {len(tuvs)} <tuv>, need 2")
        segs = [tuv.find("seg") for tuv in tuvs]
        src_i, tgt_i = _tmx_columns(root, [_tuv_lang(tuv) for tuv in tuvs])
        score = None
        for prop in tu.findall("prop"):
            if prop.get("type") == "x-score" and (prop.text or "").strip():
                score = _score(prop.text.strip(), f"{path}: translation unit #{k}")
        pairs.append(tuple("" if seg is None else "".join(seg.itertext()) for seg in (segs[src_i], segs[tgt_i]))
                     + (score,))
    return pairs


def _tmx_languages(path: Path, text: str) -> Languages:
    root = _tmx_root(path, text)
    tu = root.find(".//tu")
    langs = [_tuv_lang(tuv) for tuv in (tu.findall("tuv") if tu is not None else ())]
    if len(langs) < 2:
        return None, None
    src_i, tgt_i = _tmx_columns(root, langs)
    return langs[src_i] or None, langs[tgt_i] or None


def _jsonl_languages(path: Path, text: str) -> Languages:
    """From the meta line ``align -f jsonl`` starts with."""
    first = next((line for _, line in _lines(text)), "")
    try:
        meta = json.loads(first).get("meta")
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(meta, dict):
        return None, None
    return tuple(code if isinstance(code, str) and code else None
                 for code in (meta.get("src_lang"), meta.get("tgt_lang")))


def read_languages(path: str | Path, fmt: str | None = None) -> Languages:
    """The languages a bitext file states for the columns :func:`read_bitext` gives (the
    jsonl meta line, TMX language tags), as written there; ``(None, None)`` where it
    states none."""
    allowed = tuple(name for name, f in FORMATS.items() if f.read_bitext is not None)
    path = Path(path)
    if fmt is not None:
        _check_fmt(fmt, allowed, "bitext")
    text = _read_text(path)
    reader = FORMATS[fmt or _guess(path, text, allowed)].read_languages
    return reader(path, text) if reader else (None, None)


def read_bitext(path: str | Path, fmt: str | None = None) -> list[BitextRow]:
    """``(src_text, tgt_text, score)`` triples from ``tsv``, ``jsonl`` or ``tmx``.

    Score is None where the file has none. In TMX the source side is the
    ``<tuv>`` whose language matches the header's ``srclang``.
    """
    return _read(path, fmt, "bitext", "read_bitext")


# ---------------------------------------------------------------- the registry


def _opens_with(char: str) -> Callable[[str], bool]:
    return lambda text: _first_content(text) == char


def _first_line_has_tab(text: str) -> bool:
    return "\t" in next((line for _, line in _lines(text)), "")


def _write_html(alignment: Alignment, options: WriteOptions) -> str:
    """A report shows every bead; --min-score sets what it flags as low."""
    from align.report import render_html

    return render_html(alignment, low_score=0.5 if options.min_score is None else options.min_score)


# Registry order is the order of `align -f` choices, of --help and of guessing a file's format.
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("vecalign", ".align", "([0]:[0,1]:score)", lambda al, o: _render_vecalign(al, _kept(al, o.min_score)),
           read_beads=_parse_vecalign, read_suffixes=(".vecalign", ".align"), looks_like=_opens_with("[")),
    Format("tsv", ".tsv", "(kk text, ru text, score)",
           lambda al, o: _render_tsv(al, _kept(al, o.min_score), o.header),
           read_bitext=_parse_tsv, read_suffixes=(".tsv",), looks_like=_first_line_has_tab, has_header=True),
    Format("jsonl", ".jsonl", "(a first {\"meta\": ...} line with the verdict, then one bead per line: indices, "
           "texts, score)", lambda al, o: _render_jsonl(al, _kept(al, o.min_score), o.meta, o.debug),
           read_beads=_parse_jsonl_beads, read_bitext=_parse_jsonl_bitext, read_languages=_jsonl_languages,
           read_suffixes=(".jsonl", ".json"),
           looks_like=_opens_with("{"), has_meta=True),
    Format("moses", "", "(two line-parallel files: -o PREFIX)",
           lambda al, o: _render_moses(al, _kept(al, o.min_score)), one_file_per_language=True),
    Format("tmx", ".tmx", "(TMX 1.4, one <tu> per bead)", lambda al, o: _render_tmx(al, _kept(al, o.min_score)),
           read_bitext=_parse_tmx, read_languages=_tmx_languages, read_suffixes=(".tmx", ".xml"),
           looks_like=_opens_with("<")),
    Format("html", ".html", "(side-by-side report)", _write_html),
)}


def format_named(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}") from None


def format_names(has: Callable[[Format], bool]) -> str:
    """The names of the formats that ``has`` something, for messages: "jsonl"."""
    return ", ".join(name for name, f in FORMATS.items() if has(f))


def format_help() -> str:
    """``align -f``'s help, listing every registered format."""
    return "Output format: " + ", ".join(f"{f.name} {f.help}" for f in FORMATS.values()) + "."
