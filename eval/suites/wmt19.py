"""WMT19 newstest2019 kk-en (Kazakh-original news), read from ``data_dir``."""

from __future__ import annotations

from pathlib import Path

from . import read_lines

FOLDER = "wmt19_kk_en/kk-en"


def sentences(data_dir: str | Path) -> dict[str, list[str]]:
    root = Path(data_dir) / FOLDER
    return {"kk": read_lines(root / "newstest2019.kk"), "en": read_lines(root / "newstest2019.en")}
