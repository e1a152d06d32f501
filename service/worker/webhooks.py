"""Webhook dispatcher: a consumer group (`webhooks`) on the outbox stream that the terminal job scripts
write to. POSTs signed JSON, retries with exponential backoff, then dead-letters to `{p}:webhook-dead`.

Signature: `X-NGRS-Signature: v1=<hex HMAC-SHA256(WEBHOOK_SIGNING_SECRET, "<timestamp>.<body>")>` with the
timestamp in `X-NGRS-Timestamp`. Targets must be https and resolve only to public addresses unless
WEBHOOK_ALLOW_PRIVATE=true (no SSRF into the VPC, the metadata endpoint or loopback). Delivery is
at-least-once; `event_id` (the outbox entry id) lets receivers drop duplicates.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import ipaddress
import logging
import os
import random
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import httpx
import orjson
from redis.exceptions import ConnectionError, ReadOnlyError, ResponseError, TimeoutError

from service.jobs.keys import WEBHOOK_GROUP, Keys
from service.jobs.model import iso
from service.jobs.redis_client import make_sync_redis
from service.settings import Settings

log = logging.getLogger(__name__)
REDIS_DOWN = (ConnectionError, TimeoutError, ReadOnlyError)


def _forbidden_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def webhook_url_problem(url: str, allow_private: bool, resolve: bool = True) -> str | None:
    """None if `url` is an acceptable webhook target, else why not. Every resolved address is checked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:
        return f"invalid URL: {e}"
    if parts.scheme not in ("https", "http") or not host:
        return "URL must be http(s)://host/..."
    if allow_private:
        return None
    if parts.scheme != "https":
        return "webhook URL must use https"
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return None
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            return f"cannot resolve {host}: {e}"
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    bad = [str(a) for a in addresses if _forbidden_ip(a)]
    if bad:
        return f"webhook target {host} resolves to a non-public address ({', '.join(bad)})"
    return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def event_body(event_id: str, f: dict[str, str]) -> bytes:
    payload = {"event_id": event_id, "type": f.get("type"), "job_id": f.get("job_id"), "status": f.get("status"),
               "occurred_at": iso(f.get("at"))}
    if f.get("error_code"):
        payload["error"] = {"code": f["error_code"], "message": f.get("error_message", "")}
    return orjson.dumps(payload)


class WebhookDispatcher:
    def __init__(self, settings: Settings, client: httpx.Client | None = None):
        self.s = settings
        self.k = Keys(settings.redis_key_prefix)
        self.r = make_sync_redis(settings)
        self.http = client or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._retries: list[tuple[float, int, str, dict, int]] = []  # (due, seq, entry id, fields, attempts)
        self._seq = 0
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._last_sweep = 0.0
        self.delivered = 0

    def start(self) -> "WebhookDispatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.http.close()

    def _ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.k.outbox, WEBHOOK_GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._ensure_group()
                while not self._stop.is_set():
                    self.poll_once()
            except REDIS_DOWN as e:
                log.warning("webhooks: redis unavailable (%s); retrying", e)
                self._stop.wait(1.0)
            except Exception:
                log.exception("webhook dispatcher error")
                self._stop.wait(1.0)

    def poll_once(self, block_ms: int = 1000) -> None:
        now = time.time()
        while self._retries and self._retries[0][0] <= now:
            _, _, sid, fields, attempts = heapq.heappop(self._retries)
            self.deliver(sid, fields, attempts)
        entries = []
        if time.monotonic() - self._last_sweep > 30:
            # events a crashed dispatcher was holding; idle longer than any backoff we schedule ourselves
            self._last_sweep = time.monotonic()
            idle = int((self.s.webhook_backoff_max_seconds + 60) * 1000)
            entries += self.r.xautoclaim(self.k.outbox, WEBHOOK_GROUP, self.consumer, idle, count=10)[1]
        if not entries:
            wait = block_ms
            if self._retries:
                wait = max(10, min(wait, int((self._retries[0][0] - time.time()) * 1000)))
            resp = self.r.xreadgroup(WEBHOOK_GROUP, self.consumer, {self.k.outbox: ">"}, count=10, block=wait)
            for _stream, got in resp or []:
                entries += got
        for sid, fields in entries:
            sid = sid.decode()
            if not fields:
                self._done(sid)
                continue
            self.deliver(sid, {k.decode(): v.decode() for k, v in fields.items()}, 0)

    def deliver(self, sid: str, f: dict[str, str], attempts: int) -> None:
        url = f.get("webhook_url", "")
        if not url:
            self._done(sid)
            return
        problem = webhook_url_problem(url, self.s.webhook_allow_private)
        if problem:
            log.warning("webhook %s for job %s refused: %s", sid, f.get("job_id"), problem)
            self._done(sid, dead_reason=problem, fields=f)
            return
        body = event_body(sid, f)
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-NGRS-Event-Id": sid, "X-NGRS-Timestamp": ts,
                   "User-Agent": "ngrs-webhooks/1"}
        if self.s.webhook_signing_secret is not None:
            headers["X-NGRS-Signature"] = sign(self.s.webhook_signing_secret.get_secret_value(), ts, body)
        attempts += 1
        try:
            resp = self.http.post(url, content=body, headers=headers)
            if 200 <= resp.status_code < 300:
                self.delivered += 1
                self._done(sid)
                return
            error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        if attempts >= self.s.webhook_max_attempts:
            log.warning("webhook %s for job %s dead-lettered after %d attempts: %s", sid, f.get("job_id"),
                        attempts, error)
            self._done(sid, dead_reason=error, fields=f)
            return
        delay = min(self.s.webhook_backoff_max_seconds, self.s.webhook_backoff_base_seconds * 2 ** (attempts - 1))
        delay *= random.uniform(0.8, 1.2)
        log.info("webhook %s attempt %d failed (%s); retry in %.1fs", sid, attempts, error, delay)
        self._seq += 1
        heapq.heappush(self._retries, (time.time() + delay, self._seq, sid, f, attempts))

    def _done(self, sid: str, dead_reason: str | None = None, fields: dict | None = None) -> None:
        with self.r.pipeline(transaction=True) as p:
            if dead_reason is not None:
                p.xadd(self.k.webhook_dead, {**(fields or {}), "event_id": sid, "reason": dead_reason[:500]})
            p.xack(self.k.outbox, WEBHOOK_GROUP, sid)
            p.xdel(self.k.outbox, sid)
            p.execute()


def start_webhook_dispatcher(settings: Settings) -> WebhookDispatcher:
    return WebhookDispatcher(settings).start()
