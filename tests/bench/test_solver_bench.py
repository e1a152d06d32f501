"""Quick variant of `python -m bench.solver`: one small NGRS example and one Curtois instance, real solves."""

from __future__ import annotations

import pytest

from bench import solver


def test_ngrs_example_row_is_truthful():
    row = solver.solve_example("ngrs_tiny", time_limit=2.0, workers=1)
    assert row["status"] in {"OPTIMAL", "FEASIBLE"}
    assert row["objective"] is not None and row["bound"] is not None and row["bound"] <= row["objective"]
    assert row["size"].endswith(" d") and row["size"].startswith("5 emp x ")
    assert row["wall s"] < 30


def test_infeasible_example_reports_infeasible():
    assert solver.solve_example("ngrs_infeasible", time_limit=2.0, workers=1)["status"] == "INFEASIBLE"


@pytest.mark.slow
def test_cli_prints_one_table_with_both_suites(capsys):
    assert solver.main(["--examples", "ngrs_tiny", "--curtois", "1", "--curtois-time-limit", "2"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("|")]
    assert len(lines) == 4  # header, rule, one NGRS row, one Curtois row
    assert "ngrs_tiny" in lines[2] and "Instance1" in lines[3]
    assert lines[3].rstrip(" |").endswith("ok")  # the independent evaluator found no hard violation
