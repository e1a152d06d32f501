"""Quick variant of `python -m bench.solver`: small NGRS examples and one Curtois instance, real solves
through the solver engineer's runners, merged into one table."""

from __future__ import annotations

import pytest

from bench import solver


@pytest.mark.slow
def test_ngrs_rows_are_truthful_and_checked():
    rows = {r["instance"]: r for r in solver.ngrs_rows(["ngrs_tiny", "ngrs_infeasible"], time_limit=2.0, workers=1)}
    assert set(rows) == {"ngrs_tiny", "ngrs_infeasible"}
    tiny = rows["ngrs_tiny"]
    assert tiny["status"] in {"OPTIMAL", "FEASIBLE"}
    assert tiny["bound"] is not None and tiny["bound"] <= tiny["objective"]
    assert tiny["check"] == "ok"  # the independent checker accepts the roster
    assert rows["ngrs_infeasible"]["status"] == "INFEASIBLE"


def test_markdown_parser_reads_header_keyed_rows():
    text = "# title\n| a | b c |\n|---|---|\n| 1 | x |\n| 2 | y |\n"
    assert solver._markdown_rows(text) == [{"a": "1", "b c": "x"}, {"a": "2", "b c": "y"}]
    assert solver._num("12") == 12 and solver._num("1.5") == 1.5 and solver._num("-") is None


@pytest.mark.slow
def test_cli_prints_one_table_with_both_suites(capsys):
    assert solver.main(["--examples", "ngrs_tiny", "--curtois", "1", "--curtois-time-limit", "2"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("|")]
    assert len(lines) == 4  # header, rule, one NGRS row, one Curtois row
    assert "ngrs_tiny" in lines[2] and "Instance1" in lines[3]
    assert lines[2].rstrip(" |").endswith("ok") and lines[3].rstrip(" |").endswith("ok")
