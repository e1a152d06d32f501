"""Job endpoints under /solve/async: submit (202), stats, status, result, cancel. The SSE stream
`/solve/async/{id}/events` is `service.ui.events` (status, progress, end), included by the app.

Every job call is scoped to the caller's owner id: another key's job is indistinguishable from an unknown
one (404). Nothing lists jobs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response

from service.api.auth import require_owner
from service.api.bodies import check_options, document_time_limit, read_json, split_submission
from service.api.errors import ApiError, ErrorBody
from service.api.models import TERMINAL, JobStatus, QueueStats, SubmitResponse
from service.api.routes_meta import SUBMIT_BODY_DOC, run_validation
from service.api.store import call, get_store

router = APIRouter(prefix="/solve/async", tags=["jobs"])

JobId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="job id from the submit reply")

_ERR = {"model": ErrorBody}
_COMMON = {
    401: {**_ERR, "description": "UNAUTHORIZED: missing or invalid X-API-Key"},
    503: {**_ERR, "description": "REDIS_UNAVAILABLE: the job store is unreachable; retry"},
}
_NOT_FOUND = {404: {**_ERR, "description": "JOB_NOT_FOUND: unknown, expired, or another key's job"}}


def _links(request: Request, job_id: str) -> dict[str, str]:
    base = f"{request.scope.get('root_path', '')}/solve/async/{job_id}"
    return {"status": base, "result": f"{base}/result", "events": f"{base}/events"}


def _not_found(job_id: str) -> ApiError:
    return ApiError(404, "JOB_NOT_FOUND", f"no job {job_id} for this API key (unknown, expired or not yours)")


@router.post(
    "",
    status_code=202,
    response_model=SubmitResponse,
    summary="Submit an NGRS input; the job is queued and solved by a worker",
    description=(
        "Body: the NGRS input itself, or `{input_json, webhook_url, idempotency_key, time_limit_seconds}`. "
        "The idempotency key may also come in the `Idempotency-Key` header. **202** when a new job was "
        "created; **200** (same body, current status) when the idempotency key matched an existing job of "
        "this API key, which is not solved again. `Location` points at the job. After a 503 the job may or "
        "may not have been created: retry with the same idempotency key to be safe."
    ),
    openapi_extra={
        **SUBMIT_BODY_DOC,
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "same as the wrapper's idempotency_key (the wrapper wins)",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
    },
    responses={
        200: {"model": SubmitResponse, "description": "idempotent re-post: the existing job"},
        202: {"description": "job created and queued"},
        413: {**_ERR, "description": "PAYLOAD_TOO_LARGE: body over MAX_BODY_BYTES"},
        422: {**_ERR, "description": "INVALID_INPUT (details: field paths and codes), INVALID_JSON, "
                                     "EMPTY_BODY, INVALID_TYPE, VALIDATION_ERROR, WEBHOOK_URL_NOT_ALLOWED"},
        **_COMMON,
    },
)
async def submit(request: Request, response: Response, owner: str = Depends(require_owner)) -> dict:
    settings = request.app.state.settings
    body, data = await read_json(request)
    sub = split_submission(body, data)
    if sub.idempotency_key is None:
        header = request.headers.get("Idempotency-Key")
        if header is not None:
            if not 1 <= len(header) <= 200:
                raise ApiError(422, "INVALID_VALUE", "Idempotency-Key must be 1-200 characters",
                               [{"field": "header.Idempotency-Key", "code": "INVALID_VALUE",
                                 "message": "must be 1-200 characters"}])
            sub.idempotency_key = header
    check_options(sub, settings)
    report = await run_validation(sub.document)
    if sub.time_limit_seconds is None:
        sub.time_limit_seconds = document_time_limit(sub.document, settings)
    if not report.ok:
        raise ApiError(
            422,
            "INVALID_INPUT",
            f"the NGRS input has {len(report.errors)} error(s); see details",
            [i.to_dict() for i in report.errors],
        )
    store = get_store(request)
    job_id, created = await call(
        request,
        store.submit(
            document=sub.document_bytes,
            owner=owner,
            webhook_url=sub.webhook_url,
            idempotency_key=sub.idempotency_key,
            time_limit_seconds=sub.time_limit_seconds,
        ),
    )
    status = await call(request, store.status(job_id, owner)) or {"status": "queued", "created_at": None}
    links = _links(request, job_id)
    response.status_code = 202 if created else 200
    response.headers["Location"] = links["status"]
    return {
        "job_id": job_id,
        "status": status["status"],
        "created_at": status.get("created_at"),
        "links": links,
        "warnings": [i.to_dict() for i in report.warnings],
    }


@router.get(
    "/stats",
    response_model=QueueStats,
    summary="Queue statistics, O(1) in the number of jobs (no job ids)",
    responses=_COMMON,
)
async def stats(request: Request, owner: str = Depends(require_owner)) -> dict:
    return await call(request, get_store(request).stats())


@router.get(
    "/{job_id}",
    response_model=JobStatus,
    summary="Job status and progress",
    responses={**_NOT_FOUND, **_COMMON},
)
async def job_status(request: Request, job_id: str = JobId, owner: str = Depends(require_owner)) -> dict:
    status = await call(request, get_store(request).status(job_id, owner))
    if status is None:
        raise _not_found(job_id)
    return status


@router.get(
    "/{job_id}/result",
    summary="The result JSON of a completed job",
    response_description="the NGRS output JSON (solverRun, assignments, unmetDemand, employeeRoster, scoreBreakdown)",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        409: {**_ERR, "description": "JOB_NOT_FINISHED: queued or running; error.status says which"},
        410: {**_ERR, "description": "JOB_FAILED / JOB_CANCELLED / RESULT_EXPIRED: there is no result; "
                                     "error.status and error.details say why"},
        **_NOT_FOUND,
        **_COMMON,
    },
)
async def job_result(request: Request, job_id: str = JobId, owner: str = Depends(require_owner)) -> Response:
    store = get_store(request)
    found = await call(request, store.result(job_id, owner))
    if found is None:
        raise _not_found(job_id)
    status, data = found
    if status == "completed" and data is not None:
        return Response(content=data, media_type="application/json")
    if status in ("queued", "running"):
        raise ApiError(409, "JOB_NOT_FINISHED", f"job {job_id} is {status}; poll its status or events",
                       status=status)
    if status == "completed":
        raise ApiError(410, "RESULT_EXPIRED", f"the result of job {job_id} is no longer stored", status=status)
    job = await call(request, store.status(job_id, owner)) or {}
    err = job.get("error") or {}
    details = [{"field": "", "code": err["code"], "message": err.get("message", "")}] if err.get("code") else []
    code = "JOB_CANCELLED" if status == "cancelled" else "JOB_FAILED"
    raise ApiError(410, code, f"job {job_id} is {status}; it has no result", details, status=status)


@router.delete(
    "/{job_id}",
    response_model=JobStatus,
    summary="Cancel a job",
    description=(
        "**200** when the job is cancelled (a queued job never starts); **202** when a running job has been "
        "asked to stop (its status turns `cancelled` within seconds); **409** if it had already finished."
    ),
    responses={
        202: {"model": JobStatus, "description": "cancel requested; the running solver is being stopped"},
        409: {**_ERR, "description": "JOB_ALREADY_FINISHED: completed, failed or cancelled before"},
        **_NOT_FOUND,
        **_COMMON,
    },
)
async def cancel(request: Request, response: Response, job_id: str = JobId,
                 owner: str = Depends(require_owner)) -> Any:
    store = get_store(request)
    before = await call(request, store.status(job_id, owner))
    if before is None:
        raise _not_found(job_id)
    if before["status"] in TERMINAL:
        raise ApiError(409, "JOB_ALREADY_FINISHED", f"job {job_id} is already {before['status']}",
                       status=before["status"])
    after = await call(request, store.cancel(job_id, owner))
    if after is None:
        raise _not_found(job_id)
    if after["status"] in ("completed", "failed"):
        raise ApiError(409, "JOB_ALREADY_FINISHED", f"job {job_id} finished ({after['status']}) before the cancel",
                       status=after["status"])
    response.status_code = 200 if after["status"] == "cancelled" else 202
    return after
