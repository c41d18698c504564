"""Atomic output: a file or a folder is either complete or absent, never half-written.

Readers (resume, reports, CI's golden comparison) treat the presence of a file as proof
that it is complete. Every writer in countysim therefore writes to a temporary name in
the same folder and renames it into place, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        # mkstemp makes owner-only files; give the result the usual permissions
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically, pretty-printed with sorted keys for stable diffs."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


@contextlib.contextmanager
def staged_dir(target: str | Path) -> Iterator[Path]:
    """Build a folder under a temporary name and move it to ``target`` only on success.

    If the body raises (or the process is killed), ``target`` is left as it was — the
    previous complete output, or nothing — and the staging folder is removed (or, after a
    kill, left under a hidden ``.staging`` name that no reader treats as output).
    """
    t = Path(target)
    t.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{t.name}.staging.", dir=t.parent))
    os.chmod(stage, 0o777 & ~_umask())
    try:
        yield stage
        if t.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{t.name}.old.", dir=t.parent))
            os.replace(t, old / "previous")
            os.replace(stage, t)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, t)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
