"""``experiments.analyze_experiment``: analyse an experiment folder, then draw its figures.

The analysis (:func:`experiments.analysis.analyze.analyze_folder`) computes and writes the
tables and draws nothing; the figures (:func:`experiments.report.analysis_figures.analysis_figures`)
are drawn from the :class:`~experiments.analysis.analyze.AnalysisSummary` it returns. This
thin composition lives in the report layer because it is the first layer that may use both:
the analysis layer stays free of matplotlib, and neither half reads the folder twice. The
public facade (``experiments``), ``countysim analyze`` and ``countysim experiment`` call it.
"""

from __future__ import annotations

from pathlib import Path

from experiments.analysis.analyze import AnalysisSummary, analyze_folder


def analyze_experiment(
    folder: str | Path,
    *,
    methods: list[str] | None = None,
    resamples: int | None = None,
    tolerance: float | None = None,
    conf_level: float | None = None,
    targets: bool | None = None,
    figures: bool = True,
) -> AnalysisSummary:
    """Analyse an experiment folder and write the results into it.

    Writes the tables of :func:`~experiments.analysis.analyze.analyze_folder` (sensitivity,
    attainment, PRIM boxes, frontier) and then, with ``figures``, the figures of
    :mod:`experiments.report.analysis_figures` into ``folder/figures``.

    Args:
        folder, methods, resamples, tolerance, conf_level, targets: As for
            :func:`~experiments.analysis.analyze.analyze_folder`.
        figures: Draw figures into ``folder/figures``.

    Raises:
        InputError: Not an experiment folder, no finished runs, or a method the design
            cannot feed; the message names the folder and the option.
    """
    summary = analyze_folder(
        folder, methods=methods, resamples=resamples, tolerance=tolerance, conf_level=conf_level, targets=targets
    )
    if figures:
        # matplotlib and the CJK font load only when figures are drawn: `import experiments`
        # and `countysim analyze --no-figures` stay quick
        from experiments.report.analysis_figures import analysis_figures

        summary.files += analysis_figures(summary)
    return summary
