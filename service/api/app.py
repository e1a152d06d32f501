"""`create_app(settings)`: the FastAPI app - routes, auth, error handlers, body cap, CORS, OpenAPI, and the
lifespan that starts (and stops) the in-process worker pool, the backlog publisher and the webhook dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

import service
from service.api import routes_jobs, routes_meta
from service.ui import events as ui_events
from service.ui import routes as ui_routes
from service.api.auth import API_KEY_HEADER, KeyRing, load_keyring
from service.api.errors import install_error_handlers
from service.api.limits import BodySizeLimit, SecurityHeaders
from service.api.models import SubmitWrapper
from service.api.store import close_store
from service.settings import Settings, get_settings
from service.ui import router as ui_router

log = logging.getLogger("service.api")

POOL_STOP_TIMEOUT = 30.0


def _start_background(settings: Settings) -> list[tuple[str, Any]]:
    """Start what this process runs beside the API; each handle has `.stop(...)`."""
    from service.worker.metrics import start_backlog_publisher
    from service.worker.webhooks import start_webhook_dispatcher

    handles: list[tuple[str, Any]] = []
    try:
        if settings.start_workers and settings.solver_workers > 0:
            from service.worker.pool import start_worker_pool

            handles.append(("worker pool", start_worker_pool(settings)))
            log.info("started %d in-process solver worker(s)", settings.solver_workers)
        handles.append(("backlog publisher", start_backlog_publisher(settings)))
        handles.append(("webhook dispatcher", start_webhook_dispatcher(settings)))
    except BaseException:
        _stop_background(handles)
        raise
    return handles


def _stop_background(handles: list[tuple[str, Any]]) -> None:
    """Stop all at once: each may wait on Redis (up to its own timeout) when Redis is down, and waiting in
    turn would add those waits up."""

    def stop(name: str, handle: Any) -> None:
        try:
            if name == "worker pool":
                handle.stop(timeout=POOL_STOP_TIMEOUT)
            else:
                handle.stop()
        except Exception:  # noqa: BLE001 - keep stopping the others
            log.exception("stopping %s failed", name)

    threads = [threading.Thread(target=stop, args=h, name=f"stop-{h[0]}") for h in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@asynccontextmanager
async def _lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    handles = await asyncio.to_thread(_start_background, settings) if app.state.background else []
    try:
        yield
    finally:
        await asyncio.to_thread(_stop_background, handles)
        await close_store(app.state)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Default OpenAPI plus the NGRS input schema and the submit wrapper as components, so the request bodies
    of /solve/async and /validate are documented (the handlers read raw bodies to control errors and size)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    template = "#/components/schemas/{model}"
    try:
        from service.solver.formats.ngrs import NgrsInput

        ngrs = NgrsInput.model_json_schema(ref_template=template)
    except ImportError:
        ngrs = {"type": "object", "title": "NgrsInput"}
    for name, sub in ngrs.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas["NgrsInput"] = ngrs
    wrapper = SubmitWrapper.model_json_schema(ref_template=template)
    wrapper["properties"]["input_json"] = {"$ref": "#/components/schemas/NgrsInput"}
    schemas["SubmitWrapper"] = wrapper
    # FastAPI documents its own 422 body; ours is ErrorBody (field paths in details), so say that instead.
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            resp = op.get("responses", {}).get("422")
            if resp is not None:
                resp["content"] = {"application/json": {"schema": error_ref}}
                if resp.get("description") == "Validation Error":
                    resp["description"] = "VALIDATION_ERROR: a path or query parameter is invalid"
    for name in ("HTTPValidationError", "ValidationError"):
        if name not in str(doc.get("paths")):
            schemas.pop(name, None)
    app.openapi_schema = doc
    return doc


def create_app(settings: Settings | None = None, *, keyring: KeyRing | None = None, background: bool = True) -> FastAPI:
    """Build the app. Raises `AuthConfigError` when it must not start (no keys on a non-loopback HOST).

    `background=False` skips workers, publisher and dispatcher (for tools that only need the HTTP side)."""
    settings = settings or get_settings()
    keyring = keyring if keyring is not None else load_keyring(settings)
    app = FastAPI(
        title="NGRS solver service",
        version=service.__version__,
        description=(
            "Roster solving (OR-Tools CP-SAT) as queued jobs. Authenticate with the `X-API-Key` header. "
            "Every error body is `{\"error\": {\"code\", \"message\", \"details\": [{\"field\", \"code\", "
            "\"message\"}]}}`."
        ),
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.keyring = keyring
    app.state.background = background
    app.state.store = None
    app.state.redis = None
    app.state.probe = None
    install_error_handlers(app)
    app.include_router(routes_meta.router)
    app.include_router(routes_jobs.router)
    # The web page (/ui, public: it holds no data) and the job event stream it reads (key required).
    app.include_router(ui_routes.router)
    app.include_router(ui_events.router)
    app.include_router(ui_router)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[API_KEY_HEADER, "Content-Type", "Idempotency-Key"],
            allow_credentials=False,
        )
    # Added last = outermost: the cap applies before CORS or routing touch the body.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
