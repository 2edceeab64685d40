"""The corpus-level output (``--bitext-out DIR``): every bead of every pair in sharded
Parquet files that training pipelines read directly (pyarrow, pandas, datasets).

A folder with a million small per-pair files is not a corpus format. The run writes,
per finished pair, one small fragment (``<name>.beads.parquet``, atomically, beside
the pair's other outputs: :func:`write_fragment`); the collect step then streams the
fragments, in task order, into ``part-00000.parquet``, ``part-00001.parquet``, ...
(:func:`write_shards`), so a Ray run and a local run over the same tasks give the
same rows in the same order. :func:`read_bitext` reads a shard folder or one file.

:data:`SCHEMA` is the one place that defines the columns (the README's table says
what each one means).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__
from .beads import Alignment, Bead
from .errors import InputError, OutputError
from .formats import write_atomic

SCHEMA_VERSION = 1
SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("src_path", pa.string()),
    pa.field("tgt_path", pa.string()),
    pa.field("bead", pa.int32(), nullable=False),
    pa.field("src", pa.list_(pa.int32()), nullable=False),
    pa.field("tgt", pa.list_(pa.int32()), nullable=False),
    pa.field("src_text", pa.string(), nullable=False),
    pa.field("tgt_text", pa.string(), nullable=False),
    pa.field("score", pa.float32(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("verdict", pa.string()),
    pa.field("mode", pa.string()),
    pa.field("model", pa.string()),
    pa.field("src_lang", pa.string(), nullable=False),
    pa.field("tgt_lang", pa.string(), nullable=False),
    pa.field("src_foreign", pa.bool_()),
    pa.field("tgt_foreign", pa.bool_()),
    pa.field("src_chars", pa.int32(), nullable=False),
    pa.field("tgt_chars", pa.int32(), nullable=False),
    pa.field("length_ratio", pa.float32()),
], metadata={"kkru_bitext_version": str(SCHEMA_VERSION)})

FRAGMENT_SUFFIX = ".beads.parquet"
MANIFEST = "_manifest.json"  # "_": pyarrow, pandas and datasets skip it when reading the folder
ROW_GROUP = 10_000  # rows per Parquet row group inside a shard
_SHARD = re.compile(r"^part-(\d{5,})\.parquet$")


def pair_id(src: str, tgt: str) -> str:
    """The id of a document pair: ``<kk file stem>-<8 hex of sha1(src TAB tgt)>``, the
    stem ``align --batch`` names a pair's outputs with, so a mined bead's document pair
    has the id the pair would have as a ``--batch`` line."""
    digest = hashlib.sha1(f"{src}\t{tgt}".encode()).hexdigest()[:8]
    return f"{Path(src).stem}-{digest}"


def fragment_path(out_dir: str | Path, name: str) -> Path:
    """Where a batch pair named ``name`` leaves its beads for the collect step."""
    return Path(out_dir) / f"{name}{FRAGMENT_SUFFIX}"


def _in_document(bead: Bead, side: str) -> tuple[tuple[int, ...], str | None]:
    """A bead side's sentence indices within its own document, and that document's path:
    a mined bead (:class:`align.corpus.MinedBead`) indexes the pooled corpus and names its
    documents; any other bead already indexes the pair's document."""
    ids = getattr(bead, side)
    doc = getattr(bead, f"{side}_doc", None)
    if doc is None or not ids:
        return ids, doc or None
    offset = ids[0] - getattr(bead, f"{side}_sent")
    return tuple(i - offset for i in ids), doc


def _foreign(ids: tuple[int, ...], foreign: tuple[int, ...] | None) -> bool | None:
    return None if foreign is None else any(i in foreign for i in ids)


