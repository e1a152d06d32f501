"""Key layout: every key carries one hash tag `{<REDIS_KEY_PREFIX>}` so all keys share a cluster slot.

`{p}:jobs` stream (group `workers`, entries hold only a job id), `{p}:job:<id>` hash, `{p}:input:<id>` and
`{p}:result:<id>` (zlib) strings, `{p}:dead` and `{p}:outbox` streams, `{p}:running` set, `{p}:queued` zset
(for the reconciler), `{p}:cancelled-waiting` set (cancelled before delivery: their stream entries still
count in the group's lag), `{p}:workers` zset of slot heartbeats, `{p}:total` counter, `{p}:lock:<name>` locks.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "workers"
WEBHOOK_GROUP = "webhooks"


@dataclass(frozen=True)
class Keys:
    prefix: str

    @property
    def tag(self) -> str:
        return "{" + self.prefix + "}"

    @property
    def stream(self) -> str:
        return f"{self.tag}:jobs"

    @property
    def dead(self) -> str:
        return f"{self.tag}:dead"

    @property
    def outbox(self) -> str:
        return f"{self.tag}:outbox"

    @property
    def webhook_dead(self) -> str:
        return f"{self.tag}:webhook-dead"

    @property
    def running(self) -> str:
        return f"{self.tag}:running"

    @property
    def queued(self) -> str:
        return f"{self.tag}:queued"

    @property
    def cancelled_waiting(self) -> str:
        return f"{self.tag}:cancelled-waiting"

    @property
    def workers(self) -> str:
        return f"{self.tag}:workers"

    @property
    def total(self) -> str:
        return f"{self.tag}:total"

    def job(self, job_id: str) -> str:
        return f"{self.tag}:job:{job_id}"

    def input(self, job_id: str) -> str:
        return f"{self.tag}:input:{job_id}"

    def result(self, job_id: str) -> str:
        return f"{self.tag}:result:{job_id}"

    def lock(self, name: str) -> str:
        return f"{self.tag}:lock:{name}"
