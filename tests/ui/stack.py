"""A real stack for the UI and client tests: the API (`create_app`) under uvicorn on a free loopback port, and
one `python -m service worker` subprocess, both on the session Redis with their own key prefix.

`events_first=True` registers `service.ui.events.router` ahead of the app's own routes, so its
`/solve/async/{id}/events` (status/progress/end) is the one that answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from service.api.app import create_app
from service.local import free_port
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
KEY = "ui-test-key-0123456789"
OTHER_KEY = "ui-other-key-9876543210"

# Short leases so a stopped worker's job is not stuck for a minute; progress at the default 1 s.
QUEUE = {
    "job_lease_seconds": 5.0,
    "heartbeat_interval_seconds": 1.0,
    "sweep_interval_seconds": 1.0,
    "cancel_grace_seconds": 2.0,
    "job_timeout_grace_seconds": 5.0,
    "redis_health_check_interval": 1,
}


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


class Stack:
    def __init__(self, redis_url: str, *, events_first: bool = False, workers: bool = True):
        self.settings = Settings(
            redis_url=redis_url,
            redis_key_prefix=f"ui{uuid.uuid4().hex[:10]}",
            api_keys=f"{KEY},{OTHER_KEY}",
            start_workers=False,
            solver_workers=1,
            solver_threads=1,
            host="127.0.0.1",
            **QUEUE,
        )
        self.app = create_app(self.settings, background=False)
        if events_first:
            from service.ui.events import router as events_router

            before = len(self.app.router.routes)
            self.app.include_router(events_router)
            added = self.app.router.routes[before:]
            del self.app.router.routes[before:]
            self.app.router.routes[0:0] = added
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-ui-{self.port}", daemon=True)
        self.want_worker = workers
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({k.upper(): str(v) for k, v in QUEUE.items()})
        env.update({
            "REDIS_URL": self.settings.redis_url, "REDIS_KEY_PREFIX": self.settings.redis_key_prefix,
            "SOLVER_WORKERS": "1", "SOLVER_THREADS": "1", "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> "Stack":
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), 15, 0.02, "uvicorn to start")
        if not self.server.started:
            raise RuntimeError("uvicorn did not start")
        if self.want_worker:
            self.worker = subprocess.Popen([sys.executable, "-m", "service", "worker"], env=self.env(), cwd=REPO)
        return self

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(10)
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, key: str | None = KEY) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": key} if key else {}, timeout=30)

    def status(self, job_id: str) -> dict:
        with self.client() as c:
            r = c.get(f"/solve/async/{job_id}")
            r.raise_for_status()
            return r.json()
