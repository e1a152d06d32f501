"""Quick variant of `python -m bench.chaos`: 8 real jobs, 3 real workers, one SIGKILL of a busy worker, one
CLIENT KILL, one DELETE of a queued job, one SIGSTOP of a busy worker for longer than its lease (fencing), two Redis restarts (SIGTERM, then SIGKILL; 7 s down each, AOF on) with submits during the
outages."""

from __future__ import annotations

import pytest

from bench import chaos


@pytest.mark.slow
def test_no_job_lost_and_one_start_per_job_except_the_killed_one():
    res = chaos.run_chaos(jobs=8, workers=3, kills=1, client_kills=1, redis_restarts=2, cancels=1, pauses=1,
                          example="ngrs_020", time_limit=2.0, seed=7, deadline=120.0)  # seed 7: DELETE first
    chaos.print_table(res)
    assert res["accepted"] == 8, res["events"]
    assert res["lost"] == 0, res
    assert res["completed"] + res["cancelled"] == 8 and res["cancelled"] <= 1, res
    assert len(res["cancels"]) == 1 and res["cancel_violations"] == [], (res["cancels"], res["events"])
    assert res["idempotency_violations"] == 0
    assert res["submit_5xx_not_503"] == 0, res["submit_answers"]
    assert res["unexplained_restarts"] == [], res
    assert len(res["killed_jobs"]) == 1
    starts = res["starts_histogram"]
    assert set(starts) <= {0, 1, 2} and starts.get(2, 0) <= 2 and starts.get(0, 0) <= 1, starts
    # only the killed and the paused job may start twice; only a job cancelled while queued may never start
    assert len(res["paused_jobs_starts"]) == 1 and all(n in (1, 2) for n in res["paused_jobs_starts"].values())
    assert all(n in (1, 2) for n in res["killed_jobs_starts"].values())
    assert res["never_started_but_completed"] == []
    assert res["results_recorded_not_1"] == [], res  # exactly one accepted result per job
    assert res["tracebacks_in_logs"] == 0
