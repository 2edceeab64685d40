"""Tiny random-weight translation models for tests, built in seconds, never downloaded.

One BPE sentencepiece model is trained on the seed documents; each family gets
its own tokenizer files around it (NLLB and M2M100 language-code tokens, a
Marian pair model, a chat template for the causal LM) and a 1-layer model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ENGLISH = ["The President met the leaders in Almaty.", "They discussed cooperation and trade.",
           "The union was created twenty five years ago."]
NLLB_CODES = ["kaz_Cyrl", "rus_Cyrl", "eng_Latn"]
MAX_LENGTH = 40  # input tokens: small, so long sentences must be split
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def train_sentencepiece(folder: Path) -> Path:
    import sentencepiece as spm

    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    lines = [s for s in re.split(r"(?<=[.!?»])\s+", text) if s.strip()] + ENGLISH
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "sp"), vocab_size=400, model_type="bpe",
        character_coverage=1.0, bos_id=0, pad_id=1, eos_id=2, unk_id=3, hard_vocab_limit=False,
        minloglevel=2)
    return folder / "sp.model"


def _vocab_merges(sp_model: Path):
    import sentencepiece as spm
    from transformers.tokenization_utils_base import generate_merges

    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    return vocab, generate_merges(vocab, None)


def _seq2seq_config(cls, vocab_size: int, **extra):
    settings = dict(vocab_size=vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
                    encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                    decoder_ffn_dim=64, max_position_embeddings=256, pad_token_id=1, bos_token_id=0,
                    eos_token_id=2, decoder_start_token_id=2)
    return cls(**(settings | extra))


def _save(model, tokenizer, folder: Path) -> str:
    import torch

    torch.manual_seed(0)
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def build_nllb(sp_model: Path, folder: Path) -> str:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    vocab, merges = _vocab_merges(sp_model)
    tok = NllbTokenizer(vocab=vocab, merges=merges, additional_special_tokens=NLLB_CODES,
                        model_max_length=MAX_LENGTH)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(_seq2seq_config(M2M100Config, len(tok), scale_embedding=True))
    return _save(model, tok, folder)


def build_m2m100(sp_model: Path, folder: Path) -> str:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    vocab, _ = _vocab_merges(sp_model)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = M2M100Tokenizer(str(folder / "vocab.json"), str(sp_model), model_max_length=MAX_LENGTH)
    size = len(tok) + len(tok.lang_token_to_id) + tok.num_madeup_words  # as in the real M2M100
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(_seq2seq_config(M2M100Config, size, scale_embedding=True))
    return _save(model, tok, folder)


def build_marian(sp_model: Path, folder: Path) -> str:
    """A ru->en pair model; as in OPUS-MT, <pad> is the last id and starts the decoder."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    vocab, _ = _vocab_merges(sp_model)
    pieces = [p for p in sorted(vocab, key=vocab.get) if p != "<pad>"] + ["<pad>"]
    vocab = {p: i for i, p in enumerate(pieces)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = MarianTokenizer(str(sp_model), str(sp_model), str(folder / "vocab.json"),
                          source_lang="ru", target_lang="en", model_max_length=MAX_LENGTH)
    pad = vocab["<pad>"]
    config = _seq2seq_config(MarianConfig, len(vocab), pad_token_id=pad, decoder_start_token_id=pad,
                             eos_token_id=vocab["</s>"], bos_token_id=None)
    torch.manual_seed(0)
    return _save(MarianMTModel(config), tok, folder)


def build_chat(sp_model: Path, folder: Path) -> str:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    vocab, merges = _vocab_merges(sp_model)
    for token in ("<|user|>", "<|assistant|>"):
        vocab[token] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                  pad_token="<pad>", unk_token="<unk>", model_max_length=1024,
                                  additional_special_tokens=["<|user|>", "<|assistant|>"])
    tok.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         bos_token_id=0, eos_token_id=2, pad_token_id=1, tie_word_embeddings=True)
    torch.manual_seed(0)
    return _save(Qwen2ForCausalLM(config), tok, folder)


def build_all(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    sp_model = train_sentencepiece(root)
    return {
        "nllb": build_nllb(sp_model, root / "nllb"),
        "m2m100": build_m2m100(sp_model, root / "m2m100"),
        "marian": build_marian(sp_model, root / "marian"),
        "chat": build_chat(sp_model, root / "chat"),
    }
