"""Kazakh–Russian sentence alignment: reading, splitting, embedding, aligning, writing.

Importing this package loads no model and touches no network: the public names
below are imported on first use.

    from align import align_texts, align_documents, read_document, load_encoder
"""

from .lazy import lazy_getattr

__version__ = "0.1.0"

# Public name -> the module that defines it (imported lazily, PEP 562).
_PUBLIC = {
    "align_texts": "align.api", "align_documents": "align.api", "default_encoder": "align.api",
    "read_document": "align.text", "Document": "align.text", "load_encoder": "align.encoders",
    "Alignment": "align.beads", "Bead": "align.beads", "AlignOptions": "align.pipeline",
    "AlignConfig": "align.search", "MineConfig": "align.mine", "write_alignment": "align.formats",
    "ToolkitError": "align.errors", "SourceFacts": "align.beads", "Verdict": "align.mine",
    "PairResult": "align.pipeline", "AlignStats": "align.search",
}
__all__ = [*_PUBLIC, "__version__"]

__getattr__ = lazy_getattr("align", _PUBLIC)
