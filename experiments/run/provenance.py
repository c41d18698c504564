"""Where a result came from: package versions, git commit, machine.

Every output folder records these in its manifest so that a number can be traced to
the code and libraries that produced it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGES = ("countysim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "networkx", "matplotlib")


def versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the named distributions ("not installed" for a missing one)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    return versions(PACKAGES)


def git_commit() -> str:
    """The commit of the countysim checkout (with ``-dirty`` if it has local changes)."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, Any]:
    """A short description of the machine and Python."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }
