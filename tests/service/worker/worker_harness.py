"""Worker test harness (imported by conftest and tests): real `python -m service worker` subprocesses against the
session Redis, each running the real solver (service.solver.engine.solve_document) in its solver child; the real
inputs the tests submit; helpers that wait on job state with a deadline.

Inputs (measured on the loaded 2-core test machine, SOLVER_THREADS=1):
- `quick()`: examples/ngrs_tiny.json, OPTIMAL in < 1 s (plus ~1 s child start-up).
- `healthy(T)`, T <= 5: Curtois Instance4 with job time limit T: a first roster within ~0.3 s (unloaded), then
  a steady stream of better ones (~28 by 3.4 s of a 4-5 s limit) -> progress all the way; far from provable
  optimality (bound ~1456 vs best known 1716), so it runs for the whole T and finishes normally (FEASIBLE,
  stopped at the limit). Instance2 served here until the engine began to prove it optimal in ~3.6 s under load.
- `long_solve(T)`: Curtois Instance5 with job time limit T, for solves that must run 7-60 s: far from provable
  optimality (bound <= ~750 vs incumbent ~2300 after 15 s); first roster after ~1-5 s depending on the search.
  Measured: single-thread CP-SAT with `interleave_search` returns FEASIBLE ~1 s before its time limit (7 s ->
  6.1 s), so tests bound durations by leases, not by T exactly.
- `overrun()`: Curtois Instance24: building its CP-SAT model alone takes > 40 s here and model building is
  not interruptible, so a solver child on it ignores its stop event and time limit for as long as any test
  waits (the solve that overruns: TIMEOUT, cancel -> SIGKILL after the grace); its memory grows ~100 MB/s,
  which is what SOLVER_MEMORY_LIMIT_MB caps (MemoryError at 400-600 MiB within ~3 s).
The Curtois folder is `<repo>/../shared/benchmarks/curtois`, overridable with CURTOIS_DIR.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from service.jobs.keys import Keys
from service.jobs.redis_client import make_async_redis, make_sync_redis
from service.jobs.store import JobStore

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
CURTOIS_DIR = Path(os.environ.get("CURTOIS_DIR") or ROOT.parent / "shared" / "benchmarks" / "curtois")


def example(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def curtois(n: int) -> bytes:
    """A Curtois instance as the API stores it: the .txt document's bytes (the solver child detects the format)."""
    path = CURTOIS_DIR / f"Instance{n}.txt"
    if not path.exists():
        pytest.skip(f"{path} not present (set CURTOIS_DIR)")
    return path.read_bytes()


def quick() -> dict:
    """submit() kwargs of a job that solves to optimality in well under a second."""
    return {"document": example("ngrs_tiny.json"), "time_limit_seconds": 10.0}


def healthy(seconds: float) -> dict:
    """submit() kwargs of a healthy real solve that runs for `seconds` and then finishes normally."""
    return {"document": curtois(4), "time_limit_seconds": float(seconds)}


def long_solve(seconds: float) -> dict:
    """submit() kwargs of a healthy real solve that needs the whole of a long limit (7-60 s)."""
    return {"document": curtois(5), "time_limit_seconds": float(seconds)}


def overrun(time_limit: float | None = None) -> dict:
    """submit() kwargs of a real solve that overruns any limit: it is still building its model."""
    return {"document": curtois(24), "time_limit_seconds": time_limit}


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
    def worker(self, **env) -> subprocess.Popen:
        e = dict(self.env)
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

    def result(self, job_id: str) -> tuple[str, dict | None]:
        status, body = self.store_call(lambda s: s.result(job_id, "tester"))
        return status, (orjson.loads(body) if body else None)

    def worker_log(self, index: int) -> str:
        return (self.tmp / f"worker-{index}.log").read_text(errors="replace")

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


