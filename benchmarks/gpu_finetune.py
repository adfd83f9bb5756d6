"""Alpaca's fine-tuning recipe on one GPU: correctness, throughput, memory and the Trainer recipe.

Each part writes its own section of ``benchmarks/results/gpu_finetune.json`` (merged into what is already
there), so the parts can run in separate calls of a time-limited GPU machine:

* ``correctness``: per-example losses of one micro-batch of real Alpaca examples, packed into one row (sdpa
  with the dense per-example mask, and flex attention with a ``BlockMask``) against padded micro-batches and
  against each example run alone, in float32 and in bfloat16; and the same packed row without the mask,
  to show what the mask prevents.
* ``throughput``: the project's own entry point (``torchrun --nproc_per_node=1 -m alpaca_lessons.training.train``: NCCL,
  FSDP2, bfloat16) on the ``7b-width`` preset (LLaMA-7B's layers, 8 of them) and Alpaca records, for each
  batching in ``BATCHINGS``: useful (non-pad) tokens per second, pad share and MFU
  (6 x parameters x useful tokens/s over the GPU's dense bf16 peak, 989 TFLOP/s for an H100).
* ``trainer``: Alpaca's own configuration (Hugging Face Trainer, FSDP ``full_shard auto_wrap`` on
  ``LlamaDecoderLayer``, bf16) for a few steps, and the FSDP units it made.
* ``memory``: ``memory.estimate.estimate`` against ``torch.cuda.max_memory_allocated`` on ``memory.measure.GPU_CHECKS``.
* ``projection`` (from the throughput part): Alpaca's full run (52K records x 3 epochs on LLaMA-7B) in
  H100-hours and dollars at each batching's measured MFU, beside Alpaca's 3 hours on 8 A100s.

On the course's GPU machine (no package registry, no ``../shared`` beside the checkout), carry the data mirror
in a git-ignored folder and run the parts in two calls of under 10 minutes each:

    mkdir -p .gpu && cp -r ../shared/data .gpu/data     # .gpu/ is listed in .git/info/exclude, never committed
    export PYTHONPATH=$PWD ALPACA_LESSONS_DATA=$PWD/.gpu/data   # the package is not installed there
    python3 benchmarks/gpu_finetune.py --parts correctness,memory,trainer
    python3 benchmarks/gpu_finetune.py --parts throughput,projection

``--smoke`` runs the same code on a CPU with the tiny preset and a few steps (a test does, to keep the script
working); its numbers are no GPU measurement, and it refuses to write the committed results file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from alpaca_lessons.common.results import provenance
from alpaca_lessons.data import read_records
from alpaca_lessons.models.modeling import alpaca_texts, build_model, llama_config, train_tokenizer
from alpaca_lessons.models.shapes import LLAMA_7B
from alpaca_lessons.training import sft
from alpaca_lessons.training.memory.estimate import GPU, GPUS
from alpaca_lessons.training.memory.flops import implied_mfu, mfu, throughput_from_mfu, training_cost
from alpaca_lessons.training.memory.measure import check_on_cuda
from alpaca_lessons.training.train import TrainConfig, read_log, read_run, run_torchrun

RESULTS = Path(__file__).resolve().parent / "results" / "gpu_finetune.json"
PARTS = ("correctness", "throughput", "trainer", "memory", "projection")
PACKAGES = ("torch", "transformers", "accelerate", "peft")
ALPACA_RECORDS = 52_002
ALPACA_HOURS, ALPACA_GPUS = 3.0, 8  # "about 3 hours on 8 80GB A100s" (Alpaca's README)


@dataclass(frozen=True)
class Batching:
    """One way to lay out the micro-batches of a 128-example step."""

    name: str
    collation: str
    micro_batch_size: int
    attention: str
    note: str


BATCHINGS = (
    Batching("padded 4", "padded", 4, "sdpa", "Alpaca's recipe: random micro-batches of 4, padded to the longest"),
    Batching("padded 16", "padded", 16, "sdpa", "random micro-batches of 16, padded"),
    Batching("packed 16, sdpa", "packed", 16, "sdpa", "16 examples a row, dense per-example mask on sdpa"),
    Batching("packed 16, flex", "packed", 16, "flex_attention", "16 examples a row, flex-attention BlockMask"),
    Batching("packed 32, flex", "packed", 32, "flex_attention", "32 examples a row, flex-attention BlockMask"),
)


@dataclass(frozen=True)
class Scale:
    """How big the runs are: the GPU settings, or the smoke test's."""

    preset: str
    vocab_size: int
    records: int  # records each throughput run tokenizes (a seeded sample of the 52K)
    steps: int  # optimizer steps of each throughput run
    warmup_steps: int  # first steps left out of the steady throughput
    effective_batch_size: int
    batchings: tuple[Batching, ...]
    trainer_steps: int


GPU_SCALE = Scale("7b-width", 32_000, 6_400, 8, 2, 128, BATCHINGS, 3)
SMOKE_SCALE = Scale("tiny", 300, 128, 3, 1, 16, (BATCHINGS[0], BATCHINGS[2]), 0)  # padded 4, packed 16 on sdpa


