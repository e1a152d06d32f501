"""Worker basics with real `python -m service worker` processes: a solve completes with progress written
at most once a second, solver errors are recorded, live slots are counted in stats."""

from __future__ import annotations

import orjson
import pytest

from worker_harness import standin, wait_for

pytestmark = pytest.mark.slow


def test_standin_solve_completes_with_progress(harness):
    harness.worker()
    job_id = harness.submit(standin(2.5))
    running = harness.wait_status(job_id, "running", timeout=20)
    assert running["starts"] == "1"
    st = wait_for(lambda: (s := harness.status(job_id)) and s["progress"] and s, 10, what="progress")
    assert st["status"] == "running" and st["progress"]["solutions"] > 0
    first = st["progress"]["updated_at"]
    done = harness.wait_status(job_id, "completed", timeout=20)
    assert done["starts"] == "1" and done["attempts"] == "1"
    status, body = harness.store_call(lambda s: s.result(job_id, "tester"))
    result = orjson.loads(body)
    assert status == "completed" and result["solverRun"]["status"] == "OPTIMAL"
    assert result["standin"]["solutions"] > 5
    assert first is not None
    stats = harness.store_call(lambda s: s.stats())
    assert stats["workers"] == 1 and stats["running"] == 0 and stats["queue_length"] == 0


def test_solver_error_is_recorded_as_failed(harness):
    harness.worker()
    job_id = harness.submit(standin(1, fail=True))
    done = harness.wait_status(job_id, ("failed", "completed"), timeout=20)
    assert done["status"] == "failed" and done["error_code"] == "SOLVER_ERROR"
    assert "stand-in solver failure" in done["error_message"]
    assert done["starts"] == "1"  # a solver error is an answer, not a crash: no retry
