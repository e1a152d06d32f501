"""`python -m service api [--host H] [--port P]`: run the API under uvicorn; SIGTERM/SIGINT stop it cleanly
(uvicorn drains requests, then the lifespan stops workers, publisher and dispatcher)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from service.settings import Settings, get_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="bind address (default: HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: PORT, 8080)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(settings: Settings, log_level: str = "info") -> int:
    import uvicorn

    from service.api.app import create_app
    from service.api.auth import AuthConfigError

    try:
        app = create_app(settings)
    except AuthConfigError as exc:
        print(f"python -m service api: {exc}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=10,
        log_config=None,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the captured SIGTERM/SIGINT after its graceful shutdown; with these no-op handlers
    # in place that re-raise is harmless and a clean stop exits 0 instead of dying by the signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run()
    return 0 if server.started else 1


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    settings = get_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    return serve(settings, args.log_level)
