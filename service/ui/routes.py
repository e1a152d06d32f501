"""`router`: the web page at `GET /ui` and its static assets under `/ui/static/`.

The SSE route lives in `service.ui.events.router` (re-exported here as `events_router`), included by the
app separately so the app decides which events route is registered first.

The page and assets are public (they hold no data); every data call the page makes carries the API key
from sessionStorage in `X-API-Key`. Assets are a fixed allow-list read from `service/ui/static/` (no path
from the request touches the filesystem), served with a strict Content-Security-Policy: no inline
script, nothing loaded from another origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from service.api.errors import ApiError
from service.ui.events import router as events_router  # noqa: F401 - re-export

STATIC_DIR = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSETS = {p.name: p for p in STATIC_DIR.iterdir() if p.suffix in MEDIA_TYPES and p.name != "index.html"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every load, so a deployed fix reaches open browsers.
    "Cache-Control": "no-cache",
}

router = APIRouter()


@router.get("/ui", include_in_schema=False)
async def ui_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type=MEDIA_TYPES[".html"], headers=SECURITY_HEADERS)


@router.get("/ui/", include_in_schema=False)
async def ui_slash() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=308)


@router.get("/ui/static/{name}", include_in_schema=False)
async def ui_asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise ApiError(404, "NOT_FOUND", f"no UI asset {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)
