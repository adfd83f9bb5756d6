"""The GPU fine-tuning benchmark's results, read for lesson 06b as tables (its figure: ``common.plots``).

``benchmarks/gpu_finetune.py`` writes ``benchmarks/results/gpu_finetune.json``: a ``parts`` mapping whose
entries (correctness, throughput, trainer, memory, projection) each hold ``made`` (command, date, machine,
versions) and ``result``. Parts are measured separately, so any of them may be missing.
"""

from __future__ import annotations

import json
from pathlib import Path

from alpaca_lessons.common.paths import project_root
from alpaca_lessons.data import read_text


def results_path() -> Path:
    """``benchmarks/results/gpu_finetune.json`` in the project."""
    return project_root() / "benchmarks" / "results" / "gpu_finetune.json"


def gpu_results(path: str | Path | None = None) -> dict | None:
    """The committed GPU results, or None when no GPU run has committed them yet."""
    path = Path(path) if path else results_path()
    return json.loads(read_text(path)) if path.is_file() else None


def part(results: dict, name: str):
    """One part's result, or None when that part was not measured."""
    return results["parts"].get(name, {}).get("result")


def made(results: dict, name: str) -> str:
    """Where and when a part was measured: "date · device · torch x, transformers y"."""
    stamp = results["parts"][name]["made"]
    versions = stamp["versions"]
    return (f"{stamp['date'][:10]} · {stamp['machine']['device']} · torch {versions.get('torch')}, "
            f"transformers {versions.get('transformers')}")


def throughput_rows(results: dict) -> list[str]:
    """A text table of the batchings: useful tokens/s, pad share, MFU (or the error of a failed run)."""
    rows = [f"{'batching':<18} {'useful tok/s':>12} {'pad share':>9} {'MFU':>6}  what"]
    for row in part(results, "throughput") or []:
        if "error" in row:
            rows.append(f"{row['name']:<18} {'failed':>12}  {row['error'].strip().splitlines()[-1][:80]}")
            continue
        mfu = f"{row['mfu']:.1%}" if row["mfu"] is not None else "-"
        rows.append(f"{row['name']:<18} {row['tokens_per_s']:>12,.0f} {row['pad_share']:>9.0%} {mfu:>6}  "
                    f"{row['note']}")
    return rows


def correctness_rows(results: dict) -> list[str]:
    """A text table: largest per-example loss differences, packed against padded and against each example
    alone, per dtype and attention kernel; then the packed row without its mask, against alone."""
    found = part(results, "correctness") or {}
    rows = [f"{'dtype':<9} {'attention':<15} {'packed-padded':>13} {'packed-alone':>12}"]
    for dtype in ("float32", "bfloat16"):
        for attention, d in found.get(dtype, {}).get("attentions", {}).items():
            rows.append(f"{dtype:<9} {attention:<15} {d['packed_vs_padded']:>13.1e} {d['packed_vs_alone']:>12.1e}")
    for dtype in ("float32", "bfloat16"):
        if dtype in found:
            rows.append(f"{dtype}, packed without the mask: up to {found[dtype]['unmasked_packed_vs_alone']:.2f} "
                        "nats from the same example alone")
    return rows


def memory_rows(results: dict) -> list[str]:
    """A text table: the memory estimate against the measured peak, per configuration."""
    rows = [f"{'configuration':<50} {'predicted':>9} {'measured':>9} {'error':>7}"]
    for m in part(results, "memory") or []:
        rows.append(f"{m['name']:<50} {m['predicted_mib'] / 1024:>7.2f} G {m['measured_mib'] / 1024:>7.2f} G "
                    f"{m['error']:>+7.1%}")
    return rows


def projection_rows(results: dict) -> list[str]:
    """Alpaca's full run (52K x 3 epochs, LLaMA-7B) at each measured MFU, then Alpaca's own."""
    found = part(results, "projection")
    if not found:
        return []
    rows = [f"{found['tokens']:,} tokens x 6 x {found['parameters']:,} parameters, "
            f"at ${found['dollars_per_gpu_hour']}/H100-hour (an assumed price):"]
    for run in found["runs"]:
        rows.append(f"  {run['batching']:<18} MFU {run['mfu']:>6.1%}: {run['h100_hours']:>7,.1f} H100-hours "
                    f"(${run['dollars']:,}), {run['hours_on_8']:.2f} h on 8")
    alpaca = found["alpaca"]
    rows.append(f"  Alpaca: 3 h on 8 A100s = {alpaca['a100_hours']:.0f} A100-hours, "
                f"implying {alpaca['implied_mfu']:.1%} MFU on the same useful tokens")
    return rows


def report(results: dict) -> list[str]:
    """Every measured part as a titled table, each saying where and when it was measured."""
    sections = (("throughput", "Throughput of the training entry point (torchrun, FSDP2, bf16)", throughput_rows),
                ("correctness", "Per-example loss differences, packed vs padded vs alone", correctness_rows),
                ("memory", "Memory estimate vs measured peak", memory_rows),
                ("projection", "Alpaca's full run projected", projection_rows))
    lines: list[str] = []
    for name, title, rows in sections:
        if part(results, name) is not None:
            lines += [f"{title} ({made(results, name)})", *rows(results), ""]
    trainer = part(results, "trainer")
    if trainer is not None:
        lines += [f"Alpaca's Trainer + FSDP recipe ({made(results, 'trainer')})",
                  f"{trainer['steps']} steps, losses {trainer['losses']}, FSDP units {trainer['fsdp_units']}"]
    return lines
