"""Levers: scenario fields an experiment varies, checked against the scenario schema.

A lever names a field by dotted path (``policy.store_upgrade_subsidy``) and gives its
values, a range or a distribution. Paths and ranges are checked against the scenario
schema when the spec is read, before any run: a typo or a range outside the field's
valid interval would otherwise surface as thousands of failed runs, or worse, as a
sweep that silently varies nothing.

Samplers work on the unit hypercube; :meth:`Lever.from_unit` maps a column of unit
coordinates to field values (inverse CDF for distributions, equal-width bins for value
lists and integer ranges), so every design method treats every kind of lever alike.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config import Scenario

FieldKind = Literal["float", "int", "bool", "choice", "date", "text", "path", "list", "other"]

#: Fields an experiment must not vary: the run seed comes from the experiment's seed tree.
RESERVED = {"seed": "the run seed is set by the experiment (its `seed` and `replicates`), not by a lever"}


@dataclass(frozen=True)
class FieldInfo:
    """What the scenario schema says about one leaf field.

    Attributes:
        path: Dotted path from the scenario's top level.
        kind: Value kind, for deciding which lever forms make sense.
        optional: Whether ``null`` is allowed.
        choices: Allowed values of a choice field.
        low, high: Bounds (None if unbounded); ``low_open``/``high_open`` when strict.
        unit: The field's unit from the schema.
    """

    path: str
    kind: FieldKind
    optional: bool
    choices: tuple[Any, ...] | None
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool
    unit: str

    def bounds_text(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"

    def admits(self, x: float) -> bool:
        """Whether a number lies within the field's bounds."""
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return not (self.high is not None and (x > self.high or (self.high_open and x == self.high)))


def _kind(annotation: Any) -> tuple[FieldKind, bool, tuple[Any, ...] | None]:
    args = typing.get_args(annotation)
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) != 1:
            return "other", optional, None
        annotation = rest[0]
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", optional, typing.get_args(annotation)
    if origin in (list, tuple):
        return "list", optional, None
    simple: dict[Any, FieldKind] = {
        bool: "bool",
        int: "int",
        float: "float",
        str: "text",
        dt.date: "date",
        Path: "path",
    }
    return simple.get(annotation, "other"), optional, None


def _walk(model: type[BaseModel], prefix: str, out: dict[str, FieldInfo]) -> None:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            _walk(ann, f"{path}.", out)
            continue
        kind, optional, choices = _kind(ann)
        low = high = None
        low_open = high_open = False
        for m in field.metadata:
            if isinstance(m, annotated_types.Ge):
                low = float(m.ge)
            elif isinstance(m, annotated_types.Gt):
                low, low_open = float(m.gt), True
            elif isinstance(m, annotated_types.Le):
                high = float(m.le)
            elif isinstance(m, annotated_types.Lt):
                high, high_open = float(m.lt), True
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        out[path] = FieldInfo(path, kind, optional, choices, low, high, low_open, high_open, str(extra.get("unit", "")))


@functools.cache
def scenario_fields() -> dict[str, FieldInfo]:
    """Every leaf field of the scenario schema by dotted path."""
    out: dict[str, FieldInfo] = {}
    _walk(Scenario, "", out)
    return out


def _sections() -> set[str]:
    paths = scenario_fields()
    return {p.rsplit(".", 1)[0] for p in paths if "." in p}


def field_info(path: str) -> FieldInfo:
    """The schema's description of ``path``.

    Raises:
        ValueError: The path is not a leaf field of the scenario; the message lists close
            matches (or the fields of the section that was named).
    """
    fields = scenario_fields()
    if path in RESERVED:
        raise ValueError(f"'{path}' cannot be a lever: {RESERVED[path]}")
    if path in fields:
        return fields[path]
    if path in _sections():
        inside = sorted(p for p in fields if p.startswith(path + "."))
        raise ValueError(f"'{path}' is a section, not a field; name one of its fields: {', '.join(inside)}")
    close = difflib.get_close_matches(path, list(fields), n=5, cutoff=0.6)
    if not close:
        section = path.split(".", 1)[0]
        close = sorted(p for p in fields if p.startswith(section + "."))[:12]
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ValueError(f"'{path}' is not a field of the scenario schema{hint} (`countysim schema` lists every field)")


class Distribution(BaseModel):
    """A probability distribution of a numeric lever, for sampling designs.

    Kinds: ``uniform`` (low, high), ``loguniform`` (low > 0, high), ``triangular``
    (low, mode, high), ``normal`` (mean, sd; optionally truncated to low/high).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["uniform", "loguniform", "triangular", "normal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        need = {
            "uniform": ("low", "high"),
            "loguniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
        }[self.kind]
        allowed = set(need) | ({"low", "high"} if self.kind == "normal" else set())
        given = {k for k in ("low", "high", "mode", "mean", "sd") if getattr(self, k) is not None}
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} distribution needs {', '.join(need)} (missing {', '.join(missing)})")
        if given - allowed:
            raise ValueError(f"a {self.kind} distribution takes only {', '.join(sorted(allowed))}")
        for k in given:
            if not math.isfinite(getattr(self, k)):
                raise ValueError(f"{k} must be a finite number")
        if self.kind == "normal" and (self.low is None) != (self.high is None):
            raise ValueError("a truncated normal needs both low and high")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.kind == "loguniform" and self.low is not None and self.low <= 0:
            raise ValueError("a loguniform distribution needs low > 0")
        if self.kind == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError("a triangular distribution needs low <= mode <= high")
        return self

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: unit coordinates to values."""
        from scipy import stats  # ~0.4 s to import: only sampled designs need it

        u = np.asarray(u, dtype=float)
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)  # type: ignore[operator]
        if self.kind == "loguniform":
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))  # type: ignore[arg-type]
        if self.kind == "triangular":
            width = self.high - self.low  # type: ignore[operator]
            return stats.triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)  # type: ignore[operator]
        if self.bounded:
            a = (self.low - self.mean) / self.sd  # type: ignore[operator]
            b = (self.high - self.mean) / self.sd  # type: ignore[operator]
            return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)
        # an untruncated normal maps 0 and 1 to -inf/inf: keep unit coordinates strictly inside
        return stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12), loc=self.mean, scale=self.sd)


