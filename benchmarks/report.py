"""Write the latest benchmark numbers into docs/PERFORMANCE.md.

``make bench`` runs every benchmark (each writes ``benchmarks/results/<name>.json``) and
then this script, which renders those files as tables into the block of
``docs/PERFORMANCE.md`` between ``<!-- bench:begin -->`` and ``<!-- bench:end -->``. The
rest of the page (what the numbers mean, which targets are met and why) is written by
hand and left alone, so a re-run refreshes the numbers without losing the analysis.
Usage::

    python -m benchmarks.report [--results benchmarks/results] [--page docs/PERFORMANCE.md]

A result file that is missing is reported as such in the block rather than failing:
``make bench`` may be run in parts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from experiments.run import atomic

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _presets(d: dict[str, Any]) -> str:
    rows = []
    for r in d["results"]:
        top = sorted(r.get("phases", {}).items(), key=lambda kv: -kv[1]["seconds"])[:4]
        rows.append(
            [
                r["size"],
                f"{r['households']:,}",
                f"{r['total_s_median']:.2f} s ({r['total_s_min']:.2f}–{r['total_s_max']:.2f})",
                f"{r['ms_per_week']:.1f} ms",
                f"{r['peak_rss_mb']:.0f} MB",
                ", ".join(f"{k} {v['share']:.0%}" for k, v in top) or "–",
            ]
        )
    head = ["preset", "households", "total (median)", "per week", "peak memory", "largest phases"]
    return _table(head, rows)


def _decision(d: dict[str, Any]) -> str:
    rows = [
        [
            f"{r['households']:,}",
            f"{r['vectorised_s_median'] * 1000:.1f} ms",
            f"{r['decisions_per_s'] / 1e6:.1f} M",
            f"{r['plain_s_median']:.2f} s",
            f"{r['speedup']:.0f}×",
        ]
        for r in d["results"]
    ]
    return _table(["households", "vectorised", "decisions/s", "plain Mesa", "speed-up"], rows)


def _scaling(d: dict[str, Any]) -> str:
    dec = _table(
        ["households", "decision (median)", "decisions/s"],
        [
            [f"{r['households']:,}", f"{r['seconds_median'] * 1000:.2f} ms", f"{r['decisions_per_s'] / 1e6:.1f} M"]
            for r in d["decision"]["rows"]
        ],
    )
    full = _table(
        ["households", "villages", "per week (median)", "build", "peak memory"],
        [
            [
                f"{r['households']:,}",
                str(r["villages"]),
                f"{r['ms_per_week_median']:.1f} ms",
                f"{r['build_s_median']:.2f} s",
                f"{r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else "–",
            ]
            for r in d["full_run"]["rows"]
        ],
    )
    return (
        f"{dec}\n\nLog-log slope {d['decision']['slope']:.2f} (1 = linear).\n\n{full}\n\n"
        f"Log-log slope of time per week {d['full_run']['slope']:.2f}. Chart: `docs/figures/scaling.png`."
    )


def _replan(d: dict[str, Any]) -> str:
    def s(r: dict[str, Any], key: str) -> str:
        return f"{r[key]:.3f} s" if r.get(key) is not None else "–"

    rows = [
        [
            str(r["villages"]),
            str(r["townships"]),
            s(r, "heuristic_s"),
            s(r, "solver_s"),
            s(r, "settle_s"),
            s(r, "voluntary_settle_s"),
        ]
        for r in d["results"]
    ]
    head = ["villages", "townships", "re-plan, heuristic", "re-plan, solver", "settlement (Shapley)", "voluntary"]
    return _table(head, rows)


def _routing(d: dict[str, Any]) -> str:
    return (
        f"{d['instances']} instances: gap of the heuristic to the solver mean {d['gap_mean']:.2%}, median "
        f"{d['gap_median']:.2%}, worst {d['gap_max']:.2%}; heuristic {d['heuristic_ms']:.1f} ms, solver "
        f"{d['solver_ms']:.1f} ms per instance."
    )


def _runner(d: dict[str, Any]) -> str:
    r = d["results"]
    rows = [[k, f"{v:.2f}"] for k, v in r["throughput_runs_per_s"].items()]
    return (
        _table(["backend", "runs/s"], rows)
        + f"\n\nParallel efficiency, 2 processes over 1: {r['parallel_efficiency_processes']:.0%}; runner "
        f"overhead {r['overhead_direct_s_per_run'] * 1000:.1f} ms per run ({r['overhead_direct_share']:.1%})."
    )


SECTIONS: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
    ("presets", "Full runs of the size presets", _presets),
    ("household_decision", "Household decision, vectorised vs plain Mesa", _decision),
    ("scaling", "Scaling with the number of households", _scaling),
    ("replan_scaling", "Re-planning and co-distribution settlement as villages grow", _replan),
    ("routing_gap", "Route heuristic against the solver", _routing),
    ("runner", "Experiment runner", _runner),
]


def render(folder: Path) -> str:
    """The generated block: machine and commit, then one table per result file."""
    parts = [BEGIN, "", "*Generated by `python -m benchmarks.report` from `benchmarks/results/` (`make bench`).*", ""]
    for name, title, fn in SECTIONS:
        d = _load(folder, name)
        parts.append(f"**{title}** (`{name}.json`)")
        parts.append("")
        if d is None:
            parts.append("not measured yet")
        else:
            m = d.get("machine", {})
            parts.append(
                f"*{m.get('cpus', '?')} CPUs, {m.get('platform', '?')}, Python {m.get('python', '?')}; "
                f"git {str(d.get('git_commit', '?'))[:12]}*"
            )
            parts.append("")
            parts.append(fn(d))
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def update_page(page: Path, block: str) -> None:
    """Replace the generated block of ``page`` (or append one), atomically."""
    text = page.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Latest benchmark numbers\n\n" + block + "\n"
    atomic.write_text(page, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="benchmarks/results")
    ap.add_argument("--page", default="docs/PERFORMANCE.md")
    args = ap.parse_args(argv)
    update_page(Path(args.page), render(Path(args.results)))
    print(f"benchmark numbers written into {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
