"""`JobStore`: the API side of the queue (redis.asyncio). Submit, status, result, cancel, stats, ping.

Redis ConnectionError/TimeoutError/ReadOnlyError propagate after the client's retries; the API maps them
to 503 REDIS_UNAVAILABLE.
"""

from __future__ import annotations

import time
import zlib

import redis.asyncio
from redis.exceptions import ResponseError

from service.jobs import scripts
from service.jobs.keys import GROUP, Keys
from service.jobs.model import COMPLETED, new_job_id, status_dict
from service.settings import Settings


class JobStore:
    def __init__(self, redis_async: redis.asyncio.Redis, settings: Settings):
        self.r = redis_async
        self.settings = settings
        self.keys = Keys(settings.redis_key_prefix)
        self._submit = self.r.register_script(scripts.SUBMIT)
        self._cancel = self.r.register_script(scripts.CANCEL)

    async def submit(
        self,
        *,
        document: bytes,
        owner: str,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
        time_limit_seconds: float | None = None,
    ) -> tuple[str, bool]:
        job_id = new_job_id(owner, idempotency_key)
        k = self.keys
        created, _ = await self._submit(
            keys=[k.job(job_id), k.input(job_id), k.stream, k.total, k.queued],
            args=[job_id, owner, repr(time.time()), document, webhook_url or "",
                  "" if time_limit_seconds is None else repr(float(time_limit_seconds)), GROUP],
        )
        return job_id, bool(created)

    async def _owned(self, job_id: str, owner: str) -> dict[bytes, bytes] | None:
        h = await self.r.hgetall(self.keys.job(job_id))
        if not h or h.get(b"owner", b"").decode() != owner:
            return None
        return h

    async def status(self, job_id: str, owner: str) -> dict | None:
        h = await self._owned(job_id, owner)
        if h is None:
            return None
        available = h.get(b"status") == COMPLETED.encode() and bool(await self.r.exists(self.keys.result(job_id)))
        return status_dict(job_id, h, available)

    async def result(self, job_id: str, owner: str) -> tuple[str, bytes | None] | None:
        h = await self._owned(job_id, owner)
        if h is None:
            return None
        status = h[b"status"].decode()
        if status != COMPLETED:
            return status, None
        blob = await self.r.get(self.keys.result(job_id))
        return status, (zlib.decompress(blob) if blob is not None else None)

    async def cancel(self, job_id: str, owner: str) -> dict | None:
        k = self.keys
        outcome = await self._cancel(
            keys=[k.job(job_id), k.input(job_id), k.result(job_id), k.running, k.queued, k.outbox,
                  k.cancelled_waiting],
            args=[job_id, owner, repr(time.time()), self.settings.result_ttl_seconds],
        )
        if outcome[0] == b"missing":
            return None
        return await self.status(job_id, owner)

    async def stats(self) -> dict:
        """O(1) in the number of jobs: XINFO GROUPS, SCARD, ZCOUNT, GET."""
        k = self.keys
        waiting, pending = await backlog_async(self.r, k)
        alive_since = time.time() - worker_liveness_window(self.settings)
        async with self.r.pipeline(transaction=False) as p:
            p.scard(k.running)
            p.zcount(k.workers, alive_since, "+inf")
            p.get(k.total)
            running, workers, total = await p.execute()
        return {
            "queue_length": waiting,
            "running": int(running),
            "workers": int(workers),
            "total_jobs": int(total or 0),
            "redis_connected": True,
        }

    async def ping(self) -> bool:
        return bool(await self.r.ping())


def worker_liveness_window(settings: Settings) -> float:
    """A slot counts as alive if it beat within this many seconds (it beats at least every 2 s)."""
    return max(10.0, 3 * settings.heartbeat_interval_seconds)


def parse_backlog(groups: list[dict], xlen: int, cancelled_waiting: int = 0) -> tuple[int, int, bool]:
    """(waiting, in_flight, lag_available) from XINFO GROUPS. Without `lag` (NULL, or Redis < 7) waiting
    falls back to XLEN - pending, valid because every ack is followed by XDEL in the same script. Entries of
    jobs cancelled before delivery are still in the stream until a worker skips them: not waiting."""
    for g in groups:
        name = g.get("name")
        if (name.decode() if isinstance(name, bytes) else name) == GROUP:
            pending = int(g.get("pending") or 0)
            lag = g.get("lag")
            if lag is None:
                return max(0, xlen - pending - cancelled_waiting), pending, False
            return max(0, int(lag) - cancelled_waiting), pending, True
    return max(0, xlen - cancelled_waiting), 0, False


async def backlog_async(r: redis.asyncio.Redis, k: Keys) -> tuple[int, int]:
    try:
        groups = await r.xinfo_groups(k.stream)
    except ResponseError:  # no stream yet
        return 0, 0
    waiting, pending, _ = parse_backlog(groups, await r.xlen(k.stream), await r.scard(k.cancelled_waiting))
    return waiting, pending