def gpu_peak() -> GPU | None:
    """The dense bf16 peak MFU is taken against: an H100's (989 TFLOP/s) on Hopper GPUs, None elsewhere."""
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(0)
    if "H100" in name or "H200" in name:
        return GPUS["H100-80GB"]
    return next((gpu for key, gpu in GPUS.items() if key.split("-")[0] in name), None)


# ----------------------------------------------------------------------------------------------- correctness

def correctness(device: torch.device, attentions: tuple[str, ...]) -> dict:
    """Largest per-example loss differences between layouts of the same 16 Alpaca examples, per dtype.

    The reference is each example run alone (no padding, no neighbours) on sdpa; every attention kernel's
    model has the same weights (same seed). "unmasked" is the packed row with restarting positions and no
    mask, which lets each example attend to the ones before it in the row: what the mask prevents.
    """
    records = read_records("alpaca_data")[:2000]
    tokenizer = train_tokenizer(alpaca_texts(records), 4096)
    examples, _ = sft.tokenize_records(records[:16], tokenizer)
    pad = tokenizer.pad_token_id
    packed = {k: v.to(device) for k, v in sft.pack_collate(examples, pad).items()}
    found: dict = {"examples": len(examples), "model": "course preset (2.6M parameters), float32 weights"}
    models = {attention: build_model(llama_config("course", len(tokenizer)), seed=0,
                                     attn_implementation=attention).to(device).eval() for attention in attentions}
    for dtype in (torch.float32, torch.bfloat16):
        rows = {}
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            alone = torch.cat([sft.compare_collations(models["sdpa"], [e], pad)["padded"] for e in examples])
            with torch.no_grad():
                logits = models["sdpa"](input_ids=packed["input_ids"], position_ids=packed["position_ids"]).logits
            unmasked = sft.per_example_losses(logits, packed).cpu()
            for attention, model in models.items():
                losses = sft.compare_collations(model, examples, pad)
                rows[attention] = {
                    "packed_vs_padded": float((losses["packed"] - losses["padded"]).abs().max()),
                    "padded_vs_alone": float((losses["padded"] - alone).abs().max()),
                    "packed_vs_alone": float((losses["packed"] - alone).abs().max()),
                }
        found[str(dtype).removeprefix("torch.")] = {"attentions": rows,
                                                    "unmasked_packed_vs_alone": float((unmasked - alone).abs().max())}
    return found


# ------------------------------------------------------------------------------------------------ throughput

def steady(log: list[dict], warmup_steps: int) -> dict:
    """Median useful tokens/s and mean pad share over the steps after the warm-up ones."""
    kept = log[warmup_steps:] or log
    return {"tokens_per_s": statistics.median(r["tokens_per_s"] for r in kept),
            "pad_share": round(statistics.fmean(r["pad_share"] for r in kept), 4),
            "steps_timed": len(kept), "final_loss": log[-1]["loss"]}


def throughput(scale: Scale, work: Path, peak: GPU | None) -> list[dict]:
    """Each batching through the training entry point under torchrun; a failing one records its error."""
    rows = []
    for batching in scale.batchings:
        folder = work / batching.name.replace(" ", "_").replace(",", "")
        shutil.rmtree(folder, ignore_errors=True)
        cfg = TrainConfig(model=scale.preset, vocab_size=scale.vocab_size, limit=scale.records,
                          output_dir=str(folder), effective_batch_size=scale.effective_batch_size,
                          micro_batch_size=batching.micro_batch_size, collation=batching.collation,
                          attention=batching.attention, max_steps=scale.steps, export=False, progress=False,
                          resume=False)
        row: dict = asdict(batching)
        print(f"throughput: {batching.name} ...", flush=True)
        try:
            run_torchrun(cfg, processes=1)
        except RuntimeError as error:
            rows.append(row | {"error": str(error)[-2000:]})
            print(f"  failed: {str(error)[-300:]}", flush=True)
            continue
        run = read_run(folder)
        row |= steady(read_log(folder), scale.warmup_steps)
        row |= {"parameters": run["parameters"],
                "mean_example_tokens": round(sft.SFTReport(**run["examples"]).mean_tokens, 1),
                "precision": run["precision"], "fsdp_units": run["fsdp_units"], "device": run["machine"]["device"],
                "mfu": round(mfu(run["parameters"], row["tokens_per_s"], peak), 4) if peak else None}
        print(f"  {row['tokens_per_s']:,.0f} useful tok/s, pad share {row['pad_share']:.0%}, MFU {row['mfu']}",
              flush=True)
        rows.append(row)
    return rows


def projection(rows: list[dict], dollars_per_gpu_hour: float) -> dict:
    """Alpaca's full run on LLaMA-7B at each measured batching's MFU, beside Alpaca's 3 hours on 8 A100s.

    Tokens: 52,002 records x 3 epochs x the mean example length the runs measured (this course's tokenizer
    trained on Alpaca, close to but not LLaMA's). The same MFU is assumed at 7B's 32 layers as at the 8 layers
    measured (every matrix multiply has the same shape) and on each of 8 GPUs under FSDP.
    """
    measured = [r for r in rows if r.get("mfu")]
    if not measured:
        return {}
    tokens = ALPACA_RECORDS * 3 * measured[0]["mean_example_tokens"]
    h100, a100, params = GPUS["H100-80GB"], GPUS["A100-80GB"], LLAMA_7B.parameters
    runs = []
    for row in measured:
        rate = throughput_from_mfu(params, row["mfu"], h100)
        cost = training_cost(tokens, rate, 1, dollars_per_gpu_hour)
        runs.append({"batching": row["name"], "mfu": row["mfu"], "h100_hours": round(cost.gpu_hours, 1),
                     "dollars": round(cost.dollars), "hours_on_8": round(cost.gpu_hours / 8, 2)})
    return {"tokens": round(tokens), "parameters": params, "dollars_per_gpu_hour": dollars_per_gpu_hour,
            "runs": runs, "alpaca": {"a100_hours": ALPACA_HOURS * ALPACA_GPUS,
                                     "implied_mfu": round(implied_mfu(params, tokens, ALPACA_HOURS, a100,
                                                                             ALPACA_GPUS), 4)}}


# -------------------------------------------------------------------------------------------- trainer, memory

def trainer_recipe(scale: Scale, work: Path) -> dict:
    """A few steps of Alpaca's Trainer + FSDP configuration on this GPU, and what it reported."""
    folder = work / "hf_trainer"
    shutil.rmtree(folder, ignore_errors=True)
    cfg = TrainConfig(model=scale.preset, vocab_size=scale.vocab_size, limit=2048, output_dir=str(folder),
                      max_steps=scale.trainer_steps, backend="hf-trainer", progress=False)
    run_torchrun(cfg, processes=1)
    run = read_run(folder)
    steps = [r for r in run["trainer_log"] if "loss" in r]
    summary = next((r for r in run["trainer_log"] if "train_runtime" in r), {})
    return {"fsdp_enabled": run["fsdp_enabled"], "fsdp_units": run["fsdp_units"], "steps": len(steps),
            "losses": [r["loss"] for r in steps], "runtime_s": summary.get("train_runtime"),
            "device": run["machine"]["device"], "versions": run["versions"]}


def memory_check() -> list[dict]:
    """Predicted against measured peak GPU memory on each of ``memory.GPU_CHECKS``."""
    return [m.to_dict() for m in check_on_cuda()]


# ------------------------------------------------------------------------------------------------------ main

def read(path: Path) -> dict:
    """The results file, or an empty one."""
    return json.loads(path.read_text()) if path.is_file() else {"parts": {}}


def merge(path: Path, found: dict, command: str) -> dict:
    """The results file with ``found``'s parts replaced, each part stamped with how it was made."""
    results = read(path)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    stamp = provenance(command, PACKAGES, device=device)
    for part, value in found.items():
        results["parts"][part] = {"made": stamp, "result": value}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts and merge them into the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, default=Path("work/gpu_finetune"), help="run folders")
    parser.add_argument("--dollars-per-gpu-hour", type=float, default=2.5,
                        help="an assumed on-demand H100 price for the projection (default 2.5)")
    parser.add_argument("--smoke", action="store_true", help="tiny runs on a CPU, to test the script")
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    cuda = torch.cuda.is_available()
    if args.smoke == cuda:
        parser.error("--smoke runs on a CPU only, and without it the script needs a CUDA GPU")
    if args.smoke and args.out.resolve() == RESULTS:
        parser.error("a smoke run never writes the committed GPU results: pass --out")
    if args.smoke and {"trainer", "memory"} & set(parts):
        parser.error("the trainer and memory parts run on a GPU only")
    scale = SMOKE_SCALE if args.smoke else GPU_SCALE
    device = torch.device("cuda" if cuda else "cpu")
    # torchrun gives its process one CPU thread unless told otherwise: building a 1.88B-parameter model and
    # tokenizing the records on one thread would take most of each run
    os.environ.setdefault("OMP_NUM_THREADS", str(min(8, os.cpu_count() or 1)))
    command = " ".join([Path(sys.executable).name, *sys.argv])
    measure = {
        "correctness": lambda: correctness(device, ("sdpa",) if args.smoke else sft.ATTENTIONS[:2]),
        "throughput": lambda: throughput(scale, args.work, gpu_peak()),
        "trainer": lambda: trainer_recipe(scale, args.work),
        "memory": memory_check,
        "projection": lambda: projection(read(args.out)["parts"].get("throughput", {}).get("result", []),
                                         args.dollars_per_gpu_hour),  # last: it reads the throughput part
    }
    found: dict = {}
    for part in PARTS:  # each part is written as soon as it is measured, so a later failure loses none
        if part in parts:
            found[part] = measure[part]()
            merge(args.out, {part: found[part]}, command)
    print(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
