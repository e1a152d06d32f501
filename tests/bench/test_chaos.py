"""Quick variant of `python -m bench.chaos`: 8 real jobs, 3 real workers, one SIGKILL of a busy worker, one
CLIENT KILL, one DELETE of a queued job, one SIGSTOP of a busy worker for longer than its lease (fencing), one SIGTERM (hand-off), two Redis restarts (SIGTERM, then SIGKILL; 7 s down each, AOF on) with submits during the
outages."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import chaos


@pytest.mark.slow
def test_no_job_lost_and_one_start_per_job_except_killed_frozen_or_handed_back():
    res = chaos.run_chaos(jobs=10, workers=3, kills=1, client_kills=1, redis_restarts=2, cancels=1, pauses=1,
                          terms=1, example="ngrs_020", time_limit=4.0, seed=21, deadline=120.0)  # 21: DELETE first
    chaos.print_table(res)
    assert res["accepted"] == 10, res["events"]
    assert res["lost"] == 0, res
    assert res["completed"] + res["cancelled"] == 10 and res["cancelled"] <= 1, res
    assert len(res["cancels"]) == 1 and res["cancel_violations"] == [], (res["cancels"], res["events"])
    assert res["idempotency_violations"] == 0
    assert res["submit_5xx_not_503"] == 0, res["submit_answers"]
    assert res["unexplained_restarts"] == [], res
    assert len(res["killed_jobs"]) == 1
    starts = res["starts_histogram"]
    # A job restarts only because a fault hit it while it ran (SIGKILL, SIGSTOP past the lease, SIGTERM): at most
    # one extra start per fault; the chaos schedule may hit the same job twice. Every other job starts exactly
    # once, except the one cancelled while queued, which never starts.
    faults = Counter()
    for key in ("killed_jobs_starts", "paused_jobs_starts", "termed_jobs_starts"):
        faults.update(res[key].keys())
    hit = {**res["killed_jobs_starts"], **res["paused_jobs_starts"], **res["termed_jobs_starts"]}
    assert len(res["paused_jobs_starts"]) == 1 and len(res["termed_jobs_starts"]) == 1, res["events"]
    for job_id, n in hit.items():
        assert 1 <= n <= 1 + faults[job_id], (job_id, n, res["events"])
    restarted_jobs = sum(count for n_starts, count in starts.items() if n_starts >= 2)
    assert restarted_jobs <= len(hit) and starts.get(0, 0) <= 1, starts
    assert sum(count for n_starts, count in starts.items() if n_starts == 1) >= 10 - 1 - len(hit), starts
    # SIGTERM hands the job back at once (well inside the 10 s lease) without burning an attempt, unless the
    # solve finished while the worker was stopping (then it is recorded there: one start)
    for job_id, n in res["termed_jobs_starts"].items():
        if faults[job_id] > 1:
            continue  # also killed or frozen: its start count is bounded above
        if n == 2:
            assert len(res["handoff_seconds"]) == 1 and res["handoff_seconds"][0] < 8, res["events"]
            assert res["termed_jobs_attempts"][job_id] == 1, res
        else:
            assert n == 1 and not res["handoff_seconds"], res["events"]
    assert res["never_started_but_completed"] == []
    assert res["results_recorded_not_1"] == [], res  # exactly one accepted result per job
    assert res["tracebacks_in_logs"] == 0
