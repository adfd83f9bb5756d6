"""Lesson 09's measurements: the course's model in fp32 / bf16 / Q8_0 / Q4_0, the watermark after Q4_0, and the
offline moderator's false-positive rate; writes results/laptop.json and figures/09_quantization.png.

    python benchmarks/laptop.py            # about 3 minutes on 2 CPU cores

* file size: the GGUF file of each format (``alpaca-lessons export gguf``);
* perplexity: on the answers of ``HELDOUT`` held-out Alpaca records (``data.splits``), prompt masked as in
  training; fp32 is the model as trained; bf16 is the model cast to bfloat16 and computed in bfloat16 by
  PyTorch; Q8_0 / Q4_0 are the weights stored in that format and read back, computed in float32 (the storage
  error alone: llama.cpp's kernels also round activations to 8 bits);
* greedy agreement: ``GREEDY`` held-out prompts answered greedily, compared token for token with fp32;
* tokens per second: llama.cpp (llama-cpp-python, one thread) on each GGUF file when the laptop extra is
  installed, else PyTorch (one thread); the engine is recorded. The best of ``SPEED_RUNS`` runs of
  ``SPEED_TOKENS`` tokens: on a shared machine the fastest run is the one least disturbed by other jobs.
  With llama.cpp, also how many of its greedy answers (on the GGUF file, activations rounded by its kernels)
  are the same text as the package's fp32 ones;
* watermark: ``WATERMARKED`` answers sampled with the watermark by the fp32 and the Q4_0 model, scored by the
  detector (positive at z >= 4);
* moderation: alt-profanity-check on Self-Instruct's 252 user-oriented instructions (instruction and input),
  none of which asks for anything harmful: every flag is a false positive.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from alpaca_lessons.common.results import write_result
from alpaca_lessons.data import read_records
from alpaca_lessons.data.splits import split_records
from alpaca_lessons.evaluation.pairs import instruction_set
from alpaca_lessons.evaluation.quantization import agreement, laptop_model_dir, masked_perplexity
from alpaca_lessons.evaluation.watermark import WatermarkLogitsProcessor, detect
from alpaca_lessons.generation.moderation import ProfanityModerator
from alpaca_lessons.models.gguf_export import export_gguf
from alpaca_lessons.models.infer import generate, load
from alpaca_lessons.models.quantize import quantized_model
from alpaca_lessons.models.templates import training_prompt

OUT = Path(__file__).resolve().parent / "results" / "laptop.json"
FORMATS = ("fp32", "bf16", "q8_0", "q4_0")
GGUF = {"fp32": "f32", "bf16": "bf16", "q8_0": "q8_0", "q4_0": "q4_0"}
HELDOUT, GREEDY, WATERMARKED, NEW_TOKENS, SPEED_TOKENS, SPEED_RUNS = 300, 40, 40, 64, 128, 7
Z_POSITIVE = 4.0


def variants(model):
    """Each format's model for PyTorch: fp32 as is, bf16 cast, Q8_0/Q4_0 weights stored and read back."""
    return {"fp32": model, "bf16": quantized_model(model, "f32").to(torch.bfloat16),
            "q8_0": quantized_model(model, "q8_0"), "q4_0": quantized_model(model, "q4_0")}


