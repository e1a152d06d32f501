"""A stand-in solver entry point for worker tests that need a solve of a controlled length or a misbehaving
solve (ignores its stop event or time limit). It runs real pure-Python CPU work in the solver child and
holds the GIL, like a native solve that never releases it. Selected with SOLVER_ENTRYPOINT; the document is
`{"standin": {"seconds": S, "ignore_stop": bool, "ignore_limit": bool, "fail": bool, "crash": bool}}`."""

from __future__ import annotations

import os
import signal
import time


class Progress:
    def __init__(self, solutions, objective, best_bound, elapsed):
        self.solutions, self.objective, self.best_bound, self.elapsed = solutions, objective, best_bound, elapsed


def solve_document(doc, *, time_limit=None, workers=1, on_progress=None, stop=None):
    spec = doc["standin"]
    seconds = float(spec.get("seconds", 1.0))
    if not spec.get("ignore_limit") and time_limit is not None:
        seconds = min(seconds, time_limit)
    if spec.get("fail"):
        raise RuntimeError("stand-in solver failure")
    if spec.get("crash"):  # dies like an OOM-killed or segfaulting native solver
        os.kill(os.getpid(), signal.SIGKILL)
    t0 = time.monotonic()
    solutions = 0
    status = "OPTIMAL"
    while time.monotonic() - t0 < seconds:
        if stop is not None and stop.is_set() and not spec.get("ignore_stop"):
            status = "FEASIBLE"
            break
        x = 0
        for i in range(20000):  # CPU work between checks, holding the GIL
            x += i * i
        solutions += 1
        if on_progress:
            on_progress(Progress(solutions, 1000.0 / solutions, 0.0, time.monotonic() - t0))
    return {"solverRun": {"status": status, "durationSeconds": time.monotonic() - t0},
            "standin": {"pid": os.getpid(), "solutions": solutions}}
