"""`WorkerQueue`: the worker side of the queue (sync redis-py): claim, start, heartbeat, progress, finish,
release, slot liveness, reconciler, backlog. One instance per solver slot, with its own consumer name.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from dataclasses import dataclass

import redis
from redis.exceptions import ResponseError

from service.jobs import scripts
from service.jobs.keys import GROUP, Keys
from service.jobs.store import parse_backlog
from service.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    job_id: str
    stream_id: str
    token: str = ""
    time_limit: float | None = None
    webhook_url: str = ""


def _num_arg(v) -> str:
    return "" if v is None else repr(v)


class WorkerQueue:
    def __init__(self, r: redis.Redis, settings: Settings, consumer: str):
        self.r = r
        self.s = settings
        self.k = Keys(settings.redis_key_prefix)
        self.consumer = consumer
        self._autoclaim_cursor = "0-0"
        self._last_sweep = 0.0
        self._scripts = {
            name: r.register_script(getattr(scripts, name))
            for name in ("START", "HEARTBEAT", "PROGRESS", "FINISH", "RELEASE", "RECONCILE", "RECONCILE_RUNNING", "LOCK",
                         "UNLOCK")
        }

    @property
    def lease_ms(self) -> int:
        return int(self.s.job_lease_seconds * 1000)

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.k.stream, GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    # --- claiming ------------------------------------------------------------------------------
    def claim(self, block_ms: int) -> Claimed | None:
        """An expired lease first (XAUTOCLAIM COUNT 1, at most every sweep interval), else a new entry."""
        now = time.monotonic()
        if now - self._last_sweep >= self.s.sweep_interval_seconds:
            self._last_sweep = now
            got = self._autoclaim()
            if got:
                return got
        try:
            resp = self.r.xreadgroup(GROUP, self.consumer, {self.k.stream: ">"}, count=1, block=block_ms)
        except ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            self.ensure_group()
            return None
        for _stream, entries in resp or []:
            for sid, fields in entries:
                return Claimed(fields[b"job"].decode(), sid.decode())
        return None

    def _autoclaim(self) -> Claimed | None:
        # Scan the whole PEL in one sweep: COUNT 1 claims at most one entry, the cursor moves on.
        for _ in range(100):
            try:
                resp = self.r.xautoclaim(
                    self.k.stream, GROUP, self.consumer, self.lease_ms, start_id=self._autoclaim_cursor, count=1
                )
            except ResponseError as e:
                if "NOGROUP" not in str(e):
                    raise
                self.ensure_group()
                return None
            cursor, entries = resp[0], resp[1]
            self._autoclaim_cursor = cursor.decode() if isinstance(cursor, bytes) else cursor
            for sid, fields in entries:
                sid = sid.decode()
                if not fields:  # entry deleted under its PEL id (Redis 6.2 returns it with nil fields)
                    self.r.xack(self.k.stream, GROUP, sid)
                    continue
                log.info("reclaimed %s (lease expired)", sid)
                return Claimed(fields[b"job"].decode(), sid)
            if self._autoclaim_cursor == "0-0":
                return None
        return None

    # --- one job's lifecycle ---------------------------------------------------------------------
    def start(self, c: Claimed) -> str:
        """'started' (c.token set), or 'missing'|'terminal'|'lost'|'stale'|'cancelled'|'dead'."""
        k = self.k
        out = self._scripts["START"](
            keys=[k.job(c.job_id), k.input(c.job_id), k.result(c.job_id), k.stream, k.dead, k.outbox,
                  k.running, k.queued, k.cancelled_waiting],
            args=[c.job_id, c.stream_id, GROUP, self.consumer, repr(time.time()), self.s.max_attempts,
                  self.s.result_ttl_seconds, uuid.uuid4().hex],
        )
        kind = out[0].decode()
        if kind == "started":
            c.token = out[1].decode()
            tl, hook = self.r.hmget(k.job(c.job_id), "time_limit", "webhook_url")
            c.time_limit = float(tl) if tl else None
            c.webhook_url = (hook or b"").decode()
        return kind

    def document(self, c: Claimed) -> bytes | None:
        return self.r.get(self.k.input(c.job_id))

    def heartbeat(self, c: Claimed) -> tuple[bool, bool]:
        """(still_owner, cancel_requested); renews the lease only while this consumer owns the entry."""
        out = self._scripts["HEARTBEAT"](
            keys=[self.k.job(c.job_id), self.k.stream], args=[c.stream_id, GROUP, self.consumer, c.token]
        )
        if out[0] == b"lost":
            return False, False
        return True, out[1] == b"1"

    def progress(self, c: Claimed, solutions: int, objective, best_bound, elapsed: float) -> bool:
        return bool(
            self._scripts["PROGRESS"](
                keys=[self.k.job(c.job_id)],
                args=[self.consumer, c.token, solutions, "" if objective is None else repr(objective),
                      "" if best_bound is None else repr(best_bound), repr(elapsed), repr(time.time())],
            )
        )

    def finish(self, c: Claimed, status: str, *, result: bytes | None = None, error_code: str = "",
               error_message: str = "", progress: dict | None = None) -> str:
        """'ok', 'lost' (fenced: nothing recorded) or 'terminal'. `progress` (solutions, objective, best_bound,
        elapsed) is the final progress, written in the same script so the status never shows a stale one."""
        k = self.k
        blob = zlib.compress(result) if result is not None else b""
        final: list = []
        if progress is not None:
            final = [int(progress.get("solutions") or 0), _num_arg(progress.get("objective")),
                     _num_arg(progress.get("best_bound")), repr(float(progress.get("elapsed") or 0.0))]
        out = self._scripts["FINISH"](
            keys=[k.job(c.job_id), k.input(c.job_id), k.result(c.job_id), k.stream, k.running, k.queued,
                  k.outbox],
            args=[c.job_id, c.stream_id, GROUP, self.consumer, c.token, repr(time.time()), status, blob,
                  error_code, error_message, self.s.result_ttl_seconds, *final],
        )
        return out[0].decode()

    def release(self, c: Claimed, *, count_attempt: bool = False) -> bool:
        """Hand the job back, claimable at once; by default the attempt is not counted (SIGTERM)."""
        k = self.k
        return bool(
            self._scripts["RELEASE"](
                keys=[k.job(c.job_id), k.stream, k.running, k.queued],
                args=[c.job_id, c.stream_id, GROUP, self.consumer, c.token, self.lease_ms, repr(time.time()),
                      "0" if count_attempt else "1"],
            )
        )

    # --- liveness, locks, reconciler ------------------------------------------------------------
    def beat_slot(self) -> None:
        now = time.time()
        with self.r.pipeline(transaction=False) as p:
            p.zadd(self.k.workers, {self.consumer: now})
            p.zremrangebyscore(self.k.workers, "-inf", now - 3600)
            p.execute()

    def slot_gone(self) -> None:
        self.r.zrem(self.k.workers, self.consumer)

    def lock(self, name: str, token: str, ttl_s: float) -> bool:
        return bool(self._scripts["LOCK"](keys=[self.k.lock(name)], args=[token, int(ttl_s * 1000)]))

    def unlock(self, name: str, token: str) -> None:
        self._scripts["UNLOCK"](keys=[self.k.lock(name)], args=[token])

    def reconcile(self, older_than_s: float = 30.0) -> int:
        """Re-add `queued` jobs whose stream entry is gone (an XADD lost in a failover) and `running` jobs
        whose entry is no longer pending (a lost XREADGROUP). Returns how many were re-added."""
        cutoff = time.time() - older_than_s
        requeued = 0
        for raw in self.r.srandmember(self.k.running, 1000) or []:
            job_id = raw.decode()
            out = self._scripts["RECONCILE_RUNNING"](
                keys=[self.k.job(job_id), self.k.stream, self.k.running, self.k.queued],
                args=[job_id, GROUP, repr(time.time())],
            )
            if out == b"requeued":
                log.warning("reconciler re-queued running job %s that had no pending entry", job_id)
                requeued += 1
        for raw in self.r.zrangebyscore(self.k.queued, "-inf", cutoff, start=0, num=1000):
            job_id = raw.decode()
            out = self._scripts["RECONCILE"](
                keys=[self.k.job(job_id), self.k.stream, self.k.queued], args=[job_id, GROUP]
            )
            if out == b"requeued":
                log.warning("reconciler re-added job %s missing from the stream", job_id)
                requeued += 1
        return requeued

    def backlog(self) -> tuple[int, int, bool]:
        """(waiting, in_flight, lag_available)."""
        try:
            groups = self.r.xinfo_groups(self.k.stream)
        except ResponseError:
            return 0, 0, True
        return parse_backlog(groups, self.r.xlen(self.k.stream), self.r.scard(self.k.cancelled_waiting))
