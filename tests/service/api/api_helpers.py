"""Helpers for the API tests: real uvicorn servers on free loopback ports in threads, settings, polling."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from service.api.app import create_app
from service.local import free_port
from service.settings import Settings

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
KEY_A = "test-key-a-0123456789"
KEY_B = "test-key-b-9876543210"


class LiveServer:
    """create_app(settings) under a real uvicorn in a thread; `client(key)` talks to it over loopback."""

    def __init__(self, settings: Settings, background: bool = False):
        self.settings = settings
        self.app = create_app(settings, background=background)
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, key: str | None = KEY_A, **kw) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        headers.update(kw.pop("headers", {}))
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)


def make_settings(redis_url: str, **overrides) -> Settings:
    base = dict(
        redis_url=redis_url,
        redis_key_prefix=f"t{uuid.uuid4().hex[:10]}",
        api_keys=f"{KEY_A},{KEY_B}",
        start_workers=False,
        host="127.0.0.1",
    )
    base.update(overrides)
    return Settings(**base)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def tiny_doc(employees: int = 3, days: int = 7, headcount: int = 1, reference: str = "API-TINY") -> dict:
    """A valid NGRS input that solves to OPTIMAL in well under a second."""
    return {
        "schemaVersion": "0.98",
        "planningReference": reference,
        "planningHorizon": {"startDate": "2026-01-05", "endDate": f"2026-01-{4 + days:02d}"},
        "demandItems": [{
            "demandId": "D1",
            "shifts": [{"shiftDetails": [{"shiftCode": "D", "start": "08:00", "end": "20:00"}]}],
            "requirements": [{"requirementId": "R1", "headcount": headcount}],
        }],
        "employees": [{"employeeId": f"E{i}"} for i in range(employees)],
    }

