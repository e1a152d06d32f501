"""Webhook dispatcher against a real Redis and a real loopback HTTP receiver: signature, retries with
backoff, dead letters, and refusal of private targets without WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson
import pytest
from pydantic import SecretStr

from loopback import Loopback
from service.jobs.keys import Keys
from service.jobs.queue import WorkerQueue
from service.jobs.redis_client import make_sync_redis
from service.worker.webhooks import WebhookDispatcher, webhook_url_problem
from worker_harness import Harness, wait_for

SECRET = "s3cret-signing-key"


@pytest.fixture
def receiver():
    lb = Loopback()
    yield lb
    lb.close()


def finished_job(settings, tmp_path, webhook_url, status="completed") -> str:
    """Submit a job and take it to a terminal state through the queue scripts (no solver needed here)."""
    h = Harness(settings, {}, tmp_path)
    job_id = h.submit(b"{}", webhook_url=webhook_url)
    q = WorkerQueue(make_sync_redis(settings), settings, "w")
    c = wait_for(lambda: q.claim(100), 5, what="claim")
    assert q.start(c) == "started"
    kw = {"result": b"{}"} if status == "completed" else {"error_code": "SOLVER_ERROR", "error_message": "boom"}
    assert q.finish(c, status, **kw) == "ok"
    return job_id


def dispatcher(settings, **update):
    s = settings.model_copy(update={"webhook_signing_secret": SecretStr(SECRET), "webhook_backoff_base_seconds": 0.05,
                                    **update})
    return WebhookDispatcher(s).start()


def test_delivers_signed_event(queue_settings, receiver, tmp_path):
    job_id = finished_job(queue_settings, tmp_path, receiver.url + "/hook")
    d = dispatcher(queue_settings, webhook_allow_private=True)
    try:
        wait_for(lambda: receiver.requests, 10, what="webhook POST")
    finally:
        d.stop()
    req = receiver.requests[0]
    assert req.method == "POST" and req.path == "/hook"
    body = orjson.loads(req.body)
    assert body["type"] == "job.completed" and body["job_id"] == job_id and body["status"] == "completed"
    assert body["event_id"] == req.headers["X-NGRS-Event-Id"]
    ts = req.headers["X-NGRS-Timestamp"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-NGRS-Signature"] == f"v1={expected}"
    assert abs(int(ts) - time.time()) < 60
    k = Keys(queue_settings.redis_key_prefix)
    wait_for(lambda: make_sync_redis(queue_settings).xlen(k.outbox) == 0, 5, what="outbox drained")


def test_retries_with_backoff_then_succeeds(queue_settings, receiver, tmp_path):
    receiver.statuses = [500, 503]
    finished_job(queue_settings, tmp_path, receiver.url + "/hook", status="failed")
    d = dispatcher(queue_settings, webhook_allow_private=True)
    try:
        wait_for(lambda: len(receiver.requests) >= 3, 10, what="three attempts")
        wait_for(lambda: d.delivered == 1, 5, what="delivered")
    finally:
        d.stop()
    ids = {r.headers["X-NGRS-Event-Id"] for r in receiver.requests}
    assert len(ids) == 1 and len(receiver.requests) == 3  # same event, no extra delivery after success
    assert orjson.loads(receiver.requests[-1].body)["error"]["code"] == "SOLVER_ERROR"


def test_dead_letters_after_max_attempts(queue_settings, receiver, tmp_path):
    receiver.default_status = 500
    job_id = finished_job(queue_settings, tmp_path, receiver.url + "/hook")
    d = dispatcher(queue_settings, webhook_allow_private=True, webhook_max_attempts=3)
    k = Keys(queue_settings.redis_key_prefix)
    r = make_sync_redis(queue_settings)
    try:
        dead = wait_for(lambda: r.xrange(k.webhook_dead), 10, what="webhook dead letter")
    finally:
        d.stop()
    assert len(receiver.requests) == 3
    assert dead[0][1][b"job_id"] == job_id.encode() and dead[0][1][b"reason"] == b"HTTP 500"
    assert r.xlen(k.outbox) == 0


def test_private_target_refused_without_flag(queue_settings, receiver, tmp_path):
    job_id = finished_job(queue_settings, tmp_path, receiver.url + "/hook")
    d = dispatcher(queue_settings, webhook_allow_private=False)
    k = Keys(queue_settings.redis_key_prefix)
    r = make_sync_redis(queue_settings)
    try:
        dead = wait_for(lambda: r.xrange(k.webhook_dead), 10, what="refused event dead-lettered")
    finally:
        d.stop()
    assert receiver.requests == []
    assert dead[0][1][b"job_id"] == job_id.encode() and b"https" in dead[0][1][b"reason"]


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/h", "https://169.254.169.254/latest/meta-data", "https://10.0.0.5/h",
     "https://192.168.1.1/h", "https://[::1]/h", "https://[::ffff:10.0.0.1]/h", "https://224.0.0.1/h",
     "https://0.0.0.0/h", "https://localhost/h", "http://93.184.215.14/h", "ftp://example.com/x"],
)
def test_url_check_refuses_non_public_targets(url):
    assert webhook_url_problem(url, allow_private=False) is not None


def test_url_check_allows_public_https_and_private_with_flag():
    assert webhook_url_problem("https://93.184.215.14/hook", allow_private=False) is None
    assert webhook_url_problem("http://127.0.0.1:9/hook", allow_private=True) is None
