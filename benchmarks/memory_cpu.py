"""The memory calculator against peak memory measured on this CPU: writes results/memory_cpu.json.

    python benchmarks/memory_cpu.py

Each configuration of ``alpaca_lessons.memory.CPU_CHECKS`` trains for two steps in a fresh float32 process;
its peak resident memory above a warmed-up baseline is compared with ``estimate(...).peak`` (the method is
in ``measure_peak_cpu``'s docstring). Lesson 06 reads the committed result.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch
import transformers

from alpaca_lessons.memory import check_on_cpu

OUT = Path(__file__).resolve().parent / "results" / "memory_cpu.json"


def main() -> int:
    results = check_on_cpu()
    for r in results:
        print(f"{r.name:48s} predicted {r.predicted / 2**20:7.1f} MiB  measured {r.measured / 2**20:7.1f} MiB  "
              f"error {r.error:+.1%}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "command": "python benchmarks/memory_cpu.py",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
        "method": "peak RSS (getrusage ru_maxrss) of a fresh process minus its RSS after a warm-up, "
                  "MALLOC_MMAP_THRESHOLD_=65536, one thread, float32, AdamW, two steps on random tokens",
        "results": [r.to_dict() for r in results],
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
