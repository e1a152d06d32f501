"""Live job progress as server-sent events: `GET /solve/async/{job_id}/events`.

Authenticated exactly like every job endpoint (`require_owner`, 404 for another key's job). The stream
polls `JobStore.status` at most once a second and sends:
- `status`: the full status dict (same shape as `GET /solve/async/{id}`) whenever anything but progress
  changes (status, attempts, started_at...), and once at the start;
- `progress`: the status dict's `progress` object whenever it changes;
- `end`: the final status dict once the job is terminal; then the stream closes;
- `error`: `{code, message}` if the job expires or Redis becomes unreachable; then the stream closes
  (clients fall back to polling the status endpoint, which keeps working).
Plain `text/event-stream`: `curl -N -H 'X-API-Key: ...' .../events` works as well as `fetch()`.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, Callable

import orjson
from fastapi import APIRouter, Depends, Path, Request
from sse_starlette.sse import EventSourceResponse

from service.api.auth import require_owner
from service.api.errors import REDIS_DOWN, ApiError, ErrorBody
from service.api.store import call, get_store

TERMINAL = frozenset({"completed", "failed", "cancelled"})
POLL_SECONDS = 1.0  # the contract: at most one status read per second per stream
PING_SECONDS = 15  # keeps proxies (ALB idle timeout 60 s) from closing a quiet stream

router = APIRouter(tags=["jobs"])

JobId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="job id from the submit reply")


def _event(name: str, data: Any) -> dict:
    return {"event": name, "data": orjson.dumps(data).decode()}


def _without_progress(status: dict) -> dict:
    return {k: v for k, v in status.items() if k != "progress"}


async def job_event_stream(
    first: dict,
    fetch: Callable[[], Awaitable[dict | None]],
    is_disconnected: Callable[[], Awaitable[bool]],
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[dict]:
    """The event sequence for one job, starting from its already-read status `first`."""
    current: dict | None = first
    last_status: dict | None = None
    last_progress: Any = None
    while True:
        if current is None:
            yield _event("error", {"code": "JOB_NOT_FOUND", "message": "the job expired or was removed"})
            return
        bare = _without_progress(current)
        if bare != last_status:
            yield _event("status", current)
            last_status = bare
        progress = current.get("progress")
        if progress and progress != last_progress:
            yield _event("progress", progress)
            last_progress = progress
        if current.get("status") in TERMINAL:
            yield _event("end", current)
            return
        if await is_disconnected():
            return
        await asyncio.sleep(poll_seconds)
        try:
            current = await fetch()
        except REDIS_DOWN as exc:
            yield _event("error", {"code": "REDIS_UNAVAILABLE", "message": f"{type(exc).__name__}: {exc}"})
            return


@router.get(
    "/solve/async/{job_id}/events",
    summary="Server-sent events: `status`, `progress`, then `end` when the job is terminal",
    description=__doc__.split("\n\n", 1)[1],
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        401: {"model": ErrorBody, "description": "UNAUTHORIZED: missing or invalid X-API-Key"},
        404: {"model": ErrorBody, "description": "JOB_NOT_FOUND: unknown, expired, or another key's job"},
        503: {"model": ErrorBody, "description": "REDIS_UNAVAILABLE: the job store is unreachable; retry"},
    },
)
async def job_events(request: Request, job_id: str = JobId, owner: str = Depends(require_owner)):
    store = get_store(request)
    first = await call(request, store.status(job_id, owner))
    if first is None:
        raise ApiError(404, "JOB_NOT_FOUND", f"no job {job_id} for this API key (unknown, expired or not yours)")

    async def fetch() -> dict | None:
        return await call(request, store.status(job_id, owner))

    return EventSourceResponse(
        job_event_stream(first, fetch, request.is_disconnected),
        ping=PING_SECONDS,  # sse-starlette already sends Cache-Control: no-store, X-Accel-Buffering: no
    )
