"""Quick variant of `python -m bench.load`: tens of real submits of the 200-employee input through a real API
subprocess and Redis, then stats latency with 10 vs 3,000 jobs (a loose bound: it must not scale with jobs)."""

from __future__ import annotations

import pytest

from bench import load


@pytest.mark.slow
def test_submits_succeed_and_stats_do_not_grow_with_jobs(capsys):
    res = load.run_load(rates=[10.0], seconds=2.0, jobs=3000, input_path=load.DEFAULT_INPUT, stats_n=60)
    post = [r for r in res["submit"] if r["operation"].startswith("POST")]
    base = [r for r in res["submit"] if r["operation"].startswith("XADD")]
    assert post and base
    assert post[0]["n"] == 20 and post[0]["ok"] == 20 and post[0]["errors"] == 0, post
    assert base[0]["errors"] == 0
    assert post[0]["api_cpu_ms"] is None or post[0]["api_cpu_ms"] > 0  # measured from /proc on Linux
    small, large = res["stats"]
    assert small["jobs_in_redis"] <= 12  # the 10 seeded (+ none from warm-up: those come later)
    assert large["jobs_in_redis"] >= 3000
    # O(1): thousands of jobs more must not multiply the latency (generous: the machine is shared)
    assert large["p50_ms"] < 5 * small["p50_ms"] + 5, res["stats"]
    load.print_tables(res)
    out = capsys.readouterr().out
    assert "POST /solve/async" in out and "3,0" in out
