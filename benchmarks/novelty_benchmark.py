"""The novelty filter at Alpaca scale: rouge-score's filter and the fast one side by side, then the fast one
on all 52,002 Alpaca instructions.

1. Both filters run over the same prefix of ``alpaca_data`` (file order, pool starting from the 175 seed
   tasks), long enough that the reference takes a minute or more; every result (decision, max score,
   top-k list) must be identical, else the script exits with status 1.
2. The fast filter runs over all 52,002 instructions, with ``--top-k`` and again with ``top_k=0``
   (decision and max score only), reporting how many pairs it decided without computing an LCS.

Results go to ``benchmarks/results/novelty.json`` (``alpaca_lessons.common.results.provenance``, load average,
times, and (pool size, seconds, pairs) series for the lesson's plot) and the plot to
``figures/novelty_benchmark.png``. The machine is shared: run it when ``uptime`` shows a low load.

    ALPACA_LESSONS_DATA=../shared/data python benchmarks/novelty_benchmark.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from alpaca_lessons.common.plots import novelty_benchmark_figure, save_figure
from alpaca_lessons.common.results import provenance
from alpaca_lessons.data import read_records, read_seed_tasks
from alpaca_lessons.generation.novelty import NoveltyFilter, NoveltyResult, ReferenceNoveltyFilter

RESULTS = Path(__file__).resolve().parent / "results" / "novelty.json"


def timed_run(novelty: NoveltyFilter | ReferenceNoveltyFilter, candidates: list[str], every: int,
              label: str) -> tuple[list[NoveltyResult], dict]:
    """``consider`` each candidate in order; wall and CPU seconds, and a [pool size, seconds, pairs]
    point every ``every`` candidates (pairs: candidate-entry pairs the reference would score)."""
    results, pairs, series = [], 0, [[len(novelty), 0.0, 0]]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for i, candidate in enumerate(candidates, start=1):
        pairs += len(novelty)
        results.append(novelty.consider(candidate))
        if i % every == 0 or i == len(candidates):
            series.append([len(novelty), round(time.perf_counter() - start_wall, 4), pairs])
            print(f"\r{label}: {i:,}/{len(candidates):,} candidates, pool {len(novelty):,}, "
                  f"{series[-1][1]:.1f} s", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    timing = {"seconds": round(time.perf_counter() - start_wall, 3),
              "cpu_seconds": round(time.process_time() - start_cpu, 3),
              "kept": sum(r.keep for r in results), "rejected": sum(not r.keep for r in results),
              "pairs": pairs, "series": series}
    return results, timing


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=int, default=2500, help="candidates both filters run (default 2500)")
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="time only this many for the full run (a smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    instructions = [r.instruction for r in read_records("alpaca_data")][: args.limit]
    seeds = [t.instruction for t in read_seed_tasks("seed_tasks")]
    options = {"threshold": args.threshold, "top_k": args.top_k}
    report: dict = {
        **provenance(" ".join([Path(sys.executable).name, *sys.argv]), ("numpy", "rouge-score")),
        "data": {"candidates": "alpaca_data (file order)", "seeds": f"seed_tasks ({len(seeds)})"},
        "options": options, "load_average": {"start": load()},
    }

    prefix = instructions[: args.prefix]
    expected, reference = timed_run(ReferenceNoveltyFilter(seeds, **options), prefix, 100, "rouge-score")
    found, fast = timed_run(NoveltyFilter(seeds, **options), prefix, 100, "fast")
    mismatches = [i for i, (a, b) in enumerate(zip(expected, found, strict=True)) if a != b]
    report["load_average"]["after_prefix"] = load()
    report["prefix"] = {
        "candidates": len(prefix), "identical": not mismatches, "mismatches": len(mismatches),
        "reference_seconds": reference["seconds"], "fast_seconds": fast["seconds"],
        "ratio": round(reference["seconds"] / fast["seconds"], 1),
        "reference_us_per_pair": round(reference["seconds"] / reference["pairs"] * 1e6, 2),
        "kept": fast["kept"], "rejected": fast["rejected"], "pairs": fast["pairs"],
        "cpu_seconds": {"reference": reference["cpu_seconds"], "fast": fast["cpu_seconds"]},
        "series": {"reference": reference["series"], "fast": fast["series"]},
    }
    print(f"prefix of {len(prefix):,}: rouge-score {reference['seconds']:.1f} s, fast {fast['seconds']:.2f} s, "
          f"{report['prefix']['ratio']:,}x; results identical: {not mismatches} ({len(mismatches)} differ)")

    for key, top_k in (("full", args.top_k), ("full_top_k_0", 0)):
        novelty = NoveltyFilter(seeds, threshold=args.threshold, top_k=top_k)
        _, full = timed_run(novelty, instructions, 1000, f"fast, top_k={top_k}")
        stats = novelty.stats
        report["load_average"][f"after_{key}"] = load()
        report[key] = {
            "candidates": len(instructions), "top_k": top_k, "seconds": full["seconds"],
            "cpu_seconds": full["cpu_seconds"], "kept": full["kept"], "rejected": full["rejected"],
            "pairs": stats.pairs, "pairs_without_lcs": stats.without_lcs, "lcs": stats.lcs,
            "overlaps_counted": stats.overlaps, "share_without_lcs": round(stats.without_lcs / stats.pairs, 6),
            "series": full["series"],
        }
        print(f"all {len(instructions):,}, top_k={top_k}: {full['seconds']:.1f} s, kept {full['kept']:,}, "
              f"rejected {full['rejected']:,}; {stats.pairs:,} pairs, {stats.without_lcs:,} "
              f"({stats.without_lcs / stats.pairs:.4%}) decided without an LCS, {stats.lcs:,} LCS")
    extrapolated = report["full"]["pairs"] * reference["seconds"] / reference["pairs"]
    report["full"]["reference_extrapolated_seconds"] = round(extrapolated)
    print(f"rouge-score on all of them, extrapolated from its time per pair: {extrapolated / 3600:.1f} h")
    print(f"load average (1, 5, 15 min): {report['load_average']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out} and {save_figure(novelty_benchmark_figure(report), 'novelty_benchmark')}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
