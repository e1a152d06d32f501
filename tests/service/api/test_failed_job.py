"""A job a real worker fails: the result endpoint answers 410 JOB_FAILED carrying the status and the job's
error. The failure is the worker's own INPUT_MISSING path (the stored input expired before the job started),
with the in-process worker pool the API lifespan starts when START_WORKERS=true."""

from __future__ import annotations

import pytest
from api_helpers import tiny_doc, wait_for

from service.jobs.keys import Keys

pytestmark = pytest.mark.slow


def test_failed_job_result_is_410_with_error(serve, redis_server):
    queue_only = serve()
    prefix = queue_only.settings.redis_key_prefix
    with queue_only.client() as c:
        job_id = c.post("/solve/async", json=tiny_doc()).json()["job_id"]
    assert redis_server.client().delete(Keys(prefix).input(job_id)) == 1  # as if its TTL had run out

    with_workers = serve(background=True, start_workers=True, solver_workers=1, redis_key_prefix=prefix)
    with with_workers.client() as c:
        final = wait_for(lambda: (s := c.get(f"/solve/async/{job_id}").json())["status"] != "queued" and s,
                         timeout=60, interval=0.2, what="job picked up")
        final = wait_for(lambda: (s := c.get(f"/solve/async/{job_id}").json())["status"] == "failed" and s,
                         timeout=30, interval=0.2, what="job failed")
        assert final["error"]["code"] == "INPUT_MISSING"
        r = c.get(f"/solve/async/{job_id}/result")
        assert r.status_code == 410
        err = r.json()["error"]
        assert err["code"] == "JOB_FAILED" and err["status"] == "failed"
        assert err["details"][0]["code"] == "INPUT_MISSING"
        assert c.delete(f"/solve/async/{job_id}").status_code == 409
        assert c.get("/solve/async/stats").json()["workers"] == 1
