"""Worker test harness (imported by conftest and tests): real `python -m service worker` subprocesses against the session Redis, and helpers
that wait on job state with a deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from service.jobs.keys import Keys
from service.jobs.redis_client import make_async_redis, make_sync_redis
from service.jobs.store import JobStore

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
STANDIN = "standin_solver:solve_document"


def standin(seconds: float, **kw) -> bytes:
    return orjson.dumps({"standin": {"seconds": seconds, **kw}})


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Harness:
    def __init__(self, settings, env, tmp_path):
        self.settings = settings
        self.env = env
        self.tmp = tmp_path
        self.keys = Keys(settings.redis_key_prefix)
        self.r = make_sync_redis(settings)
        self.procs: list[subprocess.Popen] = []

    # --- workers -------------------------------------------------------------------------------
    def worker(self, standin_solver: bool = True, **env) -> subprocess.Popen:
        e = dict(self.env)
        if standin_solver:
            e["SOLVER_ENTRYPOINT"] = STANDIN
            e["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), e.get("PYTHONPATH", "")])
        else:
            e["PYTHONPATH"] = os.pathsep.join([str(ROOT), e.get("PYTHONPATH", "")])
        e.update({k: str(v) for k, v in env.items()})
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "wb")
        p = subprocess.Popen([sys.executable, "-m", "service", "worker"], cwd=ROOT, env=e, stdout=log,
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def logs(self) -> str:
        return "\n".join(f.read_text(errors="replace") for f in sorted(self.tmp.glob("worker-*.log")))

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                p.kill()
            p.wait(10)

    # --- jobs ----------------------------------------------------------------------------------
    def store_call(self, fn):
        async def main():
            r = make_async_redis(self.settings)
            try:
                return await fn(JobStore(r, self.settings))
            finally:
                await r.aclose()

        return asyncio.run(main())

    def submit(self, document: bytes, **kw) -> str:
        kw = {"owner": "tester", "webhook_url": None, "idempotency_key": None, "time_limit_seconds": None} | kw
        job_id, _ = self.store_call(lambda s: s.submit(document=document, **kw))
        return job_id

    def job(self, job_id: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.r.hgetall(self.keys.job(job_id)).items()}

    def status(self, job_id: str, owner: str = "tester") -> dict | None:
        return self.store_call(lambda s: s.status(job_id, owner))

    def wait_status(self, job_id: str, statuses, timeout: float) -> dict:
        statuses = {statuses} if isinstance(statuses, str) else set(statuses)
        return wait_for(lambda: (j := self.job(job_id)).get("status") in statuses and j, timeout,
                        what=f"job {job_id} in {statuses}")

    def wait_started(self, job_id: str, starts: int, timeout: float) -> dict:
        return wait_for(
            lambda: (j := self.job(job_id)).get("status") == "running" and int(j.get("starts", 0)) >= starts
            and j, timeout, what=f"job {job_id} start #{starts}")

    def supervisor_pid(self, job: dict) -> int:
        """The `python -m service worker` pid that owns a running job (from its consumer name)."""
        return int(job["consumer"].split(":")[1])

    def solver_pids(self, supervisor: int) -> list[int]:
        """Grandchildren of a worker supervisor: its slots' solver processes."""
        slots = _children(supervisor)
        return [pid for s in slots for pid in _children(s) if b"spawn_main" in _cmdline(pid)]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(x) for x in text.split()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


