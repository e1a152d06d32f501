"""The browser UI (`GET /ui`, static assets: `router`) and the SSE progress stream (`events_router`)."""

from service.ui.routes import events_router, router

__all__ = ["events_router", "router"]
