"""`python -m bench` lists every harness with its command, and dispatches to one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_lists_every_harness_with_a_command():
    out = subprocess.run([sys.executable, "-m", "bench"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for name in ("scaling_sim", "solver", "load", "chaos", "fuzz"):
        assert f"  {name} " in out.stdout
    assert out.stdout.count("$ .venv/bin/python") >= 5


def test_dispatches_to_a_harness():
    out = subprocess.run([sys.executable, "-m", "bench", "scaling_sim", "--env", "dev", "--trace", "steady",
                          "--hours", "0.25", "--policy", "config"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert re.search(r"\|\s+dev \|\s+steady \|\s+config \|", out.stdout), out.stdout
