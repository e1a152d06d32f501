"""service.progress: the shared progress line (solve and submit CLIs)."""

from __future__ import annotations

import io

from service.progress import ProgressPrinter, bar, describe, gap, snapshot
from service.solver.engine import Progress


def test_snapshot_reads_the_solver_dataclass_and_the_api_dict_alike():
    a = snapshot(Progress(solutions=3, objective=120.0, best_bound=100.0, elapsed=2.5))
    b = snapshot({"solutions": 3, "objective": 120, "best_bound": 100, "elapsed_seconds": 2.5, "updated_at": "x"})
    assert a == b
    assert snapshot({}).solutions == 0 and snapshot({}).objective is None


def test_gap_and_description():
    assert gap(None, 1.0) is None
    assert gap(100.0, 100.0) == 0.0
    assert abs(gap(200.0, 100.0) - 0.5) < 1e-9
    line = describe(snapshot({"solutions": 2, "objective": 1234567, "best_bound": 1000, "elapsed_seconds": 3.21}),
                    "running")
    assert line == "running solutions=2 objective=1,234,567 bound=1,000 gap=99.9% elapsed=3.2s"
    assert bar(0.5, 10) == "[#####.....]" and bar(2.0, 4) == "[####]"


def test_tty_mode_redraws_one_line_with_a_bar_and_ends_it():
    out = io.StringIO()
    p = ProgressPrinter(out, tty=True, time_limit=10)
    p.update(Progress(1, 100.0, 10.0, 1.0))
    p.update(Progress(2, 50.0, 40.0, 5.0), force=True)
    p.finish("completed")
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")
    frames = text.rstrip("\n").split("\r")[1:]
    assert len(frames) == 3
    assert frames[1].startswith("[" + "#" * 12 + "." * 12 + "]")  # 5 s of 10 s
    assert "completed solutions=2 objective=50 bound=40 gap=20.0% elapsed=5.0s" in frames[2]


def test_plain_mode_prints_lines_throttled_and_always_shows_the_final_state():
    out = io.StringIO()
    p = ProgressPrinter(out, tty=False, min_interval=3600)
    p.update({"solutions": 1, "objective": 9, "best_bound": 1, "elapsed_seconds": 0.1}, "running")
    p.update({"solutions": 2, "objective": 8, "best_bound": 1, "elapsed_seconds": 0.2}, "running")  # throttled
    p.finish("completed")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines == [
        "running solutions=1 objective=9 bound=1 gap=88.9% elapsed=0.1s",
        "completed solutions=2 objective=8 bound=1 gap=87.5% elapsed=0.2s",
    ]


def test_isatty_decides_the_mode_by_default():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert ProgressPrinter(Tty()).tty is True
    assert ProgressPrinter(io.StringIO()).tty is False


def test_solve_cli_draws_the_bar_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    from stack import EXAMPLES, REPO

    cmd = [sys.executable, "-m", "service", "solve", str(EXAMPLES / "ngrs_tiny.json"), "--time-limit", "2",
           "-o", str(tmp_path / "out.json")]
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0
    tty_text = b"".join(chunks).decode()
    assert "\r[" in tty_text and "solutions=1" in tty_text, tty_text
    piped = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and "solution 1:" in piped.stderr
