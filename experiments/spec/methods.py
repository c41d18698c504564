"""The sensitivity methods and the designs they can read: limits the design layer owns.

A design (:mod:`experiments.spec.design`) must be analysable by the method an experiment
asks for, so the rules that tie the two (which designs a method reads, eFAST's harmonics,
the smallest valid sample sizes) are stated here, in the spec layer, where both the spec's
checks and the analysis (:mod:`experiments.analysis.sensitivity`) read them.
"""

from __future__ import annotations

#: The sensitivity methods (SALib analysers) an experiment can be analysed with.
ANALYSIS_METHODS: tuple[str, ...] = ("sobol", "morris", "efast", "pawn", "delta")

#: The designs each method can read: Sobol', Morris and eFAST estimators rely on their own
#: sampler's structure; PAWN and delta take any random sample (not Morris's grid levels).
READS: dict[str, tuple[str, ...]] = {
    "sobol": ("sobol",),
    "morris": ("morris",),
    "efast": ("efast",),
    "pawn": ("lhs", "sobol", "efast"),
    "delta": ("lhs", "sobol", "efast"),
}

#: What an experiment's design is analysed with when its spec does not say.
DEFAULT_METHODS: dict[str, tuple[str, ...]] = {
    "sobol": ("sobol",),
    "morris": ("morris",),
    "efast": ("efast",),
    "lhs": ("pawn", "delta"),
}

#: eFAST's interference parameter M (harmonics summed per frequency), SALib's default: the
#: sampler (:mod:`experiments.spec.design`) and the analysis (:mod:`experiments.analysis.sensitivity`)
#: read it from here.
EFAST_HARMONICS = 4
#: eFAST needs more than 4·M² points per search curve (SALib's Nyquist condition).
EFAST_MIN = 4 * EFAST_HARMONICS**2 + 1
#: PAWN and delta estimate conditional distributions from the sample: fewer points than
#: this leave a handful per slice.
MIN_GIVEN_DATA = 20


def sample_size_error(method: str, n: int, k: int | None = None) -> str | None:
    """Why ``n`` is not a valid sample size for ``method`` (None if it is), with a valid n to try.

    Args:
        method: One of :data:`ANALYSIS_METHODS`.
        n: The method's sample size (Sobol': base sample N; Morris: trajectories; eFAST: points per
            search curve; PAWN and delta: sample points).
        k: Number of parameters (unused today; kept so callers say what they know).
    """
    if method == "sobol":
        if n < 4 or n & (n - 1):
            lo = 1 << max(2, n.bit_length() - 1) if n >= 4 else 4
            hi = lo * 2
            options = f"{lo} or {hi}" if n > 4 and lo != n else "4 or more"
            return f"Sobol' sequences need n to be a power of 2, at least 4 (got {n}; try {options})"
        return None
    if method == "morris":
        return f"Morris needs at least 2 trajectories (got {n}; try 2, better 10 or more)" if n < 2 else None
    if method == "efast":
        if n < EFAST_MIN:
            return (
                f"eFAST needs n above 4·M² = {EFAST_MIN - 1} points per search curve with M = {EFAST_HARMONICS} "
                f"(got {n}; try {EFAST_MIN} or more)"
            )
        return None
    if method in ("pawn", "delta"):
        if n < MIN_GIVEN_DATA:
            return f"{method} needs at least {MIN_GIVEN_DATA} sample points (got {n}; try {MIN_GIVEN_DATA} or more)"
        return None
    raise ValueError(f"unknown method {method!r}")
