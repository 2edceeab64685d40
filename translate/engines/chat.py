"""Instruction-tuned causal LMs (Gemma, Qwen, Llama, ...) as translators.

Each sentence goes into the model's own chat template with one fixed prompt
(``families.PROMPT``); decoding is deterministic and only the new tokens are
kept. Left padding lets a batch of prompts of different lengths decode together.
"""

from __future__ import annotations

from typing import Sequence

from align.errors import ModelError

from ..families import LANGUAGE_NAMES, PROMPT
from . import model_fingerprint
from .codec import input_limit, load_tokenizer


class ChatTranslator:
    engine = "transformers"

    def __init__(self, *, spec, model_dir, family, device, beam, max_length):
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        self.name, self.family, self.device, self.beam = spec, family, device, beam
        self.fingerprint = model_fingerprint(model_dir)
        config = AutoConfig.from_pretrained(model_dir)
        self.tokenizer = load_tokenizer(model_dir, family)
        if not getattr(self.tokenizer, "chat_template", None):
            raise ModelError(f"{spec}: has no chat template; only instruction-tuned (chat) causal "
                             f"models can translate")
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.max_length = input_limit(self.tokenizer, config, family, max_length)
        dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(f"{spec}: cannot load the model: {exc}".splitlines()[0]) from exc
        self.settings = f"chat|{dtype}|beam={beam}|max_length={self.max_length}|{hash_prompt()}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(x) for x in self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]]

    def prompt(self, text: str, src: str, tgt: str) -> str:
        message = PROMPT.format(src_name=LANGUAGE_NAMES[src], tgt_name=LANGUAGE_NAMES[tgt], text=text)
        return self.tokenizer.apply_chat_template([{"role": "user", "content": message}],
                                                  add_generation_prompt=True, tokenize=False)

    def translate(self, sentences: Sequence[str], src: str, tgt: str) -> list[str]:
        import torch

        if not sentences:
            return []
        prompts = [self.prompt(s, src, tgt) for s in sentences]
        batch = self.tokenizer(prompts, add_special_tokens=False, padding=True, return_tensors="pt").to(self.device)
        longest = max(self.count_tokens(sentences))
        with torch.inference_mode():
            out = self.model.generate(**batch, num_beams=self.beam, do_sample=False,
                                      max_new_tokens=2 * longest + 16, pad_token_id=self.tokenizer.pad_token_id)
        new = out[:, batch["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]


def hash_prompt() -> str:
    """A change of wording changes the translations: key the cache on it."""
    import hashlib

    return hashlib.blake2b(PROMPT.encode(), digest_size=4).hexdigest()
