"""The worker's solver child on both input formats: NGRS JSON and Curtois text, stored by the API as bytes and
decoded by the child (JSON -> dict, anything else -> text), solved by service.solver.engine."""

from __future__ import annotations

import pytest

from service.worker.child import final_progress, parse_document
from worker_harness import curtois, example

pytestmark = pytest.mark.slow


def test_child_decodes_json_to_a_dict_and_anything_else_to_text():
    assert parse_document(b'{"a": [1, 2]}') == {"a": [1, 2]}
    text = curtois(1)
    assert parse_document(text) == text.decode()
    assert final_progress({"solverRun": {"solutionsFound": 3, "objective": 7.0, "bestBound": 5.0,
                                         "durationSeconds": 1.25}}) == \
        {"solutions": 3, "objective": 7.0, "best_bound": 5.0, "elapsed": 1.25}


def test_real_solve_of_tiny_example_completes(harness):
    harness.worker()
    job_id = harness.submit(example("ngrs_tiny.json"), time_limit_seconds=5)
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=60)
    assert done["status"] == "completed", done
    status, result = harness.result(job_id)
    assert result["sourceFormat"] == "ngrs" and result["solverRun"]["status"] == "OPTIMAL"
    assert isinstance(result["assignments"], list) and result["assignments"]


def test_real_solve_of_curtois_text_instance_completes(harness):
    harness.worker()
    job_id = harness.submit(curtois(1), time_limit_seconds=10)  # the .txt document's bytes, as the API stores it
    done = harness.wait_status(job_id, ("completed", "failed"), timeout=60)
    assert done["status"] == "completed", done
    status, result = harness.result(job_id)
    assert result["sourceFormat"] == "curtois" and result["solverRun"]["status"] == "OPTIMAL"
    assert result["assignments"] and result["solverRun"]["objective"] == 607  # Instance1's known optimum
    p = harness.status(job_id)["progress"]
    assert p["solutions"] == result["solverRun"]["solutionsFound"] and p["objective"] == 607
