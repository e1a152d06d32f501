"""The queue scripts against a real Redis: submit, idempotency, start/heartbeat/finish, fencing, release,
dead letters, cancel, reconciler, stats. No worker processes here (see tests/service/worker)."""

from __future__ import annotations

import asyncio
import time
import zlib

import orjson
import pytest

from service.jobs.keys import GROUP, Keys
from service.jobs.queue import WorkerQueue
from service.jobs.redis_client import make_async_redis, make_sync_redis
from service.jobs.store import JobStore, parse_backlog

DOC = orjson.dumps({"hello": "world"})


def run(settings, fn):
    """Run `await fn(store)` on a fresh event loop and client."""

    async def main():
        r = make_async_redis(settings)
        try:
            return await fn(JobStore(r, settings))
        finally:
            await r.aclose()

    return asyncio.run(main())


def submit(settings, **kw):
    kw = {"document": DOC, "owner": "alice", "webhook_url": None, "idempotency_key": None,
          "time_limit_seconds": None} | kw
    return run(settings, lambda s: s.submit(**kw))


def worker(settings, name="w1"):
    q = WorkerQueue(make_sync_redis(settings), settings, name)
    q.ensure_group()
    return q


def claim(q, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = q.claim(block_ms=100)
        if c:
            return c
    return None


def test_submit_status_and_stats(queue_settings):
    job_id, created = submit(queue_settings, time_limit_seconds=5)
    assert created
    st = run(queue_settings, lambda s: s.status(job_id, "alice"))
    assert st["status"] == "queued" and st["attempts"] == 0 and st["progress"] is None
    assert st["created_at"].endswith("Z") and st["result_available"] is False
    assert run(queue_settings, lambda s: s.status(job_id, "mallory")) is None
    assert run(queue_settings, lambda s: s.status("nope", "alice")) is None
    stats = run(queue_settings, lambda s: s.stats())
    assert stats == {"queue_length": 1, "running": 0, "workers": 0, "total_jobs": 1, "redis_connected": True}
    assert run(queue_settings, lambda s: s.ping()) is True


def test_idempotency_key_scoped_per_owner(queue_settings):
    a1, new1 = submit(queue_settings, idempotency_key="k1")
    a2, new2 = submit(queue_settings, idempotency_key="k1")
    b1, newb = submit(queue_settings, idempotency_key="k1", owner="bob")
    assert (a1, new1, new2) == (a2, True, False)
    assert b1 != a1 and newb
    r = make_sync_redis(queue_settings)
    assert r.xlen(Keys(queue_settings.redis_key_prefix).stream) == 2  # one entry per distinct job
    assert r.get(Keys(queue_settings.redis_key_prefix).total) == b"2"


def test_accepted_job_survives_redis_restart(queue_settings, redis_server):
    """Property 1 (queue half): after submit returns, a Redis restart (AOF) keeps the job claimable."""
    job_id, _ = submit(queue_settings)
    redis_server.restart()
    q = worker(queue_settings)
    c = claim(q)
    assert c and c.job_id == job_id
    assert q.start(c) == "started"
    assert q.document(c) == DOC


def test_lifecycle_progress_result_ttl_and_outbox(queue_settings):
    job_id, _ = submit(queue_settings, webhook_url="https://example.com/hook")
    q = worker(queue_settings)
    c = claim(q)
    assert q.start(c) == "started" and c.token == "1"
    assert run(queue_settings, lambda s: s.stats())["running"] == 1
    assert q.heartbeat(c) == (True, False)
    assert q.progress(c, 3, 12.5, 10.0, 0.7)
    st = run(queue_settings, lambda s: s.status(job_id, "alice"))
    assert st["status"] == "running" and st["progress"]["solutions"] == 3
    assert st["progress"]["objective"] == 12.5 and st["progress"]["best_bound"] == 10.0
    result = orjson.dumps({"solverRun": {"status": "OPTIMAL"}})
    assert q.finish(c, "completed", result=result) == "ok"
    assert q.finish(c, "completed", result=result) == "ok"  # a retried script is harmless
    assert run(queue_settings, lambda s: s.result(job_id, "alice")) == ("completed", result)
    st = run(queue_settings, lambda s: s.status(job_id, "alice"))
    assert st["status"] == "completed" and st["result_available"] and st["completed_at"]
    k = Keys(queue_settings.redis_key_prefix)
    r = make_sync_redis(queue_settings)
    for key in (k.job(job_id), k.input(job_id), k.result(job_id)):
        assert 0 < r.ttl(key) <= queue_settings.result_ttl_seconds
    assert zlib.decompress(r.get(k.result(job_id))) == result
    assert r.xlen(k.stream) == 0 and r.xpending(k.stream, GROUP)["pending"] == 0
    events = r.xrange(k.outbox)
    assert len(events) == 1 and events[0][1][b"type"] == b"job.completed"
    assert run(queue_settings, lambda s: s.stats())["running"] == 0


def test_fencing_reclaimed_lease_cannot_record(queue_settings):
    s = queue_settings.model_copy(update={"job_lease_seconds": 0.3, "sweep_interval_seconds": 0.0})
    job_id, _ = submit(s)
    a, b = worker(s, "a"), worker(s, "b")
    ca = claim(a)
    assert a.start(ca) == "started"
    time.sleep(0.4)  # let the lease lapse without heartbeats (that is the scenario under test)
    cb = claim(b)
    assert cb and cb.job_id == job_id and b.start(cb) == "started" and cb.token == "2"
    assert a.heartbeat(ca) == (False, False)
    assert a.progress(ca, 1, 1.0, 1.0, 1.0) is False
    stale = {"solutions": 99, "objective": 1.0, "best_bound": 1.0, "elapsed": 9.0}
    assert a.finish(ca, "completed", result=b'{"from":"a"}', progress=stale) == "lost"
    assert run(s, lambda st: st.status(job_id, "alice"))["progress"] is None  # the fenced owner wrote nothing
    assert b.finish(cb, "completed", result=b'{"from":"b"}') == "ok"
    assert run(s, lambda st: st.result(job_id, "alice")) == ("completed", b'{"from":"b"}')


def test_finish_writes_the_final_progress_with_the_result(queue_settings):
    job_id, _ = submit(queue_settings)
    q = worker(queue_settings)
    c = claim(q)
    assert q.start(c) == "started"
    assert q.progress(c, 3, 6000320.0, 10.0, 0.7)  # an older incumbent
    final = {"solutions": 5, "objective": 0, "best_bound": 0.0, "elapsed": 2.5}
    assert q.finish(c, "completed", result=b"{}", progress=final) == "ok"
    p = run(queue_settings, lambda s: s.status(job_id, "alice"))["progress"]
    assert (p["solutions"], p["objective"], p["best_bound"], p["elapsed_seconds"]) == (5, 0.0, 0.0, 2.5)
    job2, _ = submit(queue_settings)
    c2 = claim(q)
    assert c2.job_id == job2 and q.start(c2) == "started"
    no_solution = {"solutions": 0, "objective": None, "best_bound": None, "elapsed": 1.0}
    assert q.finish(c2, "completed", result=b"{}", progress=no_solution) == "ok"
    p = run(queue_settings, lambda s: s.status(job2, "alice"))["progress"]
    assert (p["solutions"], p["objective"], p["best_bound"], p["elapsed_seconds"]) == (0, None, None, 1.0)


def test_release_is_claimable_at_once_and_uncounted(queue_settings):
    s = queue_settings.model_copy(update={"job_lease_seconds": 30.0, "sweep_interval_seconds": 0.0})
    job_id, _ = submit(s)
    a, b = worker(s, "a"), worker(s, "b")
    ca = claim(a)
    assert a.start(ca) == "started"
    assert a.release(ca)
    st = run(s, lambda x: x.status(job_id, "alice"))
    assert st["status"] == "queued" and st["attempts"] == 0
    t0 = time.monotonic()
    cb = claim(b, timeout=2.0)
    assert cb and cb.job_id == job_id and time.monotonic() - t0 < 2.0  # not after the 30 s lease
    assert b.start(cb) == "started" and cb.token == "1"
    assert a.finish(ca, "completed", result=b"{}") == "lost"


def test_poison_job_dead_letters_after_max_attempts(queue_settings):
    s = queue_settings.model_copy(update={"job_lease_seconds": 0.2, "sweep_interval_seconds": 0.0})
    job_id, _ = submit(s, webhook_url="https://example.com/hook")
    k = Keys(s.redis_key_prefix)
    r = make_sync_redis(s)
    outcomes = []
    for i in range(s.max_attempts + 1):
        q = worker(s, f"w{i}")
        c = claim(q)
        outcomes.append(q.start(c))
        time.sleep(0.25)  # the "worker" dies without heartbeats; its lease lapses
    assert outcomes == ["started"] * s.max_attempts + ["dead"]
    st = run(s, lambda x: x.status(job_id, "alice"))
    assert st["status"] == "failed" and st["error"]["code"] == "MAX_ATTEMPTS"
    assert r.hget(k.job(job_id), "starts") == b"3"
    dead = r.xrange(k.dead)
    assert len(dead) == 1 and dead[0][1][b"job_id"] == job_id.encode()
    assert [e[1][b"type"] for e in r.xrange(k.outbox)] == [b"job.failed"]
    assert r.xlen(k.stream) == 0


def test_cancel_queued_never_starts(queue_settings):
    job_id, _ = submit(queue_settings, webhook_url="https://example.com/hook")
    st = run(queue_settings, lambda x: x.cancel(job_id, "alice"))
    assert st["status"] == "cancelled" and st["error"]["code"] == "CANCELLED"
    assert run(queue_settings, lambda x: x.cancel(job_id, "bob")) is None
    q = worker(queue_settings)
    c = claim(q)
    assert q.start(c) == "terminal"
    r = make_sync_redis(queue_settings)
    k = Keys(queue_settings.redis_key_prefix)
    assert r.hget(k.job(job_id), "starts") == b"0"
    assert r.xlen(k.stream) == 0
    assert run(queue_settings, lambda x: x.result(job_id, "alice")) == ("cancelled", None)


def test_cancel_running_reaches_heartbeat(queue_settings):
    job_id, _ = submit(queue_settings)
    q = worker(queue_settings)
    c = claim(q)
    assert q.start(c) == "started"
    st = run(queue_settings, lambda x: x.cancel(job_id, "alice"))
    assert st["status"] == "running"
    assert q.heartbeat(c) == (True, True)
    assert q.finish(c, "cancelled", error_code="CANCELLED", error_message="cancelled") == "ok"
    assert q.finish(c, "completed", result=b"{}") == "terminal"
    assert run(queue_settings, lambda x: x.status(job_id, "alice"))["status"] == "cancelled"


def test_reconciler_readds_job_lost_from_stream(queue_settings):
    job_id, _ = submit(queue_settings)
    k = Keys(queue_settings.redis_key_prefix)
    r = make_sync_redis(queue_settings)
    sid = r.hget(k.job(job_id), "stream_id")
    r.xdel(k.stream, sid)  # what a failover that lost the XADD looks like
    q = worker(queue_settings)
    assert q.claim(block_ms=100) is None
    assert q.reconcile(older_than_s=0) == 1
    assert q.reconcile(older_than_s=0) == 0
    c = claim(q)
    assert c and c.job_id == job_id and q.start(c) == "started"


def test_backlog_counts_waiting_and_in_flight(queue_settings):
    for _ in range(3):
        submit(queue_settings)
    q = worker(queue_settings)
    c = claim(q)
    assert q.start(c) == "started"
    waiting, in_flight, lag_ok = q.backlog()
    assert (waiting, in_flight) == (2, 1)
    assert run(queue_settings, lambda x: x.stats())["queue_length"] == 2


@pytest.mark.parametrize(
    "groups,xlen,expected",
    [
        ([{"name": b"workers", "pending": 2, "lag": 5}], 9, (5, 2, True)),
        ([{"name": "workers", "pending": 2, "lag": None}], 9, (7, 2, False)),
        ([{"name": b"workers", "pending": 1}], 4, (3, 1, False)),  # Redis 6.2: no lag field
        ([], 3, (3, 0, False)),
    ],
)
def test_parse_backlog_lag_fallback(groups, xlen, expected):
    assert parse_backlog(groups, xlen) == expected


def test_reconciler_requeues_running_job_without_pending_entry(queue_settings):
    job_id, _ = submit(queue_settings)
    a = worker(queue_settings, "a")
    ca = claim(a)
    assert a.start(ca) == "started"
    k = Keys(queue_settings.redis_key_prefix)
    r = make_sync_redis(queue_settings)
    r.xack(k.stream, GROUP, ca.stream_id)  # a failover that lost the delivery: the PEL no longer has it
    assert a.reconcile(older_than_s=0) == 1
    assert a.heartbeat(ca) == (False, False)  # the old owner learns it lost the job
    st = run(queue_settings, lambda x: x.status(job_id, "alice"))
    assert st["status"] == "queued" and run(queue_settings, lambda x: x.stats())["running"] == 0
    b = worker(queue_settings, "b")
    cb = claim(b)
    assert cb and cb.job_id == job_id and b.start(cb) == "started"
    assert b.reconcile(older_than_s=0) == 0  # a healthy running job is left alone
    assert b.finish(cb, "completed", result=b"{}") == "ok"