def bead_table(alignment: Alignment, doc_id: str | None = None, src_path: str | None = None,
               tgt_path: str | None = None) -> pa.Table:
    """Every bead of ``alignment`` as rows of :data:`SCHEMA`, in bead order.

    ``doc_id`` names the pair (a batch task's output stem); ``src_path``/``tgt_path``
    default to the paths the alignment was read from. Mined corpus beads carry their
    own documents: their ``doc_id`` is :func:`pair_id` of the bead's two files, their
    indices count within those files, and the rows are sorted by (kk file, ru file,
    kk sentence, ru sentence) so that the rows of one document pair are adjacent and
    the order does not depend on how the miner found them."""
    verdict = alignment.verdict.label if alignment.verdict else None
    foreign_src = set(alignment.src.foreign) if alignment.src.foreign is not None else None
    foreign_tgt = set(alignment.tgt.foreign) if alignment.tgt.foreign is not None else None
    rows = []
    for bead in alignment.beads:
        src, src_doc = _in_document(bead, "src")
        tgt, tgt_doc = _in_document(bead, "tgt")
        src_file = src_doc or src_path or alignment.src.path
        tgt_file = tgt_doc or tgt_path or alignment.tgt.path
        pair = pair_id(src_doc, tgt_doc) if src_doc and tgt_doc else doc_id
        if pair is None:
            raise ValueError("bead_table needs a doc_id for beads that do not name their documents")
        src_text, tgt_text = alignment.src_text(bead), alignment.tgt_text(bead)
        rows.append({
            "doc_id": pair, "src_path": src_file, "tgt_path": tgt_file, "src": src, "tgt": tgt,
            "src_text": src_text, "tgt_text": tgt_text, "score": round(bead.score, 4), "kind": bead.kind,
            "verdict": verdict, "mode": alignment.mode, "model": alignment.model,
            "src_lang": alignment.src_lang, "tgt_lang": alignment.tgt_lang,
            "src_foreign": _foreign(bead.src, foreign_src), "tgt_foreign": _foreign(bead.tgt, foreign_tgt),
            "src_chars": len(src_text), "tgt_chars": len(tgt_text),
            "length_ratio": len(src_text) / len(tgt_text) if src_text and tgt_text else None,
        })
    if any(hasattr(bead, "src_doc") for bead in alignment.beads):
        rows.sort(key=lambda r: (r["src_path"] or "", r["tgt_path"] or "", r["src"], r["tgt"]))
    counters: dict[str, int] = {}
    for row in rows:  # the bead's number within its document pair
        row["bead"] = counters.get(row["doc_id"], 0)
        counters[row["doc_id"]] = row["bead"] + 1
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def check_table(table: pa.Table | pa.RecordBatch, where: str | Path) -> None:
    """Refuse rows no reader should get: a score outside [0, 1] or not a number, or a
    length ratio that is NaN or infinite (an empty side has a null ratio instead)."""
    score, ratio = table.column("score"), table.column("length_ratio")
    if len(table) and (score.null_count or pc.any(pc.is_nan(score)).as_py()
                       or pc.min(score).as_py() < 0 or pc.max(score).as_py() > 1):
        raise InputError(where, "has a bead score that is not a number in [0, 1]")
    if len(table) and pc.any(pc.invert(pc.is_finite(ratio))).as_py():
        raise InputError(where, "has a length ratio that is NaN or infinite")


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=ROW_GROUP)
    return sink.getvalue().to_pybytes()


def write_fragment(table: pa.Table, path: str | Path) -> Path:
    """One pair's beads, written atomically (a per-pair table is small: in memory, then
    :func:`align.formats.write_atomic`)."""
    table = table.cast(SCHEMA)
    check_table(table, path)
    write_atomic(path, _parquet_bytes(table))
    return Path(path)


@dataclass(frozen=True)
class Shard:
    file: str  # name inside the folder
    rows: int


@dataclass(frozen=True)
class Manifest:
    """``_manifest.json``, written last: its presence says the shard set is complete (an
    interrupted rewrite leaves none, and :func:`read_bitext` refuses the folder), and it
    lists the shards with their row counts so a reader needs no listing of the folder."""

    shards: tuple[Shard, ...]
    rows: int
    schema_version: int = SCHEMA_VERSION
    kkru_version: str = __version__


def _shard_name(n: int) -> str:
    return f"part-{n:05d}.parquet"


class _ShardWriter:
    """One shard being written: a ParquetWriter on a temporary file in the folder,
    rows buffered up to a row group, renamed into place when closed."""

    def __init__(self, out: Path, n: int):
        self.path = out / _shard_name(n)
        self.tmp = out / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        self.writer = pq.ParquetWriter(self.tmp, SCHEMA)
        self.pending: list[pa.RecordBatch] = []
        self.buffered = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.buffered += len(batch)
        self.rows += len(batch)
        if self.buffered >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.Table.from_batches(self.pending, SCHEMA), row_group_size=ROW_GROUP)
        self.pending, self.buffered = [], 0

    def close(self) -> Shard:
        self.flush()
        self.writer.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.tmp, self.path)
        return Shard(self.path.name, self.rows)

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _batches(source: str | Path | pa.Table) -> Iterable[tuple[pa.RecordBatch, str]]:
    """A fragment file's (or a table's) rows in batches, checked, with where they came from."""
    if isinstance(source, pa.Table):
        where = "bead table"
        batches = source.cast(SCHEMA).to_batches(max_chunksize=ROW_GROUP)
    else:
        where = str(source)
        try:
            fragment = pq.ParquetFile(source)
        except FileNotFoundError:
            raise InputError(source, "no such bead fragment") from None
        except (OSError, pa.ArrowException) as exc:
            raise InputError(source, f"not a readable Parquet file ({exc})") from None
        if not fragment.schema_arrow.equals(SCHEMA):
            raise InputError(source, "is not a bead fragment of this kkru version (its columns differ)")
        batches = fragment.iter_batches(batch_size=ROW_GROUP)
    for batch in batches:
        check_table(batch, where)
        yield batch, where


