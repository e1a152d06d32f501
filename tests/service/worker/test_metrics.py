"""Backlog metric (property 8) with a real Redis and a real loopback HTTP server standing in for the
CloudWatch endpoint (boto3 with endpoint_url and dummy credentials): the value, the single publisher."""

from __future__ import annotations

import orjson
import pytest
from botocore.parsers import RpcV2CBORParser

from loopback import Loopback
from service.jobs.queue import WorkerQueue
from service.jobs.redis_client import make_sync_redis
from service.worker.metrics import BacklogPublisher, start_backlog_publisher
from worker_harness import Harness, wait_for


@pytest.fixture
def cloudwatch(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    lb = Loopback(response_headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"})
    yield lb
    lb.close()


def decode(body: bytes) -> dict:
    """botocore picks JSON or Smithy RPC v2 CBOR for CloudWatch; accept what it sent."""
    if body.startswith(b"{"):
        return orjson.loads(body)
    parser = RpcV2CBORParser()
    return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))


def metric_values(req) -> dict[str, float]:
    data = decode(req.body)
    dims = {d["Value"] for m in data["MetricData"] for d in m["Dimensions"]}
    assert dims == {"test-env"}
    return {m["MetricName"]: m["Value"] for m in data["MetricData"]} | {"_ns": data["Namespace"]}


def test_backlog_metric_waiting_plus_running_without_workers(queue_settings, cloudwatch, tmp_path):
    s = queue_settings.model_copy(update={"metrics_enabled": True, "metrics_endpoint_url": cloudwatch.url,
                                          "metrics_interval_seconds": 0.3, "deploy_env": "test-env"})
    h = Harness(s, {}, tmp_path)
    for _ in range(3):
        h.submit(b"{}")
    q = WorkerQueue(make_sync_redis(s), s, "w")
    c = wait_for(lambda: q.claim(100), 5, what="claim")
    assert q.start(c) == "started"  # 2 waiting + 1 running; no worker process exists
    pub = start_backlog_publisher(s)
    try:
        wait_for(lambda: len(cloudwatch.requests) >= 2, 10, what="two PutMetricData calls")
    finally:
        pub.stop()
    req = cloudwatch.requests[-1]
    assert req.method == "POST"
    assert "PutMetricData" in req.headers.get("X-Amz-Target", "") + req.path
    assert req.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=test/")
    values = metric_values(req)
    assert values["_ns"] == "NGRS/Solver"
    assert values["QueueLength"] == 3 and values["QueueWaiting"] == 2 and values["QueueInFlight"] == 1


def test_only_one_publisher_wins_the_lock(queue_settings, cloudwatch):
    s = queue_settings.model_copy(update={"metrics_enabled": True, "metrics_endpoint_url": cloudwatch.url,
                                          "metrics_interval_seconds": 0.4})
    a, b = BacklogPublisher(s), BacklogPublisher(s)
    assert a.publish_once() == (0, 0)
    assert b.publish_once() is None and a.publish_once() == (0, 0)
    a.stop()  # releases the lock: the other takes over on its next tick
    assert b.publish_once() == (0, 0)
    b.stop()
    assert len(cloudwatch.requests) == 3


def test_publisher_is_off_by_default(queue_settings, cloudwatch):
    pub = start_backlog_publisher(queue_settings)
    pub.stop()
    assert pub.published == [] and cloudwatch.requests == []
