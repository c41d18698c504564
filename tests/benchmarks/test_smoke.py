"""The benchmark scripts of the performance issue work and write what they promise.

Each script's core function runs at the tiniest size; only the structure of the output is
checked (phases adding up to the total, finite slopes, keys present), never a timing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import phases, presets, replan_scaling, scaling


def test_profile_by_phase_adds_up_to_the_total():
    sc = phases.scenario_for("small", "central_hill", 20, end="2023-08-31")
    res = phases.profile_run(sc)
    assert res["not_instrumented"] == [], (
        "the model no longer has these methods; update TARGETS in benchmarks/phases.py: "
        + ", ".join(res["not_instrumented"])
    )
    ph = res["phases"]
    assert set(ph) <= set(phases.PHASES)
    for name in ("construction", "shop", "book", "farm_sales", "ship", "replan", "indicators", "other"):
        assert name in ph, name
    total = sum(p["seconds"] for p in ph.values())
    assert total == pytest.approx(res["total_s"], rel=0.05)
    assert sum(p["share"] for p in ph.values()) == pytest.approx(1.0, rel=0.05)
    assert ph["shop"]["calls"] == res["weeks"]
    assert all(p["seconds"] >= 0 for name, p in ph.items() if name != "other")
    assert "total" in phases.format_phases(ph, res["total_s"])


def test_presets_profile_row_from_a_subprocess():
    row = presets.profile_row("small", "central_hill", 50, repeats=1, end="2023-07-31")
    assert {"phases", "profile_total_s", "profile_repeats", "not_instrumented"} <= set(row)
    assert sum(p["seconds"] for p in row["phases"].values()) == pytest.approx(row["profile_total_s"], rel=0.05)


def test_scaling_curves_table_json_and_chart(tmp_path: Path):
    dec = scaling.decision_curve([1_000, 2_000], repeats=1)
    run = scaling.run_curve([1_000, 2_000], repeats=1, end="2023-07-31", map_size="small", subprocesses=False)
    for curve, col in ((dec, "seconds_median"), (run, "ms_per_week_median")):
        assert len(curve["rows"]) == 2 and all(r[col] > 0 for r in curve["rows"])
        assert math.isfinite(curve["slope"])
    assert run["rows"][0]["weeks"] == 5 and run["rows"][0]["villages"] == 40
    assert scaling.loglog_slope([10, 100, 1000], [2, 20, 200]) == pytest.approx(1.0)
    assert math.isnan(scaling.loglog_slope([10], [1]))
    png = scaling.plot({"decision": dec, "full_run": run}, tmp_path / "fig" / "scaling.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "slope" in scaling.format_table({"decision": dec, "full_run": run})


def test_scaling_main_writes_json(tmp_path: Path):
    out = tmp_path / "scaling.json"
    rc = scaling.main(
        [
            "--decision-sizes",
            "1000",
            "2000",
            "--decision-repeats",
            "1",
            "--run-sizes",
            "--out",
            str(out),
            "--figure",
            "",
        ]
    )
    assert rc == 0
    data = json.loads(out.read_text())
    assert {"machine", "git_commit", "versions", "settings", "decision"} <= set(data)
    assert math.isfinite(data["decision"]["slope"])


def test_replan_scaling_row(tmp_path: Path):
    row = replan_scaling.measure(16, repeats=1, per_agent=20, solver=True, voluntary=True)
    assert row["villages"] == 16 and row["townships"] == 1 and row["carriers"] >= 1
    assert row["coalitions"] == 2 ** row["carriers"] - 1
    for key in ("heuristic_s", "kept_s", "solver_s", "settle_s", "replan_settle_s", "voluntary_settle_s"):
        assert row[key] is not None and row[key] >= 0, key
    assert row["settle_s"] <= row["replan_settle_s"]
    assert len(row["members"]) == row["carriers"]
    assert replan_scaling.format_row(row).split()[0] == "16"


def test_report_writes_one_block_of_tables_into_the_page(tmp_path: Path) -> None:
    from benchmarks.report import BEGIN, END, render, update_page

    page = tmp_path / "PERF.md"
    page.write_text("# Performance\n\nanalysis by hand\n")
    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    block = render(results)
    assert "| preset |" in block and "speed-up" in block
    update_page(page, block)
    update_page(page, render(tmp_path / "empty"))  # a second run replaces the block, keeps the rest
    text = page.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1 and "analysis by hand" in text
    assert "not measured yet" in text
