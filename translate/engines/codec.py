"""Token plumbing of encoder-decoder models, shared by the transformers and
CTranslate2 engines so both feed a model exactly the same ids.

Every family in the table is served by three facts: which language token opens
the source, whether the target token is forced first, and the end token.
"""

from __future__ import annotations

from typing import Sequence

from align.errors import ModelError

from ..families import LANGUAGE_NAMES, Family

# Spellings of each language in tokenizers that declare their one pair (OPUS-MT).
_ISO = {"kk": {"kk", "kaz"}, "ru": {"ru", "rus"}, "en": {"en", "eng"}}
_NO_LIMIT = 100_000  # tokenizers without a limit report ~1e30


def load_tokenizer(model_dir: str, family: Family):
    import transformers

    cls = getattr(transformers, family.tokenizer_class) if family.tokenizer_class else transformers.AutoTokenizer
    try:
        return cls.from_pretrained(model_dir)
    except Exception as exc:  # missing sentencepiece file, unknown class, ...
        raise ModelError(f"{model_dir}: cannot load the tokenizer: {exc}".splitlines()[0]) from exc


def input_limit(tokenizer, config, family: Family, requested: int | None) -> int:
    """The longest input we send: the smallest of the family's, the tokenizer's and
    the position table's limits, and ``requested`` (--max-length)."""
    limits = [family.max_length]
    if 0 < (tokenizer.model_max_length or 0) < _NO_LIMIT:
        limits.append(tokenizer.model_max_length)
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        limits.append(positions)
    if requested:
        limits.append(requested)
    return max(8, min(limits))


class Seq2SeqCodec:
    """Sentences -> source ids with the family's language tokens; output ids -> text."""

    def __init__(self, model_dir: str, family: Family, config, max_length: int | None):
        self.family = family
        self.model_dir = model_dir
        self.tokenizer = load_tokenizer(model_dir, family)
        self.max_length = input_limit(self.tokenizer, config, family, max_length)
        self.max_output = getattr(config, "max_position_embeddings", None) or 1024
        tok = self.tokenizer
        self.eos_id = tok.eos_token_id
        self._start = {i for i in (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id,
                                   getattr(config, "decoder_start_token_id", None)) if i is not None}
        # Language tokens never belong in the text (M2M100's decode keeps them, all 100).
        codes = [*family.codes.values(), *getattr(tok, "lang_token_to_id", {})]
        self._languages = {tok.convert_tokens_to_ids(code) for code in codes} - {tok.unk_token_id}

    def _language_id(self, lang: str) -> int | None:
        token = self.family.codes[lang]
        token_id = self.tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != self.tokenizer.unk_token_id:
            return token_id
        if self.family.optional_codes:
            return None
        raise ModelError(f"{self.model_dir}: the tokenizer has no {token!r} token for "
                         f"{LANGUAGE_NAMES[lang]}; is it really a {self.family.name} model?")

    def check_pair(self, src: str, tgt: str) -> None:
        """Pair models (OPUS-MT) declare their languages: refuse a wrong direction
        instead of producing fluent nonsense."""
        known = set().union(*_ISO.values())
        for lang, attr in ((src, "source_lang"), (tgt, "target_lang")):
            declared = (getattr(self.tokenizer, attr, None) or "").lower()
            if declared in known and declared not in _ISO[lang]:
                raise ModelError(f"{self.model_dir}: translates {self.tokenizer.source_lang}->"
                                 f"{self.tokenizer.target_lang}, not {src}->{tgt}")

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text including the language token and the end token."""
        ids = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [len(x) + 2 for x in ids]

    def encode(self, texts: Sequence[str], src: str, tgt: str) -> list[list[int]]:
        self.check_pair(src, tgt)
        prefix = []
        if self.family.source_prefix:
            token_id = self._language_id(src if self.family.source_prefix == "src" else tgt)
            prefix = [] if token_id is None else [token_id]
        body = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [prefix + ids + [self.eos_id] for ids in body]

    def target_prefix(self, tgt: str) -> list[int]:
        if not self.family.target_prefix:
            return []
        token_id = self._language_id(tgt)
        return [] if token_id is None else [token_id]

    def output_limit(self, sources: Sequence[Sequence[int]]) -> int:
        """Room for the longest translation: twice the longest source, within the model."""
        longest = max((len(s) for s in sources), default=1)
        return min(self.max_output, 2 * longest + 16)

    def decode(self, ids: Sequence[int]) -> str:
        ids = list(ids)
        while ids and ids[0] in self._start:
            ids.pop(0)
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        ids = [i for i in ids if i not in self._languages]
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()
