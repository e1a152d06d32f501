"""The API's handle on the job store: one async Redis client per app, created on first use (so the API starts
and serves /health with Redis down), and a deadline on every store call so a dead Redis is a prompt 503.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

from fastapi import Request
from redis import exceptions as redis_exc

T = TypeVar("T")


def get_store(request: Request):
    state = request.app.state
    if state.store is None:
        from service.jobs.redis_client import make_async_redis
        from service.jobs.store import JobStore

        state.redis = make_async_redis(state.settings)
        state.store = JobStore(state.redis, state.settings)
    return state.store


def get_probe(request: Request):
    """A client for /ready that does not retry: a readiness probe must answer fast and name the real error."""
    state = request.app.state
    if state.probe is None:
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        from service.jobs.redis_client import make_async_redis

        probe = make_async_redis(state.settings)
        probe.set_retry(Retry(NoBackoff(), 0))
        state.probe = probe
    return state.probe


async def call(request: Request, awaitable: Awaitable[T]) -> T:
    """Await a store call under API_REDIS_TIMEOUT_SECONDS; past it, raise redis TimeoutError (-> 503)."""
    timeout = request.app.state.settings.api_redis_timeout_seconds
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise redis_exc.TimeoutError(f"no answer from Redis within {timeout:g} s") from None


async def close_store(state: Any) -> None:
    clients = [getattr(state, "redis", None), getattr(state, "probe", None)]
    state.store = state.redis = state.probe = None
    for client in clients:
        if client is not None:
            await client.aclose()
