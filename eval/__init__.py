"""Scoring alignments, translations and sentence splitting, and the benchmarks.

The package is called ``eval`` (the command is ``evaluate``); import names from it
(``from eval import score_alignment``) rather than ``import eval``, which would hide
Python's built-in ``eval`` in that module — or use ``from kkru import score_alignment``.
"""

from align.lazy import lazy_getattr

# Public name -> the module that defines it (imported lazily, PEP 562).
_PUBLIC = {
    "score_alignment": "eval.metrics.alignment", "score_documents": "eval.metrics.alignment",
    "strict_f1_interval": "eval.metrics.alignment", "paired_f1_difference": "eval.metrics.alignment",
    "AlignmentScore": "eval.metrics.alignment",
    "score_translation": "eval.metrics.translation", "paired_significance": "eval.metrics.translation",
    "score_split": "eval.metrics.split",
}
__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr("eval", _PUBLIC)
