"""`python -m service submit` as a real subprocess against a real stack (API under uvicorn, a worker
subprocess, the session Redis, the real solver): results, progress on stderr, exit codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

import pytest

from service.local import free_port
from tests.ui.stack import EXAMPLES, KEY, REPO, Stack, wait_for

TINY = str(EXAMPLES / "ngrs_tiny.json")


@pytest.fixture(scope="module")
def stack(redis_server):
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    s = Stack(redis_server.url).start()
    yield s
    s.stop()


def submit(stack_or_url, *args: str, key: str | None = KEY, **kw) -> subprocess.CompletedProcess:
    url = stack_or_url if isinstance(stack_or_url, str) else stack_or_url.url
    env = {k: v for k, v in os.environ.items() if k not in ("NGRS_API_KEY", "NGRS_URL")}
    if key is not None:
        env["NGRS_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "service", "submit", *args, "--url", url],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120, **kw)


def api_result(stack, job_id: str) -> dict:
    with stack.client() as c:
        return c.get(f"/solve/async/{job_id}/result").json()


def test_wait_writes_the_result_file_and_progress_lines(stack, tmp_path):
    out = tmp_path / "result.json"
    p = submit(stack, TINY, "--wait", "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    result = json.loads(out.read_text())
    assert result["solverRun"]["status"] == "OPTIMAL"
    assert len(result["employeeRoster"]) == 5
    job_id = p.stderr.split("submitted job ", 1)[1].split()[0]
    assert result == api_result(stack, job_id)
    # not a terminal: plain progress lines, no carriage returns
    assert "\r" not in p.stderr
    assert f"{job_id} completed solutions=" in p.stderr
    assert f"job {job_id} completed: solver OPTIMAL" in p.stderr and str(out) in p.stderr
    assert not (tmp_path / "result.json.part").exists()


def test_without_wait_prints_the_submit_reply(stack):
    p = submit(stack, TINY)
    assert p.returncode == 0, p.stderr
    reply = json.loads(p.stdout)
    assert reply["status"] in ("queued", "running", "completed")
    assert reply["links"]["events"] == f"/solve/async/{reply['job_id']}/events"
    assert stack.status(reply["job_id"])["job_id"] == reply["job_id"]


def test_polling_mode_writes_the_result_to_stdout(stack):
    p = submit(stack, TINY, "--wait", "--no-events", "--time-limit", "5")
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    job_id = p.stderr.split("submitted job ", 1)[1].split()[0]
    assert result == api_result(stack, job_id)


def test_a_terminal_gets_a_live_bar(stack):
    master, slave = pty.openpty()
    env = {**os.environ, "NGRS_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "service", "submit", TINY, "--wait", "--url", stack.url,
                             "--time-limit", "5", "-o", os.devnull],
                            stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0
    text = b"".join(chunks).decode()
    assert "\r[" in text, text  # redrawn in place, with a bar
    frame = text.split("\r[")[-1]
    assert "completed solutions=" in frame and "elapsed=" in frame


def test_invalid_input_exits_2_with_field_paths(stack, tmp_path):
    doc = json.loads((EXAMPLES / "ngrs_tiny.json").read_text())
    del doc["employees"][0]["employeeId"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    p = submit(stack, str(bad), "--wait")
    assert p.returncode == 2
    assert "HTTP 422 INVALID_INPUT" in p.stderr
    assert "employees[0].employeeId: MISSING_FIELD" in p.stderr


def test_local_file_problems_exit_2_before_any_request(tmp_path):
    notjson = tmp_path / "x.json"
    notjson.write_text("{nope")
    dead = f"http://127.0.0.1:{free_port()}"
    p = submit(dead, str(notjson))
    assert p.returncode == 2 and "is not valid JSON" in p.stderr
    p = submit(dead, str(tmp_path / "missing.json"))
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_wrong_key_exits_2_and_unreachable_api_exits_3(stack):
    p = submit(stack, TINY, "--wait", key="wrong-key")
    assert p.returncode == 2
    assert "HTTP 401 UNAUTHORIZED" in p.stderr
    p = submit(f"http://127.0.0.1:{free_port()}", TINY, "--wait")
    assert p.returncode == 3
    assert "cannot reach the API" in p.stderr


@pytest.mark.slow
def test_a_cancelled_job_exits_1(stack):
    env = {**os.environ, "NGRS_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "service", "submit", str(EXAMPLES / "ngrs_060.json"), "--wait",
                             "--time-limit", "60", "--url", stack.url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        first = proc.stderr.readline()
        assert first.startswith("submitted job "), first
        job_id = first.split()[2]
        wait_for(lambda: (stack.status(job_id).get("progress") or {}).get("solutions", 0) >= 1, 60,
                 what="a first solution")
        with stack.client() as c:
            assert c.delete(f"/solve/async/{job_id}").status_code in (200, 202)
        started = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert out == ""
    assert f"job {job_id} cancelled" in err
    assert time.monotonic() - started < 30
