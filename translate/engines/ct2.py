"""CTranslate2 engine: the fast one on CPU (int8) and GPU (float16).

A transformers model is converted once and kept in the cache directory under a
key of its files' fingerprint and the quantisation, so the first run pays the
conversion (seconds to a minute) and later runs load the converted copy.
The transformers tokenizer stays in charge of text <-> tokens, through the
same codec as the transformers engine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from align.encoders.cache import default_cache_dir
from align.errors import ModelError

from . import model_fingerprint
from .codec import Seq2SeqCodec


def _converter(model_dir: str):
    """CTranslate2's transformers converter, taught where transformers 5 hides M2M100's
    language tokens: they left ``special_tokens_map``, where the converter looks for them."""
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):
        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            languages = sorted(getattr(tokenizer, "lang_token_to_id", {}).items(), key=lambda kv: kv[1])
            if languages and "additional_special_tokens" not in tokenizer.special_tokens_map:
                base = type(tokenizer)

                class WithLanguages(base):
                    @property
                    def special_tokens_map(self):
                        return {**base.special_tokens_map.fget(self),
                                "additional_special_tokens": [token for token, _ in languages]}

                tokenizer.__class__ = WithLanguages
            return tokenizer

    return Converter(model_dir)


def converted_model(model_dir: str, quantization: str, cache_dir=None) -> str:
    """Path of the CTranslate2 copy of ``model_dir``, converting it the first time.

    Converted into a temporary folder and renamed into place, so an interrupted
    conversion never leaves a half-written model that later runs would load.
    """
    import ctranslate2

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    key = f"{Path(model_dir).resolve().name}-{model_fingerprint(model_dir)}-{quantization}-ct2v{ctranslate2.__version__}"
    target = root / "ct2" / key
    if (target / "model.bin").exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
    try:
        _converter(model_dir).convert(str(work / "model"), quantization=quantization, force=True)
        os.replace(work / "model", target)
    except OSError:
        if not (target / "model.bin").exists():  # not a lost race with another process
            raise
    except Exception as exc:
        raise ModelError(f"{model_dir}: CTranslate2 cannot convert it ({exc}); "
                         f"use --engine transformers".replace("\n", " ")) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return str(target)


class CTranslate2Translator:
    engine = "ctranslate2"

    def __init__(self, *, spec, model_dir, family, device, beam, max_length, cache_dir=None):
        import ctranslate2
        from transformers import AutoConfig

        self.name, self.family, self.beam = spec, family, beam
        self.fingerprint = model_fingerprint(model_dir)
        self.codec = Seq2SeqCodec(model_dir, family, AutoConfig.from_pretrained(model_dir), max_length)
        self.max_length = self.codec.max_length
        self.compute_type = "int8" if device == "cpu" else "float16"
        path = converted_model(model_dir, self.compute_type, cache_dir)
        self.model = ctranslate2.Translator(path, device=device, compute_type=self.compute_type)
        self.settings = f"ctranslate2|{self.compute_type}|beam={beam}|max_length={self.max_length}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.codec.count(texts)

    def translate(self, sentences: Sequence[str], src: str, tgt: str) -> list[str]:
        if not sentences:
            return []
        tok = self.codec.tokenizer
        sources = self.codec.encode(sentences, src, tgt)
        prefix = self.codec.target_prefix(tgt)
        results = self.model.translate_batch(
            [tok.convert_ids_to_tokens(s) for s in sources],
            target_prefix=[tok.convert_ids_to_tokens(prefix)] * len(sources) if prefix else None,
            beam_size=self.beam, max_decoding_length=self.codec.output_limit(sources), max_batch_size=0)
        return [self.codec.decode(tok.convert_tokens_to_ids(r.hypotheses[0])) for r in results]
