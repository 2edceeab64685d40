"""Translation of Kazakh and Russian documents and aligned bitext to English.

Importing this package loads no model (and no torch): the public names below are
imported on first use.

    from translate import translate_texts, translate_document, load_translator
"""

from align.lazy import lazy_getattr

# Public name -> the module that defines it (imported lazily, PEP 562).
_PUBLIC = {
    "translate_texts": "translate.api", "translate_document": "translate.api",
    "default_translator": "translate.api", "load_translator": "translate.engines",
    "TranslatedDocument": "translate.document",
}
__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr("translate", _PUBLIC)
