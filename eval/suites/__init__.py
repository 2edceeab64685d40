"""Readers of the benchmark datasets (one module per dataset), and where the data lives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from align.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """Where the benchmark data lives unless ``--data-dir`` says: ``$KKRU_DATA``, else
    ``shared/data`` beside the project checkout (not beside the current folder), so
    the suites are found from any working directory."""
    if os.environ.get("KKRU_DATA"):
        return Path(os.environ["KKRU_DATA"]).expanduser().resolve()
    base = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()  # installed: no checkout
    return (base.parent / "shared" / "data").resolve()


def read_lines(path: Path) -> list[str]:
    """A line-per-sentence data file; a missing one names the file and what to check."""
    if not path.is_file():
        raise InputError(path, "missing (is data_dir pointing at the shared data folder?)")
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


class ParallelDoc(NamedTuple):
    """One document of a line-parallel corpus (NTREX, FLORES), its sentences per language."""

    kk: list[str]
    ru: list[str]
    en: list[str]


def group(ids: list[str], where: Path, kk: list[str], ru: list[str], en: list[str]) -> list[ParallelDoc]:
    """Lines grouped into documents by their document id (first appearance order)."""
    if not len(ids) == len(kk) == len(ru) == len(en):
        raise InputError(where, "line-parallel files and their document ids differ in length")
    docs: dict[str, list[int]] = {}
    for line, doc in enumerate(ids):
        docs.setdefault(doc, []).append(line)
    return [ParallelDoc(*([side[i] for i in lines] for side in (kk, ru, en))) for lines in docs.values()]
