"""Request body cap (MAX_BODY_BYTES): 413 before reading when Content-Length is too big, and 413 as soon as
a streamed (chunked, or lying) body passes the cap, so no request can make the API buffer more than that.
Also the response headers every answer carries: rosters name people, so job answers are never cached.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import BodyTooLarge, error_json


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                break
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            status, code, msg = (
                (413, "PAYLOAD_TOO_LARGE", f"request body of {declared} bytes exceeds the {self.max_bytes}-byte limit")
                if declared > 0
                else (400, "BAD_REQUEST", "invalid Content-Length header")
            )
            response = error_json(status, code, msg, headers={"Connection": "close"})
            await response(scope, receive, send)
            return

        seen = 0
        limit = self.max_bytes

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, capped_receive, send)


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` everywhere; `Cache-Control: no-store` on job endpoints."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope.get("path", "").startswith("/solve/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in present:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if no_store and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
