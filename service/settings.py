"""The one settings object: every environment variable the service reads, with its default.

Documented in the README ("Configuration"). Read once per process with `get_settings()`; tests build
`Settings(...)` directly instead of patching the environment.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    # --- Redis ---------------------------------------------------------------------------------
    redis_url: str = Field("redis://127.0.0.1:6379", description="redis:// or rediss:// (TLS) URL")
    redis_db: int = Field(0, ge=0)
    redis_password: str | None = Field(None, description="AUTH token; overrides any password in REDIS_URL")
    redis_key_prefix: str = Field("ngrs", min_length=1)

    # --- jobs ----------------------------------------------------------------------------------
    result_ttl_seconds: int = Field(3600, ge=1, description="TTL of every terminal job and its result")

    # --- workers -------------------------------------------------------------------------------
    start_workers: bool = Field(True, description="API process also runs SOLVER_WORKERS workers (all-in-one)")
    solver_workers: int = Field(2, ge=0, description="concurrent solver slots per worker process")

    # --- HTTP ----------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
