"""Tatoeba retrieval sets, Kazakh first, read from ``data_dir``: "kaz-rus" (1,400 pairs,
Tatoeba Challenge v2021-08-07) and "kaz-eng" (575 pairs, LASER Tatoeba v1, as in XTREME/MTEB)."""

from __future__ import annotations

from pathlib import Path

from . import read_lines

FOLDER = "tatoeba_kaz_rus_eng"


def load(data_dir: str | Path) -> dict[str, tuple[list[str], list[str]]]:
    root = Path(data_dir) / FOLDER
    challenge = root / "kaz-rus" / "tatoeba-test-v2021-08-07"
    laser = root / "laser_tatoeba_v1_kaz-eng" / "tatoeba.kaz-eng"
    return {
        "kaz-rus": (read_lines(Path(f"{challenge}.kaz")), read_lines(Path(f"{challenge}.rus"))),
        "kaz-eng": (read_lines(Path(f"{laser}.kaz")), read_lines(Path(f"{laser}.eng"))),
    }
