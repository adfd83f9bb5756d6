"""The memory calculator against peak memory measured on this CPU: writes results/memory_cpu.json.

    python benchmarks/memory_cpu.py

Each configuration of ``alpaca_lessons.training.memory.measure.CPU_CHECKS`` trains for two steps in a fresh
float32 process; its peak resident memory above a warmed-up baseline is compared with ``estimate(...).peak``
(the method is in ``measure_peak_cpu``'s docstring). Lesson 06b reads the committed result.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alpaca_lessons.common.results import write_result
from alpaca_lessons.training.memory.measure import check_on_cpu

OUT = Path(__file__).resolve().parent / "results" / "memory_cpu.json"
METHOD = ("resident-set high-water mark (VmHWM, reset through /proc/self/clear_refs after a warm-up) of a fresh "
          "process minus its resident size then; MALLOC_MMAP_THRESHOLD_=65536, one thread, float32, AdamW, "
          "two steps on random tokens")


def main() -> int:
    results = check_on_cpu()
    for r in results:
        print(f"{r.name:48s} predicted {r.predicted / 2**20:7.1f} MiB  measured {r.measured / 2**20:7.1f} MiB  "
              f"error {r.error:+.1%}")
    write_result(OUT, {"method": METHOD, "results": [r.to_dict() for r in results]},
                 "python benchmarks/memory_cpu.py", ("alpaca-lessons", "torch", "transformers", "peft"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
