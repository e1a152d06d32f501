"""Service endpoints: /health (liveness, no Redis), /ready (Redis reachable), /version, /schema, /validate."""

from __future__ import annotations

import asyncio
import functools
import logging
import platform
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

import service
from service.api.auth import require_owner
from service.api.bodies import read_json
from service.api.errors import REDIS_DOWN, ApiError, ErrorBody, error_json, redacted_url
from service.api.models import Health, Ready, ValidationReportModel, Version
from service.api.store import get_probe

router = APIRouter()
log = logging.getLogger("service.api")

API_VERSION = "1.0"
# Below the usual 5 s health-check timeout of load balancers, so they see our 503 and its reason.
READY_TIMEOUT = 2.0

_ERR = {"model": ErrorBody}


@router.get("/health", response_model=Health, tags=["service"], summary="Liveness (does not touch Redis)")
async def health() -> dict:
    return {"status": "ok", "timestamp": datetime.now(timezone.utc).isoformat()}


@router.get(
    "/ready",
    response_model=Ready,
    tags=["service"],
    summary="Readiness: the job store (Redis) answers",
    responses={503: {**_ERR, "description": "REDIS_UNAVAILABLE: Redis is unreachable"}},
)
async def ready(request: Request):
    settings = request.app.state.settings
    try:
        ok = bool(await asyncio.wait_for(get_probe(request).ping(), READY_TIMEOUT))
        reason = "PING failed"
    except asyncio.TimeoutError:
        ok, reason = False, f"no answer within {READY_TIMEOUT:g} s"
    except REDIS_DOWN as exc:
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        return error_json(
            503,
            "REDIS_UNAVAILABLE",
            f"not ready: Redis at {redacted_url(settings.redis_url)} is unreachable ({reason})",
            headers={"Retry-After": "5"},
        )
    return {"status": "ready", "redis": "ok"}


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    import ortools

    schema_version = None
    try:
        from service.solver.formats import ngrs

        schema_version = getattr(ngrs, "SCHEMA_VERSION", None) or ngrs.SUPPORTED_VERSIONS[-1]
    except (ImportError, AttributeError, IndexError):
        pass
    return {
        "service": "ngrs-solver",
        "apiVersion": API_VERSION,
        "solverVersion": service.__version__,
        "ortoolsVersion": ortools.__version__,
        "schemaVersion": None if schema_version is None else str(schema_version),
        "python": platform.python_version(),
    }


@router.get("/version", response_model=Version, tags=["service"], summary="Service, solver and schema versions")
async def version() -> dict:
    return _versions()


@functools.lru_cache(maxsize=1)
def input_schema() -> dict[str, Any]:
    from service.solver.formats.ngrs import NgrsInput

    return NgrsInput.model_json_schema()


@router.get(
    "/schema",
    tags=["service"],
    summary="Live JSON Schema of the NGRS input (generated from the model the solver parses with)",
    response_description="a JSON Schema (draft 2020-12) document",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def schema() -> JSONResponse:
    return JSONResponse(input_schema())


SUBMIT_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": "#/components/schemas/NgrsInput"},
                                     {"$ref": "#/components/schemas/SubmitWrapper"}]}
            }
        },
    }
}


# /validate reports on any JSON value (a non-object is an INVALID_TYPE error in a 200 report).
VALIDATE_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": "#/components/schemas/NgrsInput"},
                                     {"$ref": "#/components/schemas/SubmitWrapper"}, {}]}
            }
        },
    }
}


@router.post(
    "/validate",
    response_model=ValidationReportModel,
    tags=["service"],
    summary="Validate an NGRS input without queuing it (200 with errors and warnings for any JSON body)",
    openapi_extra=VALIDATE_BODY_DOC,
    responses={
        401: {**_ERR, "description": "UNAUTHORIZED"},
        413: {**_ERR, "description": "PAYLOAD_TOO_LARGE"},
        422: {**_ERR, "description": "EMPTY_BODY / INVALID_JSON: the body is not JSON"},
    },
)
async def validate(request: Request, owner: str = Depends(require_owner)) -> dict:
    body, data = await read_json(request)
    if not isinstance(data, dict):
        issue = {"field": "", "code": "INVALID_TYPE", "message": "the input must be a JSON object"}
        return {"valid": False, "errors": [issue], "warnings": []}
    document = data["input_json"] if isinstance(data.get("input_json"), dict) else data
    report = await run_validation(document)
    return report.to_dict()


async def run_validation(document: dict):
    from service.solver.validate import validate_document

    try:
        return await run_in_threadpool(validate_document, document)
    except Exception:  # noqa: BLE001 - a validator crash on odd input is still bad input, not a 500
        log.exception("validator failed on a document")
        raise ApiError(
            422, "UNPROCESSABLE_INPUT", "the document could not be validated; check its structure against /schema"
        ) from None
