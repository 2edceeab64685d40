"""Shared fixtures: paths to the seeds and data, and a tiny encoder built on the spot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
KK_SEED = SEEDS / "kk_nazarbayev_putin.txt"
RU_SEED = SEEDS / "ru_nazarbayev_putin.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Tests never touch the network or the user's cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("KKRU_CACHE", str(tmp_path_factory.getbasetemp() / "kkru-cache"))


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A random-weight BERT + mean pooling saved as a sentence-transformers model
    (vocabulary: the characters and words of the seed texts). Builds in ~1 s."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny-encoder")
    text = KK_SEED.read_text(encoding="utf-8") + RU_SEED.read_text(encoding="utf-8")
    words = sorted({w.lower() for w in text.split()} | set(text.lower()) - {" ", "\n"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    hf_dir = root / "hf"
    hf_dir.mkdir()
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(hf_dir / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st_dir = root / "st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
    return st_dir