class Lever(BaseModel):
    """One scenario field to vary, with exactly one of ``values``, ``range`` or ``distribution``.

    Attributes:
        path: Dotted path of the scenario field.
        values: Explicit values (any kind of field); in sampling designs, equal-probability choices.
        range: ``[low, high]`` of a numeric field: uniform in sampling designs, ``steps``
            evenly spaced values in a grid; integer fields take whole numbers.
        steps: Number of grid values over ``range``.
        distribution: A :class:`Distribution`, for sampling designs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    values: list[Any] | None = Field(None, min_length=1)
    range: tuple[float, float] | None = None
    steps: int | None = Field(None, ge=2, le=10_000)
    distribution: Distribution | None = None

    @model_validator(mode="after")
    def _check(self) -> Lever:
        forms = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(forms) != 1:
            raise ValueError(
                f"lever {self.path}: give exactly one of values, range or distribution"
                + (f" (got {', '.join(forms)})" if forms else "")
            )
        info = field_info(self.path)
        if self.steps is not None and self.range is None:
            raise ValueError(f"lever {self.path}: steps applies only to a range")
        if self.values is not None:
            if info.kind == "bool" and not all(isinstance(v, bool) for v in self.values):
                raise ValueError(f"lever {self.path}: a switch takes the values true and false (got {self.values})")
            if info.kind == "choice":
                bad = [v for v in self.values if v not in info.choices and not (v is None and info.optional)]
                if bad:
                    allowed = ", ".join(map(str, info.choices or ()))
                    raise ValueError(f"lever {self.path}: {bad} not among the allowed values {allowed}")
            return self
        if info.kind not in ("float", "int"):
            raise ValueError(
                f"lever {self.path}: a range or distribution needs a numeric field, but this field is {info.kind}; "
                "list its values instead"
            )
        if self.range is not None:
            low, high = self.range
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError(f"lever {self.path}: range bounds must be finite numbers")
            if low >= high:
                raise ValueError(
                    f"lever {self.path}: range low ({low:g}) must be below high ({high:g})"
                    + ("; to fix a value, set it in the base overrides" if low == high else "")
                )
            if info.kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
                raise ValueError(f"lever {self.path}: an integer field needs a range of whole numbers")
            ends = (low, high)
        else:
            d = self.distribution
            assert d is not None
            if not d.bounded and (info.low is not None or info.high is not None):
                raise ValueError(
                    f"lever {self.path}: a normal distribution is unbounded but the field's valid range is "
                    f"{info.bounds_text()}; give low and high to truncate it"
                )
            ends = (d.low, d.high) if d.bounded else ()
        for x in ends:
            if not info.admits(float(x)):  # type: ignore[arg-type]
                raise ValueError(
                    f"lever {self.path}: {x:g} is outside the field's valid range {info.bounds_text()}"
                    + (f" ({info.unit})" if info.unit else "")
                )
        return self

    @property
    def info(self) -> FieldInfo:
        return field_info(self.path)

    def grid_values(self) -> list[Any]:
        """The values this lever takes in a grid."""
        if self.values is not None:
            return list(self.values)
        if self.range is None or self.steps is None:
            raise ValueError(
                f"lever {self.path}: a grid needs values, or a range with steps "
                "(distributions are for sampling designs: lhs, sobol, morris, efast)"
            )
        xs = np.linspace(self.range[0], self.range[1], self.steps)
        if self.info.kind == "int":
            ints = [round(float(x)) for x in xs]
            if len(set(ints)) != len(ints):
                raise ValueError(
                    f"lever {self.path}: {self.steps} steps over {self.range[0]:g}..{self.range[1]:g} repeat "
                    "whole numbers; use fewer steps or list the values"
                )
            return ints
        return [float(x) for x in xs]

    def bounded(self) -> bool:
        """Whether every unit coordinate, 0 and 1 included, maps to a finite value."""
        return self.distribution is None or self.distribution.bounded

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map unit coordinates in [0, 1] to this lever's values (plain Python scalars)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            k = len(self.values)
            idx = np.minimum((u * k).astype(np.int64), k - 1)
            return [self.values[int(i)] for i in idx]
        is_int = self.info.kind == "int"
        if self.range is not None:
            low, high = self.range
            if is_int:
                n = int(high - low) + 1
                return [int(low) + int(i) for i in np.minimum((u * n).astype(np.int64), n - 1)]
            return [float(x) for x in low + u * (high - low)]
        assert self.distribution is not None
        xs = self.distribution.ppf(u)
        return [round(float(x)) for x in xs] if is_int else [float(x) for x in xs]
