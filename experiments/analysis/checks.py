"""Checks of a sensitivity analysis's inputs, each failing with an :class:`InputError` that
names the field (the method, the bounds, the bootstrap settings, the call of
:func:`experiments.analysis.function.analyze`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from experiments.spec.methods import ANALYSIS_METHODS, sample_size_error
from sim.errors import InputError


def check_method(method: Any, source: str) -> str:
    """``method`` if it is one of :data:`ANALYSIS_METHODS`."""
    if method not in ANALYSIS_METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(ANALYSIS_METHODS)}", source, "method")
    return str(method)


def check_parameters(parameters: Any, source: str) -> dict[str, tuple[float, float]]:
    """``{name: (low, high)}`` with finite bounds, low below high."""
    if not isinstance(parameters, Mapping) or not parameters:
        raise InputError("give at least one parameter as {name: (low, high)}", source, "parameters")
    out: dict[str, tuple[float, float]] = {}
    for name, bounds in parameters.items():
        where = f"parameters.{name}"
        if not isinstance(name, str) or not name:
            raise InputError(f"parameter names must be non-empty strings (got {name!r})", source, "parameters")
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise InputError(f"bounds must be two numbers (low, high) (got {bounds!r})", source, where) from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(f"bounds must be finite numbers (got {bounds!r})", source, where)
        if not low < high:
            raise InputError(
                f"low ({low:g}) must be below high ({high:g})"
                + ("; a parameter that does not vary has no sensitivity: leave it out" if low == high else ""),
                source,
                where,
            )
        out[name] = (low, high)
    return out


def check_settings(resamples: Any, conf_level: Any, tolerance: Any, source: str) -> None:
    """Bootstrap resamples (at least 10), a confidence level in (0, 1), a tolerance in (0, 1]."""
    if not isinstance(resamples, int | np.integer) or isinstance(resamples, bool) or resamples < 10:
        raise InputError(f"resamples must be a whole number of at least 10 (got {resamples!r})", source, "resamples")
    if not isinstance(conf_level, float | int) or not 0 < float(conf_level) < 1:
        raise InputError(f"conf_level must lie strictly between 0 and 1 (got {conf_level!r})", source, "conf_level")
    if not isinstance(tolerance, float | int) or not 0 < float(tolerance) <= 1:
        raise InputError(f"tolerance must lie in (0, 1] (got {tolerance!r})", source, "tolerance")


def check_call(
    func: Any,
    parameters: Any,
    method: Any,
    n: Any,
    seed: Any,
    *,
    replicates: Any,
    levels: Any,
    resamples: Any,
    conf_level: Any,
    tolerance: Any,
    source: str,
) -> tuple[str, dict[str, tuple[float, float]]]:
    """Every argument of an ``analyze`` call, in the order its errors are reported; returns
    the method and the bounds."""
    method = check_method(method, source)
    bounds = check_parameters(parameters, source)
    if not callable(func):
        raise InputError(f"func must be callable (got {type(func).__name__})", source, "func")
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise InputError(f"n must be a whole number (got {n!r})", source, "n")
    why = sample_size_error(method, int(n))
    if why:
        raise InputError(why, source, "n")
    if not isinstance(replicates, int) or replicates < 1:
        raise InputError(f"replicates must be a whole number of at least 1 (got {replicates!r})", source, "replicates")
    if method == "morris" and (not isinstance(levels, int) or levels < 2 or levels % 2):
        raise InputError(f"Morris needs an even number of levels, at least 2 (got {levels!r})", source, "levels")
    check_settings(resamples, conf_level, tolerance, source)
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number (got {seed!r})", source, "seed")
    return method, bounds
