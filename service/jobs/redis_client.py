"""Redis clients for the API (asyncio) and the workers (sync), tuned for ElastiCache failover.

One pool per process. Every command is retried with jittered exponential backoff (~25 s budget, enough for a
Multi-AZ failover) on ConnectionError/TimeoutError and on READONLY: a connection still open to a demoted
primary is dropped and re-resolved, because redis-py resolves DNS only when it connects. Retries can re-run
a Lua script whose reply was lost; the scripts are idempotent for that reason.
"""

from __future__ import annotations

import redis
import redis.asyncio
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError

from service.settings import Settings

RETRY_ERRORS = (ConnectionError, TimeoutError, ReadOnlyError)


def _options(settings: Settings) -> dict:
    opts: dict = {
        "db": settings.redis_db,
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": 5.0,
        "socket_keepalive": True,
        "health_check_interval": settings.redis_health_check_interval,
        "retry_on_error": list(RETRY_ERRORS),
    }
    if settings.redis_password:
        opts["password"] = settings.redis_password
    return opts


def _backoff() -> ExponentialWithJitterBackoff:
    return ExponentialWithJitterBackoff(base=0.1, cap=2.0)


def make_sync_redis(settings: Settings) -> redis.Redis:
    from redis.retry import Retry

    return redis.Redis.from_url(
        settings.redis_url, retry=Retry(_backoff(), 15, supported_errors=RETRY_ERRORS), **_options(settings)
    )


def make_async_redis(settings: Settings) -> redis.asyncio.Redis:
    from redis.asyncio.retry import Retry

    return redis.asyncio.Redis.from_url(
        settings.redis_url, retry=Retry(_backoff(), 15, supported_errors=RETRY_ERRORS), **_options(settings)
    )
