"""Reliability properties 1-7, 9, 10 of DESIGN.md with real worker processes, real Redis, real signals and the
real solver on real inputs (worker_harness: `quick`, `healthy(T)`, `long_solve(T)`, `overrun`).
Leases are 2 s, heartbeats 0.5 s, sweeps 0.5 s, timeout and cancel graces 2 s (tests/conftest.py SHORT_QUEUE)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from worker_harness import healthy, long_solve, overrun, pid_alive, quick, wait_for

pytestmark = pytest.mark.slow
MEMORY_CAP_MB = 600  # ngrs_tiny peaks at ~410 MiB of address space; Instance24's model build passes 600 in ~3 s


def result_of(harness, job_id):
    return harness.result(job_id)


def has_roster(result) -> bool:
    return result["solverRun"]["status"] in ("OPTIMAL", "FEASIBLE") and bool(result["assignments"])


def test_p1_accepted_job_survives_redis_restart_and_idempotent_repost_starts_once(harness, redis_server):
    job_id = harness.submit(**quick(), idempotency_key="req-1")
    redis_server.restart()  # nothing was running yet; the AOF must hold the job and its stream entry
    harness.worker()
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=30)
    assert done["status"] == "completed"
    again, created = harness.store_call(
        lambda s: s.submit(**quick(), owner="tester", idempotency_key="req-1"))
    assert (again, created) == (job_id, False)
    assert harness.r.xlen(harness.keys.stream) == 0  # no entry exists that could start a second solve
    assert harness.job(job_id)["starts"] == "1"
    assert harness.store_call(lambda s: s.stats())["total_jobs"] == 1


def test_p2_sigkill_mid_solve_is_restarted_once_with_one_result(harness):
    workers = [harness.worker(), harness.worker()]
    wait_for(lambda: harness.store_call(lambda s: s.stats())["workers"] == 2, 30, what="both workers up")
    job_id = harness.submit(**healthy(4.0), webhook_url="https://example.com/hook")
    first = harness.wait_started(job_id, 1, timeout=20)
    victim = harness.supervisor_pid(first)
    os.kill(victim, signal.SIGKILL)  # the slot and its solver die with it
    killed_at = time.monotonic()
    second = harness.wait_started(job_id, 2, timeout=20)
    assert harness.supervisor_pid(second) != victim
    assert time.monotonic() - killed_at < 2.0 + 0.5 + 3  # lease + sweep + slack
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=30)
    assert done["status"] == "completed" and done["starts"] == "2"
    assert has_roster(result_of(harness, job_id)[1])
    events = harness.r.xrange(harness.keys.outbox)
    assert [e[1][b"type"] for e in events] == [b"job.completed"]  # exactly one completion event
    assert [w.pid for w in workers if w.poll() == -signal.SIGKILL] == [victim]


def test_p3_healthy_long_solve_is_started_once(harness):
    harness.worker()
    harness.worker()
    job_id = harness.submit(**long_solve(8.0))  # 4 leases of real CP-SAT search
    harness.wait_started(job_id, 1, timeout=20)
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=30)
    assert done["status"] == "completed"
    assert done["starts"] == "1" and done["attempts"] == "1"
    # it really outlived 3 leases (not 4: the child's start-up and the result's write-back take part of T)
    assert float(done["completed_at"]) - float(done["started_at"]) >= 3 * harness.settings.job_lease_seconds
    assert result_of(harness, job_id)[0] == "completed"


def test_p4_fenced_worker_cannot_record_and_kills_its_solver(harness):
    harness.worker()
    job_id = harness.submit(**long_solve(12.0))  # still mid-solve when it resumes
    first = harness.wait_started(job_id, 1, timeout=20)
    sup = harness.supervisor_pid(first)
    slot = int(first["consumer"].split(":")[2])
    solvers = wait_for(lambda: harness.solver_pids(sup), 10, what="solver pid")
    frozen = [sup, slot, *solvers]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        harness.worker()
        second = harness.wait_started(job_id, 2, timeout=20)  # lease expired, reclaimed elsewhere
        assert harness.supervisor_pid(second) != sup
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    resumed = time.monotonic()
    wait_for(lambda: not any(pid_alive(p) for p in solvers), 5, what="fenced solver killed")
    assert time.monotonic() - resumed < 4.0  # killed (H = 0.5 s), not finished: it had ~7 s of work left
    assert harness.job(job_id)["status"] == "running"  # the old owner recorded nothing
    assert "lease lost to another worker" in harness.logs()
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=30)
    assert done["status"] == "completed" and done["token"] == "2"
    assert has_roster(result_of(harness, job_id)[1])
    # the result was recorded by the new owner (worker 1), never by the fenced one (worker 0)
    assert f"job {job_id} completed in" not in harness.worker_log(0)
    assert f"job {job_id} completed in" in harness.worker_log(1)


def test_p5_poison_job_dead_letters_after_max_attempts(harness):
    harness.worker()
    harness.worker()
    poison = harness.submit(**long_solve(60.0), webhook_url="https://example.com/hook")
    for attempt in range(1, harness.settings.max_attempts + 1):
        job = harness.wait_started(poison, attempt, timeout=30)
        os.kill(harness.supervisor_pid(job), signal.SIGKILL)  # "OOM-kills its worker"
        harness.worker()
    done = harness.wait_status(poison, ("failed", "completed"), timeout=30)
    assert done["status"] == "failed" and done["error_code"] == "MAX_ATTEMPTS"
    assert done["starts"] == str(harness.settings.max_attempts)
    dead = harness.r.xrange(harness.keys.dead)
    assert [e[1][b"job_id"].decode() for e in dead] == [poison]
    assert [e[1][b"type"] for e in harness.r.xrange(harness.keys.outbox)] == [b"job.failed"]
    other = harness.submit(**quick())  # the queue keeps flowing
    assert harness.wait_status(other, ("completed", "failed"), timeout=20)["status"] == "completed"


def test_p5_solver_crash_is_retried_then_dead_lettered_and_worker_survives(harness):
    """A solve over SOLVER_MEMORY_LIMIT_MB dies in its child (MemoryError): a crash, retried, dead-lettered."""
    w = harness.worker(SOLVER_MEMORY_LIMIT_MB=MEMORY_CAP_MB)
    job_id = harness.submit(**overrun(), webhook_url="https://example.com/hook")
    done = harness.wait_status(job_id, ("failed", "completed"), timeout=60)
    assert done["status"] == "failed" and done["error_code"] == "MAX_ATTEMPTS"
    assert done["starts"] == str(harness.settings.max_attempts)
    assert harness.logs().count(f"job {job_id}: solver crashed (exit code 75, OUT_OF_MEMORY") == \
        harness.settings.max_attempts
    assert [e[1][b"job_id"].decode() for e in harness.r.xrange(harness.keys.dead)] == [job_id]
    assert [e[1][b"type"] for e in harness.r.xrange(harness.keys.outbox)] == [b"job.failed"]
    nxt = harness.submit(**quick())  # the same worker, under the same cap, solves a normal job
    assert harness.wait_status(nxt, ("completed", "failed"), timeout=20)["status"] == "completed"
    assert w.poll() is None


def test_p6_cancel_queued_never_starts(harness):
    job_id = harness.submit(**quick())
    assert harness.store_call(lambda s: s.cancel(job_id, "tester"))["status"] == "cancelled"
    harness.worker()
    after = harness.submit(**quick())
    assert harness.wait_status(after, ("completed", "failed"), timeout=20)["status"] == "completed"
    job = harness.job(job_id)
    assert job["status"] == "cancelled" and job["starts"] == "0"
    assert harness.r.xlen(harness.keys.stream) == 0  # its entry was acked and deleted unstarted


@pytest.mark.parametrize("ignore_stop", [False, True], ids=["graceful", "killed-after-grace"])
def test_p6_cancel_running_stops_solver(harness, ignore_stop):
    w = harness.worker()
    # graceful: CP-SAT mid-search honours the stop; killed: a solver still building its model ignores it
    job_id = harness.submit(**(overrun() if ignore_stop else long_solve(60.0)))
    harness.wait_started(job_id, 1, timeout=20)
    solvers = wait_for(lambda: harness.solver_pids(w.pid), 10, what="solver pid")
    if not ignore_stop:  # cancel mid-search, once CP-SAT has reported a solution
        wait_for(lambda: (s := harness.status(job_id)) and s["progress"], 20, what="first solution")
    st = harness.store_call(lambda s: s.cancel(job_id, "tester"))
    assert st["status"] == "running"
    t0 = time.monotonic()
    done = harness.wait_status(job_id, ("cancelled", "completed", "failed"), timeout=15)
    assert done["status"] == "cancelled"
    wait_for(lambda: not any(pid_alive(p) for p in solvers), 5, what="solver gone")
    limit = 0.5 + (harness.settings.cancel_grace_seconds if ignore_stop else 0) + 5.0
    assert time.monotonic() - t0 < limit
    how = (f"solver ignored the stop; killed after the {harness.settings.cancel_grace_seconds:g}s cancel grace"
           if ignore_stop else "solver stopped gracefully after the cancel")
    assert f"job {job_id}: {how}" in harness.logs()
    assert harness.store_call(lambda s: s.result(job_id, "tester")) == ("cancelled", None)
    nxt = harness.submit(**quick())
    assert harness.wait_status(nxt, ("completed", "failed"), timeout=10)["status"] == "completed"


def test_p7_timeout_kills_and_worker_stays_healthy(harness):
    w = harness.worker()
    job_id = harness.submit(**overrun(time_limit=1.0))  # still building its model at limit + grace
    harness.wait_started(job_id, 1, timeout=20)
    solvers = wait_for(lambda: harness.solver_pids(w.pid), 10, what="solver pid")
    done = harness.wait_status(job_id, ("failed", "completed", "cancelled"), timeout=15)
    assert done["status"] == "failed" and done["error_code"] == "TIMEOUT" and done["starts"] == "1"
    wait_for(lambda: not any(pid_alive(p) for p in solvers), 5, what="solver killed")
    nxt = harness.submit(**quick())
    assert harness.wait_status(nxt, ("completed", "failed"), timeout=10)["status"] == "completed"
    assert w.poll() is None


def test_p9_sigterm_hands_job_back_without_burning_an_attempt(harness):
    env = {"JOB_LEASE_SECONDS": "30"}  # a reclaim by lease expiry would take 30 s; the hand-off must not
    a = harness.worker(**env)
    job_id = harness.submit(**long_solve(60.0))  # far longer than the test: only a hand-off can restart it
    first = harness.wait_started(job_id, 1, timeout=20)
    solvers = wait_for(lambda: harness.solver_pids(a.pid), 10, what="solver pid")
    b = harness.worker(**env)
    wait_for(lambda: harness.store_call(lambda s: s.stats())["workers"] == 2, 20, what="second worker up")
    os.kill(a.pid, signal.SIGTERM)
    t0 = time.monotonic()
    assert a.wait(15) == 0
    assert not any(pid_alive(p) for p in solvers)
    second = harness.wait_started(job_id, 2, timeout=10)
    assert time.monotonic() - t0 < 10
    assert harness.supervisor_pid(second) == b.pid != harness.supervisor_pid(first)
    assert second["attempts"] == "1"  # the handed-back start was not counted
    assert harness.store_call(lambda s: s.cancel(job_id, "tester"))["status"] == "running"
    assert harness.wait_status(job_id, ("cancelled", "failed"), timeout=15)["attempts"] == "1"


def test_p10_workers_reconnect_after_redis_restart_and_client_kill(harness, redis_server):
    harness.worker()
    job_id = harness.submit(**healthy(4.0))
    harness.wait_started(job_id, 1, timeout=20)
    redis_server.restart()  # mid-solve; AOF keeps the queue
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=40)
    assert done["status"] == "completed"
    assert harness.store_call(lambda s: s.result(job_id, "tester"))[0] == "completed"
    killed = redis_server.client().client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1
    nxt = harness.submit(**quick())
    assert harness.wait_status(nxt, ("completed", "failed"), timeout=30)["status"] == "completed"