def write_shards(sources: Iterable[str | Path | pa.Table], out_dir: str | Path,
                 beads_per_shard: int = 100_000) -> Manifest:
    """Stream bead fragments (paths, in task order; or tables) into ``out_dir/part-NNNNN.parquet``.

    Rows keep the order they come in. A shard is closed at the first document boundary
    (a change of ``doc_id``) once it holds ``beads_per_shard`` rows, so one document
    never spans two shards and a shard holds at least ``beads_per_shard`` rows (the last
    one fewer) and at most that plus one document. Memory: one row group, never the
    corpus. Each shard is renamed into place when complete; the manifest is removed
    first and written last, and shards of an earlier run beyond the new count are
    removed, so the folder is never a mix that claims to be complete. With no rows, one
    empty shard still carries the schema."""
    if beads_per_shard < 1:
        raise ValueError("beads_per_shard must be at least 1")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
        for leftover in out.glob(".part-*.tmp"):  # left by a killed run mid-write
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(out, exc.strerror or str(exc)) from None
    shards: list[Shard] = []
    current = _ShardWriter(out, 0)
    last_doc = None
    try:
        for source in sources:
            for batch, _ in _batches(source):
                while len(batch):
                    if current.rows >= beads_per_shard:  # full: close at the next document
                        ids = batch.column("doc_id")
                        change = pc.index(pc.not_equal(ids, pa.scalar(last_doc, pa.string())), True).as_py()
                        if change == 0:
                            shards.append(current.close())
                            current = _ShardWriter(out, len(shards))
                            continue
                        take = len(batch) if change < 0 else change
                    else:
                        take = min(len(batch), beads_per_shard - current.rows)
                    current.add(batch.slice(0, take))
                    last_doc = batch.column("doc_id")[take - 1].as_py()
                    batch = batch.slice(take)
        shards.append(current.close())
    except BaseException as exc:
        current.abort()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(out, exc.strerror or str(exc)) from None
        raise
    for old in out.iterdir():  # shards of an earlier, longer run
        m = _SHARD.match(old.name)
        if m and int(m.group(1)) >= len(shards):
            old.unlink()
    manifest = Manifest(tuple(shards), sum(s.rows for s in shards))
    write_atomic(out / MANIFEST, json.dumps(asdict(manifest), indent=1) + "\n")
    return manifest


def bitext_files(path: str | Path) -> list[Path]:
    """The Parquet files of a bitext: a shard folder's shards, in order, as its manifest
    lists them (a folder without one was not finished), or the one file given."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise InputError(path, "no such file or folder")
    try:
        manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
        listed = [(p / shard["file"], int(shard["rows"])) for shard in manifest["shards"]]
    except FileNotFoundError:
        raise InputError(path, f"has no {MANIFEST}: not a bitext folder, or the run writing it did not "
                               f"finish") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(p / MANIFEST, f"unreadable ({exc})") from None
    for file, rows in listed:  # a footer read per shard: a shard of another run does not pass
        try:
            found = pq.ParquetFile(file).metadata.num_rows
        except FileNotFoundError:
            raise InputError(path, f"shard {file.name} listed in {MANIFEST} is missing") from None
        except (OSError, pa.ArrowException) as exc:
            raise InputError(file, f"not a readable Parquet file ({exc})") from None
        if found != rows:
            raise InputError(file, f"has {found} rows where {MANIFEST} lists {rows}: not from the same run")
    return [file for file, _ in listed]


def read_bitext(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """The rows of a shard folder (``--bitext-out DIR``) or of one Parquet file of this
    schema, in order; ``columns`` reads only those. Held in memory as Arrow columns:
    for a corpus larger than memory read the shards one by one (:func:`bitext_files`)."""
    wanted = columns or SCHEMA.names
    unknown = [c for c in wanted if c not in SCHEMA.names]
    if unknown:
        raise ValueError(f"no column {unknown[0]!r} in the bitext schema")
    tables = []
    for file in bitext_files(path):
        try:
            names = pq.read_schema(file).names
            missing = [c for c in wanted if c not in names]
            if missing:
                raise InputError(file, f"is not a kkru bitext: no column {missing[0]!r}")
            tables.append(pq.read_table(file, columns=wanted))
        except (OSError, pa.ArrowException) as exc:
            raise InputError(file, f"not a readable Parquet file ({exc})") from None
    schema = pa.schema([SCHEMA.field(c) for c in wanted])
    return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()
