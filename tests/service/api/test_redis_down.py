"""Redis stopped: /health stays 200, /ready and every store-backed endpoint answer 503 REDIS_UNAVAILABLE with
a clear message (never 500); after Redis is started again everything recovers on its own, jobs intact."""

from __future__ import annotations

import time

from api_helpers import tiny_doc, wait_for


def test_503_while_redis_is_down_and_recovery_after_restart(serve, private_redis):
    server = serve(redis_url=private_redis.url, api_redis_timeout_seconds=1.5)
    with server.client() as c:
        before = c.post("/solve/async", json=tiny_doc())
        assert before.status_code == 202
        job_id = before.json()["job_id"]

        private_redis.stop()
        assert c.get("/health").status_code == 200
        t0 = time.monotonic()
        ready = c.get("/ready")
        assert ready.status_code == 503 and time.monotonic() - t0 < 3
        assert ready.json()["error"]["code"] == "REDIS_UNAVAILABLE"
        assert private_redis.url.split("//")[1] in ready.json()["error"]["message"]
        assert ready.headers["retry-after"]
        calls = [
            ("POST", "/solve/async", tiny_doc()),
            ("GET", f"/solve/async/{job_id}", None),
            ("GET", f"/solve/async/{job_id}/result", None),
            ("DELETE", f"/solve/async/{job_id}", None),
            ("GET", "/solve/async/stats", None),
            ("GET", f"/solve/async/{job_id}/events", None),
        ]
        for method, path, body in calls:
            r = c.request(method, path, json=body)
            assert r.status_code == 503, (method, path, r.status_code, r.text)
            err = r.json()["error"]
            assert err["code"] == "REDIS_UNAVAILABLE" and "unreachable" in err["message"], err
        # Validation happens before Redis: bad input is still 422, not 503.
        assert c.post("/solve/async", json={"employees": 1}).status_code == 422

        private_redis.start()
        wait_for(lambda: c.get("/ready").status_code == 200, timeout=15, what="/ready 200 after restart")
        status = c.get(f"/solve/async/{job_id}")
        assert status.status_code == 200 and status.json()["status"] == "queued"  # AOF kept the accepted job
        after = c.post("/solve/async", json=tiny_doc())
        assert after.status_code == 202, after.text
        assert c.get("/solve/async/stats").json()["total_jobs"] == 2
