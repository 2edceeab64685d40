"""Translation benchmarks: speed of the engines, and quality on standard test sets.

``evaluate bench speed-translate`` builds the real NLLB-200-distilled-600M
architecture with random weights (nothing to download), feeds both engines the
same token ids and forces a fixed output length, so the figures compare
runtimes at equal work: sentences/s, target tokens/s and peak memory, each
engine in its own process so its peak is its own.

``run_translation_suite`` scores real models on FLORES-200 devtest, NTREX-128
and WMT19 kk->en with sacrebleu (BLEU and chrF++, with signatures): ``evaluate
bench translate-flores`` and the other ``translate-*`` suites. It lives in
``eval``, not ``translate``: it measures translation through translate's public
functions, and translate never imports eval. ``python -m eval.bench_translate``
keeps the old ``translate.bench`` command line for one release.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import click

from align.cliutil import handle_errors
from align.errors import InputError, ToolkitError
from eval.suites import flores, ntrex, wmt19

NLLB_600M = dict(d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                 decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, vocab_size=256206)
TINY = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=2000)
CODES = ["kaz_Cyrl", "rus_Cyrl", "eng_Latn"]

# Suite -> reader of its line-parallel sentences per language (data_dir -> {lang: lines}).
SUITES = {
    "flores200-devtest": flores.sentences,
    "ntrex128": ntrex.sentences,
    "wmt19-kk-en": wmt19.sentences,
}


# ------------------------------------------------------------------ speed


def build_random_nllb(folder: Path, shape: dict = NLLB_600M) -> str:
    """An NLLB-shaped model with random weights and a tokenizer of the same vocabulary
    size (one token per id), saved like a hub model; reused when already there."""
    if (folder / "config.json").exists():
        return str(folder)
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    size = shape["vocab_size"] - len(CODES) - 1  # NllbTokenizer adds <mask> after the codes
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3} | {f"t{i}": i for i in range(4, size)}
    tokenizer = NllbTokenizer(vocab=vocab, merges=[], additional_special_tokens=CODES)
    assert len(tokenizer) == shape["vocab_size"], len(tokenizer)
    config = M2M100Config(**shape, max_position_embeddings=1024, scale_embedding=True, pad_token_id=1,
                          bos_token_id=0, eos_token_id=2, decoder_start_token_id=2)
    torch.manual_seed(0)
    M2M100ForConditionalGeneration(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _inputs(model_dir: str, n: int, src_tokens: int) -> tuple[list[list[int]], int]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    rng = random.Random(0)
    src = tok.convert_tokens_to_ids("kaz_Cyrl")
    ids = [[src] + [rng.randrange(4, len(tok) - len(CODES) - 1) for _ in range(src_tokens - 2)] + [2]
           for _ in range(n)]
    return ids, tok.convert_tokens_to_ids("eng_Latn")


def measure(model_dir: str, engine: str, batch_sizes, beams, sentences: int, max_batches: int,
            src_tokens: int, tgt_tokens: int, threads: int, cache_dir=None) -> list[dict]:
    """Time one engine on every (batch size, beam) with a fixed output length."""
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    ids, eng = _inputs(model_dir, sentences, src_tokens)
    if engine == "transformers":
        from transformers import AutoModelForSeq2SeqLM

        model = AutoModelForSeq2SeqLM.from_pretrained(model_dir, dtype=torch.float32).eval()

        def run(batch, beam):
            with torch.inference_mode():
                out = model.generate(input_ids=torch.tensor(batch), attention_mask=torch.ones(len(batch), len(batch[0]),
                                     dtype=torch.long), num_beams=beam, do_sample=False, forced_bos_token_id=eng,
                                     min_new_tokens=tgt_tokens, max_new_tokens=tgt_tokens)
            return (out.shape[1] - 1) * len(batch)  # less the decoder start token
    else:
        import ctranslate2
        from transformers import AutoTokenizer

        from translate.engines.ct2 import converted_model

        tok = AutoTokenizer.from_pretrained(model_dir)
        model = ctranslate2.Translator(converted_model(model_dir, "int8", cache_dir), device="cpu",
                                       compute_type="int8", intra_threads=threads, inter_threads=1)

        def run(batch, beam):
            results = model.translate_batch([tok.convert_ids_to_tokens(s) for s in batch],
                                            target_prefix=[["eng_Latn"]] * len(batch), beam_size=beam,
                                            min_decoding_length=tgt_tokens, max_decoding_length=tgt_tokens)
            return sum(len(r.hypotheses[0]) for r in results)

    rows = []
    try:
        run(ids[:1], 1)  # warm-up: first-call allocations are not the engine's speed
        for batch_size in batch_sizes:
            for beam in beams:
                batches = [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)][:max_batches]
                started = time.perf_counter()
                tokens = sum(run(b, beam) for b in batches)
                seconds = time.perf_counter() - started
                n = sum(len(b) for b in batches)
                rows.append({"engine": engine, "batch": batch_size, "beam": beam, "sentences": n,
                             "tokens_per_sentence": tokens / n, "seconds": seconds,
                             "sentences_per_s": n / seconds, "tokens_per_s": tokens / seconds})
    finally:
        torch.set_num_threads(previous_threads)
    return [r | {"peak_gb": peak_memory_gb()} for r in rows]


def run_speed(work: Path, shape: dict, name: str, engines, batch_sizes: list[int], beams: list[int],
              sentences: int, max_batches: int, src_tokens: int, tgt_tokens: int, threads: int) -> list[dict]:
    """Build (or reuse) the random model under ``work`` and :func:`measure` each engine in
    its own process, so each peak memory is that engine's own."""
    model_dir = build_random_nllb(work / name, shape)
    if "ctranslate2" in engines:  # convert here, so the conversion's memory is not counted as the engine's
        from translate.engines.ct2 import converted_model

        converted_model(model_dir, "int8", str(work / "cache"))
    rows = []
    for engine in engines:
        args = dict(model_dir=model_dir, engine=engine, batch_sizes=batch_sizes, beams=beams, sentences=sentences,
                    max_batches=max_batches, src_tokens=src_tokens, tgt_tokens=tgt_tokens, threads=threads,
                    cache_dir=str(work / "cache"))
        proc = subprocess.run([sys.executable, "-m", "eval.bench_translate", "_measure", json.dumps(args)],
                              capture_output=True, text=True)
        if proc.returncode:
            lines = proc.stderr.strip().splitlines() or ["failed"]
            raise ToolkitError(f"speed-translate, {engine}: {lines[-1]}")
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    return rows


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child started
    from a big parent inherits the parent's ru_maxrss on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # KiB -> MiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_gb() -> float:
    return peak_rss_mb() / 1024


