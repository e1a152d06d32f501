"""Workers running the real CP-SAT solver (service.solver.engine) on the example inputs."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from worker_harness import ROOT, pid_alive, wait_for

pytestmark = pytest.mark.slow
EXAMPLES = ROOT / "examples"


def example(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def test_real_solve_of_tiny_example_completes(harness):
    harness.worker(standin_solver=False)
    job_id = harness.submit(example("ngrs_tiny.json"), time_limit_seconds=5)
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=60)
    assert done["status"] == "completed", done
    status, body = harness.store_call(lambda s: s.result(job_id, "tester"))
    result = orjson.loads(body)
    assert result["solverRun"]["status"] in ("OPTIMAL", "FEASIBLE")
    assert isinstance(result["assignments"], list) and result["assignments"]


def test_real_solve_cancelled_while_running_stops_cp_sat(harness):
    w = harness.worker(standin_solver=False)
    job_id = harness.submit(example("ngrs_020.json"), time_limit_seconds=60)
    wait_for(lambda: (s := harness.status(job_id)) and s["progress"] and s["progress"]["solutions"] > 0, 60,
             what="first solution reported as progress")
    solvers = harness.solver_pids(w.pid)
    assert solvers
    t0 = time.monotonic()
    assert harness.store_call(lambda s: s.cancel(job_id, "tester"))["status"] == "running"
    done = harness.wait_status(job_id, ("cancelled", "completed", "failed"), timeout=20)
    assert done["status"] == "cancelled"
    wait_for(lambda: not any(pid_alive(p) for p in solvers), 10, what="solver process gone")
    assert time.monotonic() - t0 < 10


def test_invalid_document_fails_without_retry(harness):
    harness.worker(standin_solver=False)
    job_id = harness.submit(b'{"employees": "not a list"}')
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=60)
    assert done["status"] == "failed" and done["error_code"] in ("INVALID_INPUT", "SOLVER_ERROR")
    assert done["starts"] == "1"
