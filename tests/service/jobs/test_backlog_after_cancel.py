"""Regression test for a finding of the chaos/load work: jobs cancelled while queued must leave
`stats().queue_length` (and so the backlog metric that drives worker scaling) at once, not when some worker
reads their stream entries and skips them. With zero running workers the backlog would otherwise stay
inflated and the scale-out alarm would fire for jobs nobody will run.

CANCEL deliberately leaves the stream entry (an XDEL of an undelivered entry would make the group's `lag`
NULL) and records the job in the `cancelled-waiting` set, which the backlog subtracts from `lag`; START
removes it when a worker finally reads the entry.
"""

from __future__ import annotations

import asyncio


def test_cancelled_queued_jobs_leave_the_backlog(queue_settings):
    from service.jobs.redis_client import make_async_redis
    from service.jobs.store import JobStore

    async def scenario():
        r = make_async_redis(queue_settings)
        try:
            store = JobStore(r, queue_settings)
            ids = [(await store.submit(document=b"{}", owner="o"))[0] for _ in range(3)]
            assert (await store.stats())["queue_length"] == 3
            for job_id in ids[:2]:
                assert (await store.cancel(job_id, "o"))["status"] == "cancelled"
            waiting = (await store.stats())["queue_length"]
            # a worker reading the two cancelled entries skips them; the backlog stays exact
            from service.jobs.queue import WorkerQueue
            from service.jobs.redis_client import make_sync_redis

            q = WorkerQueue(make_sync_redis(queue_settings), queue_settings, "w")
            kinds = []
            for _ in range(3):
                c = q.claim(100)
                kinds.append(q.start(c))
            after = (await store.stats())["queue_length"], await r.scard(store.keys.cancelled_waiting)
            return waiting, sorted(kinds), after
        finally:
            await r.aclose()

    waiting, kinds, (after, remembered) = asyncio.run(scenario())
    assert waiting == 1  # only the one job that can still run is waiting
    assert kinds == ["started", "terminal", "terminal"]
    assert after == 0 and remembered == 0
