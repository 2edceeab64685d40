"""Tiny translation models, built once per test session (seconds, no download)."""

from __future__ import annotations

import pytest

from .tiny import build_all


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, str]:
    return build_all(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> str:
    """One cache folder for the session: CTranslate2 conversions are reused across tests."""
    return str(tmp_path_factory.mktemp("kkru_cache"))


@pytest.fixture(autouse=True)
def _cache_env(monkeypatch, session_cache):
    monkeypatch.setenv("KKRU_CACHE", session_cache)
