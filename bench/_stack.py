"""A real local stack for the harnesses: embedded redis-server (AOF on), `python -m service api` and
`python -m service worker` subprocesses on 127.0.0.1, each started and stopped by pid only.

Used by bench.load and bench.chaos (and their quick tests); nothing here is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from service.local import EmbeddedRedis, free_port

REPO = Path(__file__).resolve().parents[1]
API_KEY = "bench-key-0123456789abcdef"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll `predicate` until it returns a truthy value; RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Stack:
    """Redis + API (+ workers). `env` is the environment every service process gets."""

    extra_env: dict[str, str] = field(default_factory=dict)
    prefix: str = "bench"
    log_dir: Path | None = None
    redis: EmbeddedRedis | None = None
    api: subprocess.Popen | None = None
    api_port: int = 0
    workers: list[subprocess.Popen] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory | None = None

    def __post_init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ngrs-bench-")
        self.root = Path(self._tmp.name)
        self.log_dir = self.log_dir or self.root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "API_KEYS"))}
        env.update({
            "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "REDIS_URL": self.redis.url,
            "REDIS_KEY_PREFIX": self.prefix, "API_KEYS": API_KEY, "START_WORKERS": "false",
            "SOLVER_WORKERS": "1", "SOLVER_THREADS": "1", "HOST": "127.0.0.1",
        })
        env.update(self.extra_env)
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_redis(self) -> "Stack":
        self.redis = EmbeddedRedis(self.root / "redis", appendonly=True).start()
        return self

    def _spawn(self, args: list[str], log_name: str, new_session: bool = False) -> subprocess.Popen:
        log = open(self.log_dir / log_name, "ab")
        try:
            return subprocess.Popen([sys.executable, "-m", "service", *args], cwd=REPO, env=self.env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=new_session)
        finally:
            log.close()

    def start_api(self, timeout: float = 60.0) -> "Stack":
        self.api_port = self.api_port or free_port()
        self.api = self._spawn(["api", "--port", str(self.api_port), "--log-level", "warning"], "api.log")

        def ready() -> bool:
            if self.api.poll() is not None:
                raise RuntimeError(f"API exited with {self.api.returncode}; see {self.log_dir / 'api.log'}")
            try:
                return httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, "the API to become ready", interval=0.1)
        return self

    def start_worker(self) -> subprocess.Popen:
        """A worker in its own process group, so `kill_worker` takes its slots and solvers down with it,
        as when ECS kills a task."""
        proc = self._spawn(["worker"], f"worker-{len(self.workers)}.log", new_session=True)
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group (supervisor, slots, solver children)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"X-API-Key": API_KEY}, timeout=30, **kw)

    def stop(self) -> None:
        procs = [p for p in (*self.workers, self.api) if p is not None and p.poll() is None]
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        if self.redis is not None:
            self.redis.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
