"""kkru: the toolkit's whole public API under one name that no other distribution takes.

``align`` and ``translate`` are also the names of other packages on the package index
(``translate`` installs a module and a console script of that name), and ``eval``
shadows a built-in; ``from kkru import ...`` always means this toolkit:

    from kkru import align_texts, align_documents, translate_texts, score_alignment
"""

from align import __version__
from align.lazy import lazy_getattr

# Public name -> the package that exports it (each imported lazily on first use).
_SOURCES = {"align": ("align_texts", "align_documents", "default_encoder", "read_document", "Document",
                      "load_encoder", "Alignment", "Bead", "AlignOptions", "AlignConfig", "MineConfig",
                      "write_alignment", "ToolkitError", "SourceFacts", "Verdict", "PairResult", "AlignStats"),
            "translate": ("translate_texts", "translate_document", "default_translator", "load_translator",
                          "TranslatedDocument"),
            "eval": ("score_alignment", "score_documents", "strict_f1_interval", "paired_f1_difference",
                     "AlignmentScore", "score_translation", "paired_significance", "score_split")}
_PUBLIC = {name: package for package, names in _SOURCES.items() for name in names}
__all__ = [*_PUBLIC, "__version__"]

__getattr__ = lazy_getattr("kkru", _PUBLIC)
