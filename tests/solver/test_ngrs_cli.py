"""`python -m service solve` / `validate`: JSON on stdout, progress on stderr, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

from ngrs_testlib import EXAMPLES, ROOT


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_solve_prints_json_and_progress():
    r = _run("solve", str(EXAMPLES / "ngrs_tiny.json"), "--time-limit", "5", "--workers", "1")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["solverRun"]["status"] == "OPTIMAL"
    assert "solution 1" in r.stderr and "status OPTIMAL" in r.stderr


def test_solve_missing_file():
    r = _run("solve", "no/such/file.json")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_solve_bad_json_and_invalid_document(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = _run("solve", str(bad))
    assert r.returncode == 2 and "INVALID_JSON" in r.stderr and "Traceback" not in r.stderr
    doc = json.loads((EXAMPLES / "ngrs_tiny.json").read_text())
    doc["demandItems"][0]["shifts"][0]["shiftDetails"][0]["start"] = "7am"
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(doc))
    r = _run("solve", str(invalid))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "demandItems[0].shifts[0].shiftDetails[0].start: INVALID_TIME" in r.stderr
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    r = _run("solve", str(binary))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_solve_bad_options():
    r = _run("solve", str(EXAMPLES / "ngrs_tiny.json"), "--time-limit", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_validate_cli(tmp_path):
    r = _run("validate", str(EXAMPLES / "ngrs_020.json"))
    assert r.returncode == 0
    report = json.loads(r.stdout)
    assert report["valid"] is True and report["warnings"][0]["code"] == "UNKNOWN_CONSTRAINT"
    doc = json.loads((EXAMPLES / "ngrs_tiny.json").read_text())
    del doc["employees"][0]["employeeId"]
    f = tmp_path / "x.json"
    f.write_text(json.dumps(doc))
    r = _run("validate", str(f))
    assert r.returncode == 1
    assert json.loads(r.stdout)["errors"][0] == {"field": "employees[0].employeeId", "code": "MISSING_FIELD",
                                                 "message": "Field required"}
    assert _run("validate", str(tmp_path / "none.json")).returncode == 2
