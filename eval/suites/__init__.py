"""Readers of the benchmark datasets (one module per dataset), and where the data lives."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """Where the benchmark data lives unless ``--data-dir`` says: ``$KKRU_DATA``, else
    ``shared/data`` beside the project checkout (not beside the current folder), so
    the suites are found from any working directory."""
    if os.environ.get("KKRU_DATA"):
        return Path(os.environ["KKRU_DATA"]).expanduser().resolve()
    base = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()  # installed: no checkout
    return (base.parent / "shared" / "data").resolve()
