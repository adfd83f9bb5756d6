"""Another process holding a file's writer lock, for the tests of everything that takes one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOLD = ("import sys, time\nfrom alpaca_lessons.common.store import WriterLock\n"
        "lock = WriterLock(sys.argv[1])\nprint('held', flush=True)\ntime.sleep(120)\n")


@contextlib.contextmanager
def held_elsewhere(path: str | Path) -> Iterator[subprocess.Popen]:
    """A separate Python process that takes the writer lock on ``path`` and keeps it until the block
    ends (then it is killed with SIGKILL, which does not run its cleanup)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "held\n", process.stderr.read()
        yield process
    finally:
        process.kill()
        process.communicate()