def speed_table(rows: list[dict]) -> str:
    base = {(r["batch"], r["beam"]): r["tokens_per_s"] for r in rows if r["engine"] == "transformers"}
    lines = ["| engine | batch | beam | sentences/s | target tokens/s | tokens/sentence | speed-up | peak memory |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = base.get((r["batch"], r["beam"]))
        speedup = f"{r['tokens_per_s'] / ref:.1f}x" if ref else ""
        name = "transformers fp32" if r["engine"] == "transformers" else "CTranslate2 int8"
        lines.append(f"| {name} | {r['batch']} | {r['beam']} | {r['sentences_per_s']:.2f} | {r['tokens_per_s']:.1f} "
                     f"| {r['tokens_per_sentence']:.0f} | {speedup} | {r['peak_gb']:.2f} GB |")
    return "\n".join(lines)


# ------------------------------------------------------------------ quality


def load_suite(suite: str, data_dir: str | Path, limit: int | None = None) -> dict[str, list[str]]:
    """Line-parallel sentences of a suite per language (the first ``limit`` lines)."""
    if suite not in SUITES:
        raise InputError(suite, f"unknown suite; choose from {', '.join(SUITES)}")
    texts = {lang: lines[:limit] for lang, lines in SUITES[suite](data_dir).items()}
    if len({len(v) for v in texts.values()}) != 1:
        raise InputError(data_dir, f"{suite}: the language files have different numbers of lines")
    return texts


def run_translation_suite(suite: str, models: list[str], data_dir: str | Path, *, tgt: str = "en",
                          texts: dict[str, list[str]] | None = None, limit: int | None = None, engine: str = "auto", device: str = "auto", beam: int = 4,
                          batch_tokens: int = 2048, max_length: int | None = None, cache_dir=None) -> list[dict]:
    """Score each model on each source language of ``suite`` into ``tgt``: BLEU and
    chrF++ with their sacrebleu signatures, plus the model, engine and time taken.
    Test lines are sentences already, so they are not split again. ``texts``: the
    suite's sentences when the caller has read them already (read once per run)."""
    from eval.metrics.translation import score_translation

    from translate.document import translate_texts
    from translate.engines import load_translator

    texts = texts or load_suite(suite, data_dir, limit)
    results = []
    for spec in models:
        translator = load_translator(spec, engine=engine, device=device, beam=beam, max_length=max_length,
                                     cache_dir=cache_dir)
        for src in (lang for lang in texts if lang != tgt):
            started = time.perf_counter()
            hyps = translate_texts(texts[src], src, tgt, translator, batch_tokens=batch_tokens)
            seconds = time.perf_counter() - started
            scores = {s.metric: s for s in score_translation(hyps, texts[tgt])}
            results.append({
                "suite": suite, "pair": f"{src}-{tgt}", "model": spec, "engine": translator.engine,
                "settings": translator.settings, "sentences": len(hyps), "seconds": round(seconds, 2),
                "bleu": scores["BLEU"].score, "bleu_signature": scores["BLEU"].signature,
                "chrf++": scores["chrF++"].score, "chrf_signature": scores["chrF++"].signature,
            })
    return results


# ------------------------------------------------------------------ command line


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def cli():
    """Benchmarks of the translation engines and models (deprecated: evaluate bench speed-translate,
    translate-flores, translate-ntrex, translate-wmt19)."""


@cli.command()
@click.option("--work-dir", type=click.Path(file_okay=False), default="/tmp/kkru-bench", show_default=True,
              help="Where the random model and its CTranslate2 copy are kept between runs.")
@click.option("--tiny", is_flag=True, help="A tiny model of the same family instead of 600M (smoke test).")
@click.option("--engines", default="transformers,ctranslate2", show_default=True)
@click.option("--batch-sizes", default="1,16", show_default=True)
@click.option("--beams", default="1,4", show_default=True)
@click.option("--sentences", type=int, default=16, show_default=True, help="Sentences per configuration.")
@click.option("--max-batches", type=int, default=4, show_default=True,
              help="At most this many batches per configuration (keeps batch 1 short).")
@click.option("--src-tokens", type=int, default=24, show_default=True)
@click.option("--tgt-tokens", type=int, default=32, show_default=True, help="Fixed output length.")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON instead of a table.")
@handle_errors
def speed(work_dir, tiny, engines, batch_sizes, beams, sentences, max_batches, src_tokens, tgt_tokens, threads,
          as_json):
    """Speed of transformers fp32 vs CTranslate2 int8 on NLLB-200-distilled-600M's
    architecture (random weights), equal output length."""
    rows = run_speed(Path(work_dir), TINY if tiny else NLLB_600M, "nllb-tiny" if tiny else "nllb-600M-random",
                     engines.split(","), _ints(batch_sizes), _ints(beams), sentences, max_batches, src_tokens,
                     tgt_tokens, threads)
    click.echo(json.dumps(rows, indent=1) if as_json else speed_table(rows))


@cli.command("_measure", hidden=True)
@click.argument("args")
def _measure(args):
    click.echo(json.dumps(measure(**json.loads(args))))


@cli.command()
@click.option("--suite", type=click.Choice(list(SUITES)), default="flores200-devtest", show_default=True)
@click.option("--model", "models", multiple=True, required=True, help="Repeat for several models.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Default: $KKRU_DATA or the project's ../shared/data.")
@click.option("--limit", type=int, default=None, help="Only the first N sentences.")
@click.option("--engine", default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--beam", type=int, default=4, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def quality(suite, models, data_dir, limit, engine, device, beam, as_json):
    """BLEU and chrF++ of models on a test suite (kk->en, ru->en)."""
    from eval.suites import default_data_dir

    rows = run_translation_suite(suite, list(models), data_dir or default_data_dir(), limit=limit, engine=engine, device=device, beam=beam)
    if as_json:
        click.echo(json.dumps(rows, indent=1, ensure_ascii=False))
        return
    click.echo("| suite | pair | model | engine | BLEU | chrF++ | sentences | seconds |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        click.echo(f"| {r['suite']} | {r['pair']} | {r['model']} | {r['engine']} | {r['bleu']} | {r['chrf++']} "
                   f"| {r['sentences']} | {r['seconds']} |")
    click.echo(f"\n{rows[0]['bleu_signature']}\n{rows[0]['chrf_signature']}" if rows else "")


if __name__ == "__main__":
    cli()
