"""Progress display shared by `python -m service solve` and `python -m service submit`.

`ProgressPrinter(stream).update(progress)` takes the solver's `Progress` dataclass (`solutions, objective,
best_bound, elapsed`) or the API's progress dict (`solutions, objective, best_bound, elapsed_seconds`).
On a terminal it redraws one line in place (a bar, objective, bound, gap, elapsed); on anything else
(a pipe, a CI log) it prints plain lines, throttled, so logs stay readable. `finish(...)` ends the display.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, TextIO

BAR_WIDTH = 24


@dataclass(frozen=True)
class Snapshot:
    solutions: int
    objective: float | None
    best_bound: float | None
    elapsed: float


def snapshot(progress: Any) -> Snapshot:
    """Normalise a `Progress` object or a progress dict (API shape) into a `Snapshot`."""
    get = progress.get if isinstance(progress, dict) else lambda k, d=None: getattr(progress, k, d)
    elapsed = get("elapsed")
    if elapsed is None:
        elapsed = get("elapsed_seconds", 0.0)
    return Snapshot(
        solutions=int(get("solutions", 0) or 0),
        objective=_float(get("objective")),
        best_bound=_float(get("best_bound")),
        elapsed=float(elapsed or 0.0),
    )


def _float(x: Any) -> float | None:
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


def gap(objective: float | None, bound: float | None) -> float | None:
    """Relative optimality gap in [0, 1] (minimisation), None until both numbers exist."""
    if objective is None or bound is None:
        return None
    diff = abs(objective - bound)
    if diff < 1e-9:
        return 0.0
    return min(1.0, diff / max(abs(objective), abs(bound), 1e-9))


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}"


def describe(s: Snapshot, status: str | None = None) -> str:
    """One human line: `status solutions=3 objective=1,234 bound=1,000 gap=19.0% elapsed=2.4s`."""
    g = gap(s.objective, s.best_bound)
    parts = [status] if status else []
    parts += [
        f"solutions={s.solutions}",
        f"objective={_num(s.objective)}",
        f"bound={_num(s.best_bound)}",
        f"gap={'-' if g is None else f'{g * 100:.1f}%'}",
        f"elapsed={s.elapsed:.1f}s",
    ]
    return " ".join(parts)


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    fraction = min(1.0, max(0.0, fraction))
    full = int(round(fraction * width))
    return "[" + "#" * full + "." * (width - full) + "]"


class ProgressPrinter:
    """Draws solver progress on `stream` (normally stderr). Safe to call from the solver thread.

    `tty` defaults to `stream.isatty()`. `time_limit` (seconds), when known, drives the bar (time used);
    otherwise the bar shows how far the gap has closed. Plain mode prints at most one line per
    `min_interval` seconds and only when something changed; TTY mode redraws at most 10 times a second.
    """

    def __init__(self, stream: TextIO, *, tty: bool | None = None, time_limit: float | None = None,
                 min_interval: float = 1.0, prefix: str = ""):
        self.stream = stream
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.time_limit = time_limit
        self.min_interval = 0.1 if tty else min_interval
        self.prefix = prefix
        self.last: Snapshot | None = None
        self.lines = 0
        self._shown: Snapshot | None = None
        self._shown_status: str | None = None
        self._shown_at = float("-inf")
        self._width = 0
        self._lock = threading.Lock()

    def update(self, progress: Any, status: str | None = None, *, force: bool = False) -> None:
        s = snapshot(progress)
        with self._lock:
            self.last = s
            now = time.monotonic()
            if not force and ((s == self._shown and status == self._shown_status)
                              or now - self._shown_at < self.min_interval):
                return
            self._shown, self._shown_at, self._shown_status = s, now, status
            self._draw(s, status)

    def _line(self, s: Snapshot, status: str | None) -> str:
        text = self.prefix + describe(s, status)
        if not self.tty:
            return text
        if self.time_limit:
            fraction = s.elapsed / self.time_limit
        else:
            g = gap(s.objective, s.best_bound)
            fraction = 0.0 if g is None else 1.0 - g
        return f"{bar(fraction)} {text}"

    def _draw(self, s: Snapshot, status: str | None) -> None:
        line = self._line(s, status)
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.lines += 1
        self.stream.flush()

    def finish(self, status: str | None = None, progress: Any = None) -> None:
        """Show the final state (always, unthrottled) and end the TTY line."""
        with self._lock:
            s = snapshot(progress) if progress is not None else self.last
            if s is not None and (s != self._shown or (status or self._shown_status) != self._shown_status):
                self._shown, self._shown_at = s, time.monotonic()
                self._shown_status = status or self._shown_status
                self._draw(s, self._shown_status)
            elif s is None and status is not None:
                self.stream.write(("\r" if self.tty else "") + self.prefix + status + ("" if self.tty else "\n"))
                self._width = len(self.prefix + status)
            if self.tty and self._width:
                self.stream.write("\n")
                self._width = 0
            self.stream.flush()
