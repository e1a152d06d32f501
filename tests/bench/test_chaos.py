"""Quick variant of `python -m bench.chaos`: 6 real jobs, 3 real workers, one SIGKILL of a busy worker, one
CLIENT KILL, two Redis restarts (SIGTERM, then SIGKILL; 7 s down each, AOF on) with submits during the
outages."""

from __future__ import annotations

import pytest

from bench import chaos


@pytest.mark.slow
def test_no_job_lost_and_one_start_per_job_except_the_killed_one():
    res = chaos.run_chaos(jobs=6, workers=3, kills=1, client_kills=1, redis_restarts=2, example="ngrs_020",
                          time_limit=2.0, seed=1, deadline=120.0)
    chaos.print_table(res)
    assert res["accepted"] == 6, res["events"]
    assert res["lost"] == 0, res
    assert res["completed"] == 6, res
    assert res["idempotency_violations"] == 0
    assert res["submit_5xx_not_503"] == 0, res["submit_answers"]
    assert res["unexplained_restarts"] == [], res
    assert len(res["killed_jobs"]) == 1
    starts = res["starts_histogram"]
    assert set(starts) <= {1, 2} and starts.get(1, 0) >= 5, starts  # only the killed job may start twice
    assert all(n in (1, 2) for n in res["killed_jobs_starts"].values())
    assert res["never_started_but_completed"] == []
    assert res["results_recorded_not_1"] == [], res  # exactly one accepted result per job
    assert res["tracebacks_in_logs"] == 0
