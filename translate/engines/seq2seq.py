"""transformers encoder-decoder engine (NLLB, M2M100, SMaLL-100, OPUS-MT, MADLAD).

transformers 5 has no ``translation`` pipeline: we pad the ids the codec built
and call ``generate()`` ourselves, forcing the target language token where the
family wants it.
"""

from __future__ import annotations

from typing import Sequence

from align.errors import ModelError

from . import model_fingerprint
from .codec import Seq2SeqCodec


class TransformersTranslator:
    engine = "transformers"

    def __init__(self, *, spec, model_dir, family, device, beam, max_length):
        import torch
        from transformers import AutoConfig, AutoModelForSeq2SeqLM

        self.name, self.family, self.device, self.beam = spec, family, device, beam
        self.fingerprint = model_fingerprint(model_dir)
        config = AutoConfig.from_pretrained(model_dir)
        self.codec = Seq2SeqCodec(model_dir, family, config, max_length)
        self.max_length = self.codec.max_length
        dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            self.model = AutoModelForSeq2SeqLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(f"{spec}: cannot load the model: {exc}".splitlines()[0]) from exc
        self.settings = f"transformers|{dtype}|beam={beam}|max_length={self.max_length}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.codec.count(texts)

    def translate(self, sentences: Sequence[str], src: str, tgt: str) -> list[str]:
        import torch

        if not sentences:
            return []
        sources = self.codec.encode(sentences, src, tgt)
        prefix = self.codec.target_prefix(tgt)
        pad = self.codec.tokenizer.pad_token_id
        width = max(len(s) for s in sources)
        input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in sources], device=self.device)
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sources], device=self.device)
        extra = {"forced_bos_token_id": prefix[0]} if prefix else {}
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, num_beams=self.beam,
                                      do_sample=False, max_new_tokens=self.codec.output_limit(sources), **extra)
        return [self.codec.decode(row) for row in out.tolist()]
