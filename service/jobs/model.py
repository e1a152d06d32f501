"""Job vocabulary shared by the API and worker sides: statuses, ids, and the public status dict."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})


def new_job_id(owner: str, idempotency_key: str | None) -> str:
    """A random id, or one derived from (owner, key): the job hash itself is then the idempotency record."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{owner}\0{idempotency_key}".encode()).hexdigest()[:32]


def iso(ts: str | bytes | None) -> str | None:
    if ts in (None, b"", ""):
        return None
    return datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _num(v: bytes | None) -> float | None:
    if v in (None, b"", b"None"):
        return None
    return float(v)


def status_dict(job_id: str, h: dict[bytes, bytes], result_available: bool) -> dict:
    """The public view of a job hash (the API returns this as-is)."""
    g = lambda k: h.get(k.encode())  # noqa: E731
    status = g("status").decode()
    progress = None
    if g("p_updated_at"):
        progress = {
            "solutions": int(float(g("p_solutions") or 0)),
            "objective": _num(g("p_objective")),
            "best_bound": _num(g("p_best_bound")),
            "elapsed_seconds": _num(g("p_elapsed")),
            "updated_at": iso(g("p_updated_at")),
        }
    error = None
    if status in (FAILED, CANCELLED) and g("error_code"):
        error = {"code": g("error_code").decode(), "message": (g("error_message") or b"").decode()}
    return {
        "job_id": job_id,
        "status": status,
        "created_at": iso(g("created_at")),
        "started_at": iso(g("started_at")),
        "completed_at": iso(g("completed_at")),
        "attempts": int(g("attempts") or 0),
        "progress": progress,
        "error": error,
        "result_available": result_available,
    }
