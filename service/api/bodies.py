"""Reading a request body as JSON and splitting `POST /solve/async` bodies into document + job options.

Raw form: the NGRS input itself. Wrapped form: `{input_json, webhook_url, idempotency_key,
time_limit_seconds}`, recognised by the `input_json` key (the NGRS input never has one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import Request
from pydantic import ValidationError

from service.api.errors import ApiError, pydantic_details
from service.api.models import SubmitWrapper
from service.settings import Settings


@dataclass
class Submission:
    document: dict[str, Any]
    document_bytes: bytes
    webhook_url: str | None = None
    idempotency_key: str | None = None
    time_limit_seconds: float | None = None


def _invalid(code: str, message: str, field: str = "") -> ApiError:
    return ApiError(422, code, message, [{"field": field, "code": code, "message": message}])


async def read_json(request: Request) -> tuple[bytes, Any]:
    body = await request.body()
    if not body.strip():
        raise _invalid("EMPTY_BODY", "the request body is empty; send a JSON object")
    try:
        return body, orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _invalid("INVALID_JSON", f"the request body is not valid JSON: {exc}") from None


def split_submission(body: bytes, data: Any) -> Submission:
    if not isinstance(data, dict):
        raise _invalid("INVALID_TYPE", f"the body must be a JSON object, not {type(data).__name__}")
    if "input_json" not in data:
        return Submission(document=data, document_bytes=body)
    try:
        wrapper = SubmitWrapper.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "VALIDATION_ERROR", "the request wrapper is invalid; see details",
                       pydantic_details(exc.errors())) from None
    return Submission(
        document=wrapper.input_json,
        document_bytes=orjson.dumps(wrapper.input_json),
        webhook_url=wrapper.webhook_url,
        idempotency_key=wrapper.idempotency_key,
        time_limit_seconds=wrapper.time_limit_seconds,
    )


def document_time_limit(document: dict[str, Any], settings: Settings) -> float | None:
    """The input's own `solverRunTime.maxSeconds`, capped at JOB_MAX_RUNTIME_SECONDS, so the worker's hard
    deadline (limit + grace) follows the document instead of the one-hour default."""
    run = document.get("solverRunTime")
    seconds = run.get("maxSeconds") if isinstance(run, dict) else None
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 < seconds < float("inf"):
        return min(float(seconds), settings.job_max_runtime_seconds)
    return None


def check_options(sub: Submission, settings: Settings) -> None:
    if sub.time_limit_seconds is not None and sub.time_limit_seconds > settings.job_max_runtime_seconds:
        raise _invalid(
            "INVALID_VALUE",
            f"time_limit_seconds must be <= {settings.job_max_runtime_seconds:g} (JOB_MAX_RUNTIME_SECONDS)",
            "time_limit_seconds",
        )
    if sub.webhook_url is not None:
        problem = webhook_url_problem(sub.webhook_url, settings.webhook_allow_private)
        if problem:
            raise _invalid("WEBHOOK_URL_NOT_ALLOWED", problem, "webhook_url")


def webhook_url_problem(url: str, allow_private: bool) -> str | None:
    """Submit-time SSRF guard: no credentials, no localhost names, then the dispatcher's own rules without DNS
    (it resolves and re-checks every address at delivery time)."""
    from service.worker.webhooks import webhook_url_problem as dispatcher_rule

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "webhook_url is not a valid URL"
    if parts.username or parts.password:
        return "webhook_url must not carry credentials"
    if not allow_private and (host == "localhost" or host.endswith(".localhost")):
        return "webhook_url must not point at this host"
    return dispatcher_rule(url, allow_private, resolve=False)
