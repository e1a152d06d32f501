"""GET /solve/async/{id}/events from service.ui.events: real API, real worker, real Redis.

The stream is read with httpx over loopback exactly as curl would; the route is registered ahead of the
app's own (`events_stack`), so these tests pin down the status/progress/end protocol of service.ui.events.
"""

from __future__ import annotations

import json
import time

import pytest
from stack import OTHER_KEY, example, wait_for

from service.client import parse_sse


def _submit(client, doc, time_limit=None) -> str:
    body = {"input_json": doc, "time_limit_seconds": time_limit} if time_limit else doc
    r = client.post("/solve/async", json=body)
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


def _events(client, job_id, on_event=None) -> list[tuple[str, dict, float]]:
    out = []
    with client.stream("GET", f"/solve/async/{job_id}/events") as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-store"
        for name, data in parse_sse(r.iter_lines()):
            out.append((name, json.loads(data), time.monotonic()))
            if on_event:
                on_event(name, out[-1][1])
    return out


def test_stream_sends_status_then_progress_then_end_and_closes(events_stack):
    with events_stack.client() as c:
        job_id = _submit(c, example("ngrs_tiny.json"))
        events = _events(c, job_id)
    names = [n for n, _, _ in events]
    assert names[0] == "status" and events[0][1]["job_id"] == job_id
    assert names[-1] == "end" and names.count("end") == 1
    end = events[-1][1]
    assert end["status"] == "completed" and end["result_available"] is True
    # every status change is announced once, in order, and ends on the terminal one
    statuses = [d["status"] for n, d, _ in events if n == "status"]
    assert statuses[-1] == "completed" and len(statuses) == len(set(statuses))
    assert set(statuses) <= {"queued", "running", "completed"}
    # the progress of the finished job was sent as its own event before `end`
    progress = [d for n, d, _ in events if n == "progress"]
    assert progress and progress[-1] == end["progress"] and progress[-1]["solutions"] >= 1


@pytest.mark.slow
def test_progress_events_arrive_while_running_and_end_after_cancel(events_stack):
    with events_stack.client() as c:
        job_id = _submit(c, example("ngrs_060.json"), time_limit=60)
        seen: list[dict] = []

        def on_event(name, data):
            if name == "progress":
                seen.append(data)
                if len(seen) == 2:  # live progress seen twice while running: now cancel
                    assert c.delete(f"/solve/async/{job_id}").status_code in (200, 202)

        started = time.monotonic()
        events = _events(c, job_id, on_event)
    assert len(seen) >= 2 and seen[0]["solutions"] >= 1
    assert seen[1] != seen[0]
    # at most one status read per second: progress events are ~1 s apart (slack for delivery jitter)
    times = [t for n, _, t in events if n == "progress"]
    assert all(b - a > 0.5 for a, b in zip(times, times[1:])), times
    assert events[-1][0] == "end" and events[-1][1]["status"] == "cancelled"
    assert time.monotonic() - started < 45


def test_stream_of_a_finished_job_is_status_progress_end_at_once(events_stack):
    with events_stack.client() as c:
        job_id = _submit(c, example("ngrs_tiny.json"))
        wait_for(lambda: events_stack.status(job_id)["status"] == "completed", 30, what="job completed")
        events = _events(c, job_id)
    assert [n for n, _, _ in events] == ["status", "progress", "end"]
    assert events[-1][2] - events[0][2] < 0.9  # no 1 s poll sleep before the end of a terminal job


def test_events_need_the_key_and_are_scoped_to_its_owner(events_stack):
    with events_stack.client() as c:
        job_id = _submit(c, example("ngrs_tiny.json"))
    with events_stack.client(key=None) as anon:
        r = anon.get(f"/solve/async/{job_id}/events")
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "UNAUTHORIZED"
    with events_stack.client(key="not-a-key") as bad:
        assert bad.get(f"/solve/async/{job_id}/events").status_code == 401
    with events_stack.client(key=OTHER_KEY) as other:
        r = other.get(f"/solve/async/{job_id}/events")
        assert r.status_code == 404 and r.json()["error"]["code"] == "JOB_NOT_FOUND"
    with events_stack.client() as c:
        r = c.get("/solve/async/no_such_job/events")
        assert r.status_code == 404 and r.json()["error"]["code"] == "JOB_NOT_FOUND"
        r = c.get("/solve/async/bad%20id!/events")
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "path.job_id"
