"""FLORES-200 devtest (kk, ru, en), read from ``data_dir`` at run time (never bundled).

Lines are parallel across languages; ``metadata_devtest.tsv`` gives each line's
source article (URL), so the sentences also group into short documents.
"""

from __future__ import annotations

from pathlib import Path

from . import ParallelDoc, group, read_lines

FOLDER = "flores/flores200_devtest"
FILES = {"kk": "kaz_Cyrl.devtest", "ru": "rus_Cyrl.devtest", "en": "eng_Latn.devtest"}


def sentences(data_dir: str | Path) -> dict[str, list[str]]:
    """Line-parallel sentences per language."""
    root = Path(data_dir) / FOLDER
    return {lang: read_lines(root / name) for lang, name in FILES.items()}


def documents(data_dir: str | Path, min_sentences: int = 3) -> list[ParallelDoc]:
    """Articles (by URL) with at least ``min_sentences`` sentences."""
    root = Path(data_dir) / FOLDER
    urls = [line.split("\t")[0] for line in read_lines(root / "metadata_devtest.tsv")[1:]]
    text = sentences(data_dir)
    docs = group(urls, root, text["kk"], text["ru"], text["en"])
    return [d for d in docs if len(d.kk) >= min_sentences]
