"""The one error body every 4xx/5xx carries, and the exception handlers that produce it.

`{"error": {"code": "UPPER_SNAKE", "message": "...", "details": [{"field", "code", "message"}]}}`; a few
errors add keys beside `code` (410 carries the job `status`). Nothing leaks a traceback.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis import exceptions as redis_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("service.api")

# Redis errors that mean "the store is not usable right now" (down, restarting, failing over): 503, not 500.
REDIS_DOWN = (
    redis_exc.ConnectionError,
    redis_exc.TimeoutError,
    redis_exc.ReadOnlyError,
    redis_exc.BusyLoadingError,
    redis_exc.MasterDownError,
    redis_exc.TryAgainError,
    redis_exc.ClusterDownError,
)

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    410: "GONE",
    411: "LENGTH_REQUIRED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL",
    503: "SERVICE_UNAVAILABLE",
}


class ErrorDetail(BaseModel):
    field: str = Field(description="path into the request, e.g. employees[0].employeeId; empty = whole body")
    code: str = Field(description="machine-readable reason, e.g. MISSING_FIELD, INVALID_DATE")
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="UPPER_SNAKE error code")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    status: str | None = Field(None, description="job status, on job errors (409, 410)")


class ErrorBody(BaseModel):
    error: ErrorInfo


class ApiError(StarletteHTTPException):
    """An HTTP error with a machine-readable code; rendered by `_api_error` into `ErrorBody`."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Iterable[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.extra = extra


class BodyTooLarge(Exception):
    """Raised from the capped `receive` when a streamed body passes MAX_BODY_BYTES."""

    def __init__(self, limit: int):
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


def error_json(status_code: int, code: str, message: str, details: Sequence[dict] = (), headers=None, **extra):
    err: dict[str, Any] = {"code": code, "message": message, "details": list(details)}
    err.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse({"error": err}, status_code=status_code, headers=headers)


def field_path(loc: Sequence[Any]) -> str:
    """('body', 'employees', 0, 'employeeId') -> 'employees[0].employeeId'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if where != "body" and parts:
            return f"{where}.{parts[0]}" if len(parts) == 1 else f"{where}." + field_path(parts)
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def pydantic_code(err_type: str) -> str:
    if err_type == "missing":
        return "MISSING_FIELD"
    if err_type == "extra_forbidden":
        return "UNKNOWN_FIELD"
    if err_type.endswith("_type") or err_type.endswith("_parsing") or err_type == "model_attributes_type":
        return "INVALID_TYPE"
    if err_type.startswith(("greater_than", "less_than", "too_", "string_", "enum", "literal", "url", "value")):
        return "INVALID_VALUE"
    return err_type.upper()


def pydantic_details(errors: Iterable[dict], prefix: Sequence[Any] = ()) -> list[dict]:
    return [
        {
            "field": field_path([*prefix, *e.get("loc", ())]),
            "code": pydantic_code(str(e.get("type", "invalid"))),
            "message": str(e.get("msg", "invalid value")),
        }
        for e in errors
    ]


def redacted_url(url: str) -> str:
    """The Redis URL without credentials, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


async def _api_error(request: Request, exc: ApiError):
    return error_json(exc.status_code, exc.code, exc.message, exc.details, exc.headers, **exc.extra)


def _allowed_methods(request: Request) -> str:
    """Methods of every operation on this path, from the OpenAPI document: Starlette's 405 names only the
    first route that matched the path (GET and DELETE on /solve/async/{job_id} are separate routes)."""
    import re

    app = request.app
    table = getattr(app.state, "allow_table", None)
    if table is None:
        table = []
        for template, ops in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
            methods = {m.upper() for m in ops}
            table.append(("{" not in template, pattern, methods | ({"HEAD"} if "GET" in methods else set())))
        app.state.allow_table = table
    path = request.url.path
    hits = [(static, m) for static, p, m in table if p.match(path)]
    if any(static for static, _ in hits):  # a fixed path (/solve/async/stats) wins over a template, as in routing
        hits = [h for h in hits if h[0]]
    return ", ".join(sorted(set().union(*[m for _, m in hits] or [set()])))


async def _http_error(request: Request, exc: StarletteHTTPException):
    code = _STATUS_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").lower()
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_json(exc.status_code, code, message, headers=headers or None)


async def _validation_error(request: Request, exc: RequestValidationError):
    details = pydantic_details(exc.errors())
    return error_json(422, "VALIDATION_ERROR", "the request is invalid; see details", details)


async def _body_too_large(request: Request, exc: BodyTooLarge):
    return error_json(413, "PAYLOAD_TOO_LARGE", str(exc), headers={"Connection": "close"})


async def _redis_down(request: Request, exc: Exception):
    settings = getattr(request.app.state, "settings", None)
    where = redacted_url(settings.redis_url) if settings is not None else "Redis"
    log.warning("redis unavailable on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return error_json(
        503,
        "REDIS_UNAVAILABLE",
        f"the job store ({where}) is unreachable ({type(exc).__name__}: {exc}); retry shortly",
        headers={"Retry-After": "5"},
    )


async def _internal(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(500, "INTERNAL", "internal error; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    for exc_type in REDIS_DOWN:
        app.add_exception_handler(exc_type, _redis_down)
    app.add_exception_handler(Exception, _internal)