def llama_cpp_run(path: Path, prompts: list[str]) -> tuple[float, list[str]] | None:
    """llama.cpp on ``path`` (one thread, greedy): generated tokens per second (the best of ``SPEED_RUNS`` runs on
    the first prompt; the EOS ignored, so every run generates ``SPEED_TOKENS``), and the answer to every prompt
    (``NEW_TOKENS`` at most); None without the laptop extra."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False, seed=0)
    greedy = {"temperature": 0.0, "top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}
    best = 0.0
    for _ in range(SPEED_RUNS):
        start = time.perf_counter()
        out = llm.create_completion(prompts[0], max_tokens=SPEED_TOKENS, logit_bias={llm.token_eos(): -1e9}, **greedy)
        best = max(best, out["usage"]["completion_tokens"] / (time.perf_counter() - start))
    texts = [llm.create_completion(p, max_tokens=NEW_TOKENS, **greedy)["choices"][0]["text"].strip() for p in prompts]
    return best, texts


def torch_speed(model, tokenizer, record) -> float:
    """Generated tokens per second of PyTorch, greedy, one prompt: the best of ``SPEED_RUNS`` runs."""
    best = 0.0
    for _ in range(SPEED_RUNS):
        start = time.perf_counter()
        out = generate(model, tokenizer, [record], temperature=0, max_new_tokens=SPEED_TOKENS, progress=False)[0]
        best = max(best, len(out.token_ids) / (time.perf_counter() - start))
    return best


def main() -> int:
    torch.set_num_threads(1)  # on a shared machine, more threads than free cores makes PyTorch crawl
    folder = laptop_model_dir()
    model, tokenizer = load(folder)
    heldout = split_records(read_records("alpaca_data")).heldout
    measured, greedy = heldout[:HELDOUT], heldout[HELDOUT:HELDOUT + GREEDY]
    models = variants(model)
    rows, answers = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in FORMATS:
            path = export_gguf(folder, Path(tmp) / f"{name}.gguf", GGUF[name]).path
            answers[name] = generate(models[name], tokenizer, greedy, temperature=0, max_new_tokens=NEW_TOKENS,
                                     progress=False)
            ran = llama_cpp_run(path, [training_prompt(r) for r in greedy])
            extra = {}
            if ran is None:
                speed, engine = torch_speed(models[name], tokenizer, greedy[0]), "PyTorch, 1 thread"
            else:
                (speed, texts), engine = ran, "llama.cpp (llama-cpp-python), 1 thread"
                same = sum(t == a.text for t, a in zip(texts, answers["fp32"], strict=True))
                extra = {"llama_cpp_identical_to_fp32": same / len(texts)}
            rows[name] = {**extra, "gguf_format": GGUF[name], "file_bytes": path.stat().st_size,
                          "perplexity": masked_perplexity(models[name], tokenizer, measured),
                          "greedy_agreement": vars(agreement(answers["fp32"], answers[name])),
                          "tokens_per_second": speed, "speed_engine": engine}
            print(name, rows[name], flush=True)
    marked = {}
    for name in ("fp32", "q4_0"):
        out = generate(models[name], tokenizer, greedy[:WATERMARKED], max_new_tokens=NEW_TOKENS, seed=1,
                       processors=[WatermarkLogitsProcessor()], progress=False)
        z = [detect(g.token_ids, model.config.vocab_size).z for g in out if len(g.token_ids) > 1]
        marked[name] = {"answers": len(z), "positive": sum(v >= Z_POSITIVE for v in z), "mean_z": sum(z) / len(z)}
        print("watermark", name, marked[name], flush=True)
    user = instruction_set("user_oriented")
    verdicts = ProfanityModerator().check([f"{r.instruction}\n{r.input}".strip() for r in user])
    flagged = [{"instruction": r.instruction, "score": round(v.score, 3)}
               for r, v in zip(user, verdicts, strict=True) if v.flagged]
    moderation = {"instructions": len(user), "flagged": len(flagged), "false_positive_rate": len(flagged) / len(user),
                  "flagged_examples": flagged}
    print("moderation", moderation, flush=True)
    write_result(OUT, {"model": folder.name, "torch_threads": 1, "heldout_records": len(measured),
                       "greedy_prompts": len(greedy),
                       "new_tokens": NEW_TOKENS, "speed_tokens": SPEED_TOKENS, "speed_runs": SPEED_RUNS,
                       "formats": rows,
                       "watermark": {"z_positive": Z_POSITIVE, **marked}, "moderation": moderation},
                 "python benchmarks/laptop.py", ("alpaca-lessons", "torch", "transformers", "gguf",
                                                 "alt-profanity-check", "scikit-learn", "llama-cpp-python"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
