"""Public names imported on first use (PEP 562), so importing a package loads no model."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, public: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``public[name]`` (a module path) when ``name``
    is first asked for; any other name is an AttributeError, so a typo fails loudly."""

    def __getattr__(name: str):
        if name in public:
            return getattr(importlib.import_module(public[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
