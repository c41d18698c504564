"""Raw input data before validation: YAML files read safely, ``--set`` overrides applied,
non-finite numbers caught.

Every failure here is an :class:`~sim.errors.InputError` naming the file (or the command
line) and, where it can, the place, so that a researcher never sees a traceback for a
bad input. Scenario and criteria files are read the same way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError


def _parse_value(text: str) -> Any:
    """Parse a --set value the way YAML would (numbers, booleans, lists, null)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """Apply dotted-path overrides (``policy.store_upgrade_subsidy=0.5``) to raw scenario data.

    Unknown paths are not rejected here: validation afterwards names them with the
    allowed keys, exactly as for a bad key in the file.
    """
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else (_split_override(o) for o in overrides)
    for path, value in items:
        keys = path.split(".")
        node = data
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            elif not isinstance(nxt, dict):
                raise InputError(
                    f"cannot set '{path}': '{k}' is a value, not a section", source="command line", location=path
                )
            node = nxt
        node[keys[-1]] = value
    return data


def _split_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise InputError(f"override '{text}' must look like section.field=value", source="command line")
    path, value = text.split("=", 1)
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise InputError(f"override '{text}' has an empty field name", source="command line")
    return path, _parse_value(value)


def check_finite(data: Any, path: str, source: str) -> None:
    """Refuse NaN and infinities anywhere in raw data (YAML reads ``.nan`` and ``.inf`` as numbers),
    naming the dotted path of the first one."""
    if isinstance(data, float) and not math.isfinite(data):
        raise InputError(f"must be a finite number (got {data})", source=source, location=path)
    if isinstance(data, dict):
        for k, v in data.items():
            check_finite(v, f"{path}.{k}" if path else str(k), source)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            check_finite(v, f"{path}[{i}]", source)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader, turning every failure into an InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p)
    if p.is_dir():
        raise InputError("is a directory; a YAML file is expected", source=p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte {exc.start})", source=p) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=p) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"is not valid YAML: {problem}", source=p, location=where) from None
    if data is None:
        raise InputError("is empty; a scenario needs at least a name (all other fields have defaults)", source=p)
    if not isinstance(data, dict):
        raise InputError(
            f"must be a mapping of section: values at the top level, not a {type(data).__name__}", source=p
        )
    return data
