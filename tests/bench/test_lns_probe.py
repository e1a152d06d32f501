"""`bench/lns_probe.py`: the LNS alone from a roster saved by `bench/curtois.py --save`, real solves."""

from __future__ import annotations

import json

import pytest

from bench import curtois, lns_probe
from tests.solver.curtois.evaluator import benchmarks_dir

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rosters")
    assert curtois.main(["3", "--time-limit", "2", "--save", str(folder)]) == 0
    return folder / "Instance3.json"


@pytest.mark.slow
def test_one_row_per_seed_each_checked_by_the_evaluator(saved, capsys):
    start = json.loads(saved.read_text())["scoreBreakdown"]["total"]
    assert lns_probe.main(["3", str(saved), "--seconds", "2", "--seeds", "0,1", "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# Instance3, LNS alone for 2 s on 1 threads from")
    rows = [ln.split(" | ") for ln in lines[2:]]
    assert [r[0] for r in rows] == ["0", "1"]
    for r in rows:
        assert float(r[1]) == float(r[2]) <= start  # ours is the evaluator's, and never worse than the start
        assert r[3] == "ok"
        assert "days " in r[6] and "weekly " in r[6] and "reduced" not in r[6]


def test_bad_arguments_exit_with_a_message(saved, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        lns_probe.main(["3", str(saved), "--kinds", "days,nope"])
    assert exc.value.code == 2 and "unknown kind(s) ['nope']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        lns_probe.main(["3", str(saved), "--seeds", "0,x"])
    assert exc.value.code == 2 and "not a comma-separated list of integers: '0,x'" in capsys.readouterr().err
    other = tmp_path / "other.json"
    doc = json.loads(saved.read_text())
    doc["assignments"][0]["employeeId"] = "nobody"
    other.write_text(json.dumps(doc))
    with pytest.raises(SystemExit, match="the roster names 'nobody'"):
        lns_probe.main(["3", str(other)])
    with pytest.raises(SystemExit) as exc:
        lns_probe.main(["3", str(tmp_path / "missing.json")])
    assert exc.value.code == 2 and "cannot read the roster" in capsys.readouterr().err
