"""The solver child process: parse the document, run the real solver (`service.solver.engine.solve_document`),
send progress and the outcome to the slot over a pipe. It ignores SIGTERM/SIGINT: its slot stops it (stop
event) or kills it.

Memory: with SOLVER_MEMORY_LIMIT_MB the child caps its own address space (RLIMIT_AS) before it imports or
builds anything, so an oversized solve fails inside the child instead of growing until the kernel OOM-kills
the whole task. Running out of memory (a `MemoryError`, or `std::bad_alloc` surfacing as one, or a native
abort) is classified as a *crash*, not as an answer: the child exits with `EXIT_OUT_OF_MEMORY` and sends no
result, the slot counts the attempt and hands the job back, and after MAX_ATTEMPTS the start script moves it
to the dead-letter stream (status failed, MAX_ATTEMPTS) — the same path as a solver the kernel OOM-killed."""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from typing import Any

import orjson

from service.worker.procutil import die_with_parent

PROGRESS_MIN_INTERVAL = 0.2  # the slot writes to Redis at most once a second; no need to flood the pipe
EXIT_OUT_OF_MEMORY = 75  # the child's exit code after a MemoryError (the slot logs it; any no-answer exit is a crash)


def parse_document(doc: bytes) -> Any:
    """NGRS JSON -> dict; anything that is not JSON is passed on as text (a Curtois .txt instance)."""
    try:
        return orjson.loads(doc)
    except orjson.JSONDecodeError:
        return doc.decode("utf-8", errors="replace")


def limit_memory(limit_mb: int | None) -> None:
    """Cap this process's address space (RLIMIT_AS) at `limit_mb` MiB; None leaves it unlimited."""
    if not limit_mb:
        return
    cap = int(limit_mb) * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def final_progress(result: dict) -> dict | None:
    """The progress numbers of a finished solve, from its result's `solverRun` (what the status shows last)."""
    run = result.get("solverRun") if isinstance(result, dict) else None
    if not isinstance(run, dict):
        return None
    return {
        "solutions": int(run.get("solutionsFound") or 0),
        "objective": run.get("objective"),
        "best_bound": run.get("bestBound"),
        "elapsed": float(run.get("durationSeconds") or 0.0),
    }


def solve_child(doc: bytes, time_limit: float | None, threads: int, conn, stop_evt, parent: int,
                memory_limit_mb: int | None = None):
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
        limit_memory(memory_limit_mb)
        from service.solver.engine import solve_document  # imported under the cap: it is part of the solve

        result = solve_document(parse_document(doc), time_limit=time_limit, workers=threads,
                                on_progress=on_progress, stop=stop)
        payload = ("result", orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY), final_progress(result))
    except MemoryError:
        # A crash, not an answer (see the module docstring): no result, the attempt counts, the job is retried.
        try:
            with lock:
                conn.send(("crash", "OUT_OF_MEMORY", f"solver ran out of memory (limit {memory_limit_mb} MiB)"))
            conn.close()
        finally:
            os._exit(EXIT_OUT_OF_MEMORY)
    except Exception as e:  # noqa: BLE001 - every solver failure becomes a recorded job error
        issues = getattr(e, "issues", None)
        code = "INVALID_INPUT" if issues is not None else "SOLVER_ERROR"
        payload = ("error", code, f"{type(e).__name__}: {e}"[:2000])
    with lock:
        conn.send(payload)
    conn.close()
