"""Client factory: TLS/AUTH/DB options, and the READONLY failover path against a real replica that gets
promoted while the client is retrying (what an ElastiCache Multi-AZ failover looks like to a client)."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time

import pytest
from redis.connection import SSLConnection
from redis.exceptions import ReadOnlyError

from service.jobs.redis_client import make_async_redis, make_sync_redis
from service.settings import Settings

from realredis import RedisServer


def test_tls_password_db_and_retry_options():
    s = Settings(redis_url="rediss://cache.example:6379", redis_password="tok", redis_db=3)
    r = make_sync_redis(s)
    kw = r.connection_pool.connection_kwargs
    assert r.connection_pool.connection_class is SSLConnection
    assert kw["password"] == "tok" and kw["db"] == 3 and kw["health_check_interval"] == 15
    assert r.connection_pool.make_connection().cert_reqs == ssl.CERT_REQUIRED  # verification stays on
    assert ReadOnlyError in kw["retry"]._supported_errors
    assert kw["socket_timeout"] > 2  # above the 2 s XREADGROUP BLOCK
    ar = make_async_redis(s)
    assert ar.connection_pool.connection_kwargs["password"] == "tok"


@pytest.fixture
def replica(redis_server, tmp_path):
    rep = RedisServer(tmp_path, ("--replicaof", "127.0.0.1", str(redis_server.port), "--appendonly", "no"))
    rep.start()
    yield rep
    rep.stop()


def _promote_later(replica, delay: float) -> threading.Thread:
    def promote():
        time.sleep(delay)
        replica.client().execute_command("REPLICAOF", "NO", "ONE")

    t = threading.Thread(target=promote)
    t.start()
    return t


def test_sync_client_retries_through_readonly_until_promoted(replica, queue_prefix):
    r = make_sync_redis(Settings(redis_url=replica.url))
    with pytest.raises(ReadOnlyError):
        replica.client().set(f"{queue_prefix}:x", "1")  # a plain client sees READONLY at once
    t = _promote_later(replica, 0.5)
    t0 = time.monotonic()
    assert r.set(f"{queue_prefix}:x", "1") is True
    t.join()
    assert time.monotonic() - t0 >= 0.4 and r.get(f"{queue_prefix}:x") == b"1"


def test_async_client_retries_through_readonly_until_promoted(replica, queue_prefix):
    async def main():
        r = make_async_redis(Settings(redis_url=replica.url))
        try:
            return await r.set(f"{queue_prefix}:y", "2")
        finally:
            await r.aclose()

    t = _promote_later(replica, 0.5)
    assert asyncio.run(main()) is True
    t.join()
