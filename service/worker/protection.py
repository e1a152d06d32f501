"""ECS task scale-in protection: on while any slot is busy, off when all are idle, refreshed for long jobs.
Only active when ECS_AGENT_URI is set. Failures are logged and never fatal."""

from __future__ import annotations

import logging
import threading
import time

import httpx

from service.settings import Settings

log = logging.getLogger(__name__)


class TaskProtection:
    def __init__(self, settings: Settings, busy, poll_seconds: float = 0.5):
        self.s = settings
        self.busy = busy
        self.poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecs-protection", daemon=True)
        self.state = False  # a new task starts unprotected; PUT only on changes

    def start(self) -> "TaskProtection":
        if self.s.ecs_agent_uri:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def put(self, enabled: bool) -> bool:
        url = self.s.ecs_agent_uri.rstrip("/") + "/task-protection/v1/state"
        body = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self.s.ecs_protection_minutes
        try:
            resp = httpx.put(url, json=body, timeout=5.0)
            resp.raise_for_status()
            return True
        except httpx.HTTPError as e:
            log.warning("ECS task protection %s failed: %s", enabled, e)
            return False

    def _loop(self) -> None:
        last_put = 0.0
        refresh = self.s.ecs_protection_minutes * 60 / 2
        while not self._stop.is_set():
            busy = any(self.busy[:])
            now = time.monotonic()
            if busy != self.state or (busy and now - last_put >= refresh):
                if self.put(busy):
                    self.state, last_put = busy, now
            self._stop.wait(self.poll)
        if self.state:
            self.put(False)
