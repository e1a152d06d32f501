"""The solver child process: parse the document, call the solver entry point, send progress and the
outcome to the slot over a pipe. It ignores SIGTERM/SIGINT: its slot stops it (stop event) or kills it."""

from __future__ import annotations

import importlib
import signal
import threading
import time
from typing import Any

import orjson

from service.worker.procutil import die_with_parent

PROGRESS_MIN_INTERVAL = 0.2  # the slot writes to Redis at most once a second; no need to flood the pipe


def load_entrypoint(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "solve_document")


def parse_document(doc: bytes) -> Any:
    """NGRS JSON -> dict; anything that is not JSON is passed on as text (a Curtois .txt instance)."""
    try:
        return orjson.loads(doc)
    except orjson.JSONDecodeError:
        return doc.decode("utf-8", errors="replace")


def solve_child(entrypoint: str, doc: bytes, time_limit: float | None, threads: int, conn, stop_evt, parent: int):
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()

    def relay_stop() -> None:
        stop_evt.wait()
        stop.set()

    threading.Thread(target=relay_stop, name="stop-relay", daemon=True).start()
    last = 0.0
    lock = threading.Lock()

    def on_progress(p) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_MIN_INTERVAL:
            return
        last = now
        msg = {
            "solutions": int(getattr(p, "solutions", 0) or 0),
            "objective": getattr(p, "objective", None),
            "best_bound": getattr(p, "best_bound", None),
            "elapsed": float(getattr(p, "elapsed", 0.0) or 0.0),
        }
        with lock:
            conn.send(("progress", msg))

    try:
        solve = load_entrypoint(entrypoint)
        result = solve(parse_document(doc), time_limit=time_limit, workers=threads, on_progress=on_progress,
                       stop=stop)
        payload = ("result", orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY))
    except Exception as e:  # noqa: BLE001 - every solver failure becomes a recorded job error
        issues = getattr(e, "issues", None)
        code = "INVALID_INPUT" if issues is not None else "SOLVER_ERROR"
        payload = ("error", code, f"{type(e).__name__}: {e}"[:2000])
    with lock:
        conn.send(payload)
    conn.close()
