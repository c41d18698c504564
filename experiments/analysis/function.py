"""Global sensitivity analysis of any Python function: draw a design, call the function on
it, and analyse its outputs (:func:`experiments.analysis.sensitivity.analyze_samples`).

Example::

    from experiments import analyze
    result = analyze(lambda p: p["a"] + 2 * p["b"], {"a": (0, 1), "b": (1, 5)}, method="sobol", n=1024)
    result.indices        # metric, parameter, S1, S1_conf, ST, ST_conf, ...
    print(result.verdict)  # was n enough?
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from experiments.analysis.checks import check_call
from experiments.analysis.convergence import DEFAULT_TOLERANCE
from experiments.analysis.salib_calls import draw
from experiments.analysis.sensitivity import HalfSample, SensitivityResult, analyze_samples
from experiments.spec.seeds import run_seed
from sim.errors import InputError

#: Where errors of :func:`analyze` say they come from.
SOURCE = "analyze"


def _takes_seed(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _as_outputs(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return {"output": float(value)}
    raise TypeError(f"the function must return a number or a dict of numbers, not {type(value).__name__}")


@dataclass
class _Calls:
    """Calls of the function over a sample: each point ``replicates`` times, with run seeds
    spawned from ``seed`` as an experiment's are; counts the calls made."""

    func: Callable[..., Any]
    names: list[str]
    seed: int
    replicates: int
    common_random_numbers: bool
    metrics: list[str] | None
    source: str
    with_seed: bool = False
    wanted: list[str] = field(default_factory=list)
    evaluations: int = 0

    def __post_init__(self) -> None:
        self.with_seed = _takes_seed(self.func)

    def __call__(self, x: np.ndarray, offset: int) -> dict[str, np.ndarray]:
        """Per metric, the (points × replicates) outputs at the sample ``x``, whose first point
        is point ``offset`` of the analysis (for its run seeds)."""
        out: dict[str, np.ndarray] = {}
        for i, row in enumerate(x):
            values = {p: float(v) for p, v in zip(self.names, row, strict=True)}
            for r in range(self.replicates):
                s = run_seed(int(self.seed), offset + i, r, self.common_random_numbers)
                result = _as_outputs(self.func(values, seed=s) if self.with_seed else self.func(values))
                if not self.wanted:
                    self._choose_metrics(result)
                if not out:
                    out = {m: np.full((len(x), self.replicates), np.nan) for m in self.wanted}
                for m in self.wanted:
                    out[m][i, r] = result.get(m, np.nan)
        self.evaluations += len(x) * self.replicates
        return out

    def _choose_metrics(self, result: dict[str, float]) -> None:
        self.wanted.extend(self.metrics if self.metrics is not None else list(result))
        missing = [m for m in self.wanted if m not in result]
        if missing:
            raise InputError(
                f"the function does not produce {', '.join(map(repr, missing))}; it produces {', '.join(result)}",
                self.source,
                "metrics",
            )


def analyze(
    func: Callable[..., Any],
    parameters: Mapping[str, tuple[float, float]],
    method: str = "sobol",
    n: int = 1024,
    seed: int = 7,
    *,
    replicates: int = 1,
    metrics: list[str] | None = None,
    second_order: bool = False,
    levels: int = 4,
    resamples: int = 200,
    conf_level: float = 0.95,
    tolerance: float = DEFAULT_TOLERANCE,
    common_random_numbers: bool = True,
) -> SensitivityResult:
    """Global sensitivity analysis of any Python function (an example is in the module docstring).

    Args:
        func: ``func(values) -> dict of outputs`` (or one number, called ``output``), where ``values`` maps each
            parameter to a float. If it takes a ``seed`` keyword it is called with a seed per replicate (spawned
            from ``seed`` like an experiment's run seeds), so stochastic functions are reproducible.
        parameters: ``{name: (low, high)}``, sampled uniformly.
        method: One of :data:`ANALYSIS_METHODS`.
        n: Sample size as the method counts it (see :mod:`experiments.analysis.sensitivity`).
        seed: Seed of the sample, the replicates' seeds and the bootstrap.
        replicates: Calls per sample point (different seeds), averaged before the analysis.
        metrics: Outputs to analyse (default: every output of the function).
        second_order: Sobol': also estimate S2 (needs N·(2k+2) calls instead of N·(k+2)).
        levels: Morris: grid levels (even).
        resamples: Bootstrap resamples for the intervals.
        conf_level: Confidence level of the intervals.
        tolerance: What the convergence check accepts (index change and interval half-width).
        common_random_numbers: Replicate r gets the same seed at every point (sharper differences between
            points), as in experiments.

    Raises:
        InputError: Unknown method, bad bounds, an n the method cannot use, a metric the function does not
            produce, or bad settings; the message names the field.
    """
    method, bounds = check_call(
        func, parameters, method, n, seed, replicates=replicates, levels=levels, resamples=resamples,
        conf_level=conf_level, tolerance=tolerance, source=SOURCE,
    )  # fmt: skip
    names = list(bounds)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(bounds[p]) for p in names]}
    calls = _Calls(func, names, int(seed), replicates, common_random_numbers, metrics, SOURCE)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,)))
    x = np.asarray(draw(method, problem, int(n), rng, second_order=second_order, levels=levels), dtype=float)
    outputs = calls(x, 0)
    result = analyze_samples(
        method, problem, x, outputs, int(n), second_order=second_order, levels=levels, resamples=resamples,
        conf_level=conf_level, tolerance=tolerance, seed=int(seed),
        half=_half_sample(calls, method, problem, int(n), int(seed), len(x)), source=SOURCE,
    )  # fmt: skip
    result.evaluations = calls.evaluations
    if replicates > 1 and not calls.with_seed:
        result.notes.append("the function takes no seed: its replicates differ only if it draws its own random numbers")
    return result


def _half_sample(
    calls: _Calls, method: str, problem: dict[str, Any], n: int, seed: int, offset: int
) -> Callable[[], HalfSample]:
    """eFAST's convergence check: a separate sample of n/2 points per curve (its own stream, and its
    own run seeds, numbered from ``offset``), drawn and evaluated once, when first asked for."""
    drawn: list[HalfSample] = []

    def half() -> HalfSample:
        if not drawn:
            hrng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
            hx = np.asarray(draw(method, problem, n // 2, hrng), dtype=float)
            drawn.append((hx, calls(hx, offset)))
        return drawn[0]

    return half
