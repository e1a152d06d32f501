"""A real loopback HTTP server (stdlib http.server in a thread) that records requests and answers with
scripted status codes; stands in for webhook receivers, the ECS agent and CloudWatch."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Loopback:
    statuses: list[int] = field(default_factory=list)  # consumed one per request; then `default_status`
    default_status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
                status = outer.statuses.pop(0) if outer.statuses else outer.default_status
                self.send_response(status)
                for k, v in outer.response_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(outer.response_body)))
                self.end_headers()
                self.wfile.write(outer.response_body)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
