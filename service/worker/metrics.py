"""CloudWatch metrics: the backlog (waiting + in flight = XINFO GROUPS lag + pending) every
METRICS_INTERVAL_SECONDS from exactly one publisher (Redis lock, SET NX PX + renew), and per-job metrics
(JobDurationSeconds, JobsFailed) from the slots. Off unless METRICS_ENABLED; publishing never raises."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from service.jobs.queue import WorkerQueue
from service.jobs.redis_client import make_sync_redis
from service.settings import Settings

log = logging.getLogger(__name__)
_clients: dict[tuple, object] = {}


def cloudwatch(settings: Settings):
    key = (settings.metrics_endpoint_url, settings.metrics_region)
    if key not in _clients:
        import boto3

        region = settings.metrics_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        # Own session: boto3's module-level default session caches whatever credentials it resolved first.
        _clients[key] = boto3.session.Session().client("cloudwatch", region_name=region or "us-east-1",
                                                       endpoint_url=settings.metrics_endpoint_url)
    return _clients[key]


def _datum(settings: Settings, name: str, value: float, unit: str = "Count") -> dict:
    return {"MetricName": name, "Value": float(value), "Unit": unit,
            "Dimensions": [{"Name": "Environment", "Value": settings.deploy_env}]}


def put_metrics(settings: Settings, data: list[dict]) -> bool:
    try:
        cloudwatch(settings).put_metric_data(Namespace=settings.metrics_namespace, MetricData=data)
        return True
    except Exception as e:  # noqa: BLE001 - metrics must never take a worker down
        log.warning("PutMetricData failed: %s", e)
        return False


def put_job_metrics(settings: Settings, *, duration_seconds: float, failed: bool) -> bool:
    return put_metrics(settings, [_datum(settings, "JobDurationSeconds", duration_seconds, "Seconds"),
                                  _datum(settings, "JobsFailed", 1 if failed else 0)])


def backlog_data(settings: Settings, waiting: int, in_flight: int, lag_available: bool) -> list[dict]:
    return [
        _datum(settings, settings.metrics_queue_metric, waiting + in_flight),
        _datum(settings, "QueueWaiting", waiting),
        _datum(settings, "QueueInFlight", in_flight),
        _datum(settings, "LagUnavailable", 0 if lag_available else 1),
    ]


class BacklogPublisher:
    LOCK = "metrics-publisher"

    def __init__(self, settings: Settings):
        self.s = settings
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.q = WorkerQueue(make_sync_redis(settings), settings, consumer=f"metrics:{self.token}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="backlog-metric", daemon=True)
        self.published: list[tuple[int, int]] = []

    def start(self) -> "BacklogPublisher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        try:
            self.q.unlock(self.LOCK, self.token)
        except Exception:  # noqa: BLE001
            pass

    def publish_once(self) -> tuple[int, int] | None:
        """Publish if this process holds (or wins) the lock; (waiting, in_flight) when it did."""
        ttl = self.s.metrics_interval_seconds * 2.5  # one missed tick does not hand leadership over
        if not self.q.lock(self.LOCK, self.token, ttl):
            return None
        waiting, in_flight, lag_ok = self.q.backlog()
        put_metrics(self.s, backlog_data(self.s, waiting, in_flight, lag_ok))
        self.published.append((waiting, in_flight))
        return waiting, in_flight

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.publish_once()
            except Exception as e:  # noqa: BLE001 - Redis down: try again next tick
                log.warning("backlog metric: %s", e)
            self._stop.wait(self.s.metrics_interval_seconds)


class _Disabled:
    published: list = []

    def stop(self) -> None:
        pass


def start_backlog_publisher(settings: Settings) -> BacklogPublisher | _Disabled:
    if not settings.metrics_enabled:
        return _Disabled()
    return BacklogPublisher(settings).start()
