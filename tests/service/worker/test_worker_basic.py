"""Worker basics with real `python -m service worker` processes running the real solver: a solve completes
with progress written at most once a second and its final progress equal to the result's numbers, solver
errors are recorded, live slots are counted in stats."""

from __future__ import annotations

import time

import orjson
import pytest

from loopback import Loopback
from worker_harness import curtois, healthy, long_solve, quick, wait_for

pytestmark = pytest.mark.slow


def test_real_solve_completes_with_progress_and_final_progress_matches_result(harness):
    harness.worker()
    job_id = harness.submit(**healthy(4.0))
    running = harness.wait_status(job_id, "running", timeout=20)
    assert running["starts"] == "1"
    st = wait_for(lambda: (s := harness.status(job_id)) and s["progress"] and s, 10, what="progress")
    assert st["status"] == "running" and st["progress"]["solutions"] > 0
    first = st["progress"]["updated_at"]
    done = harness.wait_status(job_id, "completed", timeout=20)
    assert done["starts"] == "1" and done["attempts"] == "1"
    status, result = harness.result(job_id)
    run = result["solverRun"]
    assert status == "completed" and run["status"] == "FEASIBLE" and result["assignments"]
    assert run["solutionsFound"] > 5  # a steady stream of incumbents, each one a progress event
    assert first is not None
    # the status's last progress is the result's, not an older incumbent's
    final = harness.status(job_id)["progress"]
    assert final["solutions"] == run["solutionsFound"]
    assert final["objective"] == run["objective"] and final["best_bound"] == run["bestBound"]
    assert final["elapsed_seconds"] == run["durationSeconds"]
    assert final["updated_at"] >= first
    stats = harness.store_call(lambda s: s.stats())
    assert stats["workers"] == 1 and stats["running"] == 0 and stats["queue_length"] == 0


def test_invalid_input_is_recorded_as_failed_without_retry(harness):
    harness.worker()
    job_id = harness.submit(orjson.dumps({"employees": "not a list"}))
    text = harness.submit(b"SECTION_HORIZON\nabc\n")  # a broken Curtois text instance
    done = harness.wait_status(job_id, ("failed", "completed"), timeout=30)
    assert done["status"] == "failed" and done["error_code"] == "INVALID_INPUT"
    assert "InputError" in done["error_message"] and "MISSING_FIELD" in done["error_message"]
    assert done["starts"] == "1"  # a solver error is an answer, not a crash: no retry
    done = harness.wait_status(text, ("failed", "completed"), timeout=30)
    assert done["status"] == "failed" and done["error_code"] == "INVALID_INPUT"
    assert "NOT_AN_INTEGER" in done["error_message"] and done["starts"] == "1"


def test_progress_written_at_most_once_per_interval(harness):
    harness.worker()
    job_id = harness.submit(**healthy(5.0))  # new incumbents several times a second
    harness.wait_status(job_id, "running", timeout=20)
    seen: list[float] = []
    while True:  # every progress write while running (the final one is written with the result)
        status, ts = harness.r.hmget(harness.keys.job(job_id), "status", "p_updated_at")
        if status != b"running":
            break
        if ts and (not seen or float(ts) != seen[-1]):
            seen.append(float(ts))
        time.sleep(0.02)
    assert len(seen) >= 3
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert min(gaps) >= harness.settings.progress_interval_seconds * 0.95, gaps
    _, result = harness.result(job_id)
    assert result["solverRun"]["solutionsFound"] > len(seen)  # incumbents came faster than the writes


def test_ecs_task_protection_follows_busy_state(harness):
    agent = Loopback()
    try:
        harness.worker(ECS_AGENT_URI=agent.url, ECS_PROTECTION_MINUTES=7)
        job_id = harness.submit(**quick())
        harness.wait_status(job_id, ("completed", "failed"), timeout=20)
        wait_for(lambda: len(agent.requests) >= 2, 10, what="protection on then off")
    finally:
        agent.close()
    bodies = [orjson.loads(r.body) for r in agent.requests]
    assert all(r.method == "PUT" and r.path == "/task-protection/v1/state" for r in agent.requests)
    assert bodies[0] == {"ProtectionEnabled": True, "ExpiresInMinutes": 7}
    assert bodies[1] == {"ProtectionEnabled": False}


def test_worker_reconciler_recovers_job_lost_from_stream(harness):
    job_id = harness.submit(**quick())
    sid = harness.r.hget(harness.keys.job(job_id), "stream_id")
    assert harness.r.xdel(harness.keys.stream, sid) == 1  # the XADD "lost in a failover"
    harness.worker(RECONCILE_INTERVAL_SECONDS=1)
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=20)
    assert done["status"] == "completed" and done["stream_id"] != sid.decode()


def test_in_process_pool_started_from_a_thread_solves_and_hands_back_on_stop(harness):
    """The API lifespan starts the pool from a worker thread (asyncio.to_thread) and stops it on shutdown."""
    import threading

    from service.worker.pool import start_worker_pool

    s = harness.settings.model_copy(update={"solver_workers": 2, "job_lease_seconds": 30.0})
    box = {}
    t = threading.Thread(target=lambda: box.update(pool=start_worker_pool(s)))
    t.start()
    t.join()  # the starting thread is gone, as with asyncio.to_thread; the slots must live on
    pool = box["pool"]
    try:
        quick_job = harness.submit(**quick())
        assert harness.wait_status(quick_job, ("completed", "failed"), timeout=20)["status"] == "completed"
        slow = harness.submit(**long_solve(30.0))
        harness.wait_started(slow, 1, timeout=10)
    finally:
        pool.stop(timeout=10)
    assert pool.alive() == 0
    job = harness.job(slow)
    assert job["status"] == "queued" and job["attempts"] == "0"  # handed back, attempt not burnt


def test_job_metrics_sent_when_enabled(harness):
    cw = Loopback()
    try:
        harness.worker(METRICS_ENABLED="true", METRICS_ENDPOINT_URL=cw.url, AWS_ACCESS_KEY_ID="test",
                       AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-1", DEPLOY_ENV="ci")
        job_id = harness.submit(**quick())
        harness.wait_status(job_id, ("completed", "failed"), timeout=20)
        wait_for(lambda: cw.requests, 10, what="PutMetricData for the job")
    finally:
        cw.close()
    body = cw.requests[0].body
    assert b"JobDurationSeconds" in body and b"JobsFailed" in body and b"NGRS/Solver" in body and b"ci" in body


def test_job_without_limit_is_stopped_gracefully_at_max_runtime(harness):
    harness.worker(JOB_MAX_RUNTIME_SECONDS=4, JOB_TIMEOUT_GRACE_SECONDS=10)
    # no job time limit, and a Curtois instance has none of its own: only the worker's stop can end this
    # solve. Instance5, whose optimum is not proven in 4 s; Instance2's now is (this test failed on it
    # with the code of 016348d too, which had passed CI before)
    job_id = harness.submit(curtois(5))
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=30)
    assert done["status"] == "completed"  # stopped with its best answer, not killed
    assert float(done["completed_at"]) - float(done["started_at"]) < 4 + 3
    _, result = harness.result(job_id)
    assert result["solverRun"]["status"] == "FEASIBLE" and result["solverRun"]["stoppedEarly"] is True
