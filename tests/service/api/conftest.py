"""Fixtures for the API tests: real uvicorn servers (threads, free loopback ports) on the session Redis
(`redis_server` from tests/conftest.py); each server gets a fresh REDIS_KEY_PREFIX, so tests never see each
other's jobs. `private_redis` is a Redis of this test's own, for tests that stop and restart it.
"""

from __future__ import annotations

import pytest
from api_helpers import LiveServer, make_settings

from service.local import EmbeddedRedis


@pytest.fixture
def private_redis(tmp_path):
    with EmbeddedRedis(tmp_path / "redis", appendonly=True) as server:
        yield server


@pytest.fixture
def serve(redis_server):
    """serve(**setting_overrides) -> a started LiveServer; stopped after the test."""
    servers: list[LiveServer] = []

    def _serve(background: bool = False, redis_url: str | None = None, **overrides) -> LiveServer:
        if redis_url is None and (redis_server.proc is None or redis_server.proc.poll() is not None):
            redis_server.start()  # another test stopped the shared server
        server = LiveServer(make_settings(redis_url or redis_server.url, **overrides), background=background)
        servers.append(server.start())
        return server

    yield _serve
    for s in servers:
        s.stop()


@pytest.fixture
def server(serve) -> LiveServer:
    return serve()


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c
