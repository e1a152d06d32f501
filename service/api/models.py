"""Request and response models of the HTTP API (OpenAPI documents them; handlers return plain dicts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatusName = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL = frozenset({"completed", "failed", "cancelled"})


class SubmitWrapper(BaseModel):
    """The wrapped form of `POST /solve/async`; a body without `input_json` is the NGRS input itself."""

    model_config = ConfigDict(extra="forbid")

    input_json: dict[str, Any] = Field(description="the NGRS input document")
    webhook_url: str | None = Field(None, max_length=2048, description="HTTPS URL notified when the job ends")
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=200, description="same key (per API key) -> same job, no second solve"
    )
    time_limit_seconds: float | None = Field(None, gt=0, description="solver time limit for this job")


class JobLinks(BaseModel):
    status: str
    result: str
    events: str


class SubmitResponse(BaseModel):
    job_id: str
    status: JobStatusName
    created_at: str | None = None
    links: JobLinks
    warnings: list[dict[str, str]] = Field(default_factory=list, description="validation warnings (not fatal)")


class JobProgress(BaseModel):
    solutions: int | None = None
    objective: float | None = None
    best_bound: float | None = None
    elapsed_seconds: float | None = None
    updated_at: str | None = None


class JobError(BaseModel):
    code: str
    message: str


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_id: str
    status: JobStatusName
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    attempts: int = 0
    progress: JobProgress | None = None
    error: JobError | None = None
    result_available: bool = False


class QueueStats(BaseModel):
    model_config = ConfigDict(extra="allow")

    queue_length: int
    running: int
    workers: int
    total_jobs: int
    redis_connected: bool


class Health(BaseModel):
    status: Literal["ok"]
    timestamp: str


class Ready(BaseModel):
    status: Literal["ready"]
    redis: Literal["ok"]


class Version(BaseModel):
    service: str
    apiVersion: str
    solverVersion: str
    ortoolsVersion: str
    schemaVersion: str | None
    python: str


class ValidationIssue(BaseModel):
    field: str
    code: str
    message: str


class ValidationReportModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    valid: bool
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]
