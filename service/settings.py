"""The one settings object: every environment variable the service reads, with its default.

Documented in the README ("Configuration"). Read once per process with `get_settings()`; tests build
`Settings(...)` directly instead of patching the environment.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    # --- Redis ---------------------------------------------------------------------------------
    redis_url: str = Field("redis://127.0.0.1:6379", description="redis:// or rediss:// (TLS) URL")
    redis_db: int = Field(0, ge=0, description="Redis logical database")
    redis_password: str | None = Field(None, description="AUTH token; overrides any password in REDIS_URL")
    redis_key_prefix: str = Field("ngrs", min_length=1, description="prefix (and hash tag) of every key")

    # --- jobs ----------------------------------------------------------------------------------
    result_ttl_seconds: int = Field(3600, ge=1, description="TTL of every terminal job and its result")

    # --- workers -------------------------------------------------------------------------------
    start_workers: bool = Field(True, description="API process also runs SOLVER_WORKERS workers (all-in-one)")
    solver_workers: int = Field(2, ge=0, description="concurrent solver slots per worker process")

    # --- HTTP ----------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="API listen address; off loopback API keys are required")
    port: int = Field(8080, ge=1, le=65535, description="API listen port")

    # --- queue / workers / webhooks / metrics (owned by the queue engineer, service/jobs + service/worker)
    redis_socket_timeout: float = Field(10.0, gt=0, description="must exceed the XREADGROUP BLOCK time (2 s)")
    redis_health_check_interval: int = Field(15, ge=0, description="PING connections idle longer than this")
    job_lease_seconds: float = Field(60.0, gt=0, description="PEL idle time after which a job is reclaimed")
    heartbeat_interval_seconds: float = Field(10.0, gt=0, description="lease renewal period (keep lease >= 4x)")
    sweep_interval_seconds: float = Field(15.0, gt=0, description="how often an idle slot looks for expired leases")
    max_attempts: int = Field(3, ge=1, description="starts before a job goes to the dead-letter stream")
    job_max_runtime_seconds: float = Field(3600.0, gt=0, description="solver time limit when a job sets none")
    job_timeout_grace_seconds: float = Field(30.0, ge=0, description="time limit + this = hard kill, TIMEOUT")
    cancel_grace_seconds: float = Field(10.0, ge=0, description="graceful stop before SIGKILL on cancel/timeout")
    progress_interval_seconds: float = Field(1.0, gt=0, description="at most one progress write per this")
    reconcile_interval_seconds: float = Field(300.0, gt=0, description="re-add queued jobs lost from the stream")
    solver_threads: int = Field(1, ge=1, description="CP-SAT search workers per solve")
    solver_memory_limit_mb: int | None = Field(
        None, ge=64, description="address-space cap (RLIMIT_AS) of each solver child; over it = a crash, retried"
    )
    webhook_signing_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key for X-NGRS-Signature")
    webhook_allow_private: bool = Field(False, description="allow http:// and private/loopback webhook targets")
    webhook_max_attempts: int = Field(8, ge=1, description="deliveries before a webhook event is dead-lettered")
    webhook_backoff_base_seconds: float = Field(2.0, gt=0, description="first retry delay, doubled each time")
    webhook_backoff_max_seconds: float = Field(600.0, gt=0, description="longest retry delay")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="per delivery attempt")
    metrics_enabled: bool = Field(False, description="publish backlog and job metrics to CloudWatch")
    metrics_namespace: str = Field("NGRS/Solver", description="CloudWatch namespace")
    metrics_queue_metric: str = Field("QueueLength", description="backlog metric name (waiting + running)")
    metrics_interval_seconds: float = Field(60.0, gt=0, description="backlog publishing period")
    metrics_endpoint_url: str | None = Field(None, description="CloudWatch endpoint override (tests, VPC endpoints)")
    metrics_region: str | None = Field(None, description="defaults to AWS_REGION / AWS_DEFAULT_REGION")
    deploy_env: str = Field("local", description="CloudWatch dimension Environment")
    ecs_agent_uri: str | None = Field(None, description="set by ECS; enables task scale-in protection")
    ecs_protection_minutes: int = Field(60, ge=1, le=2880, description="ExpiresInMinutes; refreshed at half")

    # --- API (owned by the API engineer, service/api) ------------------------------------------
    api_keys: SecretStr | None = Field(None, description="comma-separated API keys accepted in X-API-Key")
    api_keys_secret_id: str | None = Field(
        None, description='Secrets Manager id holding {"keys": [...]} or a comma list; read at startup'
    )
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="request body cap; larger -> 413")
    cors_origins: str = Field("", description="comma-separated origins allowed by CORS; empty = CORS off")
    api_redis_timeout_seconds: float = Field(5.0, gt=0, description="/ready and request Redis deadline -> 503")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
