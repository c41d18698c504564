"""Run an experiment and die at a chosen write, as a killed process would (used by
tests/experiments/test_faults.py; not a test itself).

Usage: python tests/experiments/fault_driver.py SPEC OUT K MODE
  K     the K-th atomic write (1-based) is where the fault strikes
  MODE  kill-before  SIGKILL before the write starts
        kill-mid     SIGKILL after half the bytes reached the temporary file
        kill-after   SIGKILL right after the file was renamed into place
        enospc       the write fails with "No space left on device"
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import tempfile
from pathlib import Path

from experiments.run import atomic

spec, out, k, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
real = atomic.write_bytes
calls = {"n": 0}


def faulty(path: str | Path, data: bytes) -> None:
    calls["n"] += 1
    if calls["n"] != k:
        return real(path, data)
    p = Path(path)
    if mode == "kill-before":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "kill-mid":
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, _ = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        os.write(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "kill-after":
        real(path, data)
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "enospc":
        raise OSError(errno.ENOSPC, "No space left on device", str(p))
    raise SystemExit(f"unknown mode {mode}")


atomic.write_bytes = faulty
from experiments.cli.main import main  # noqa: E402  (after the patch, so every writer uses it)

sys.exit(main(["experiment", spec, "--out", out, "--backend", "inprocess", "--progress", "off"]))
