"""The /ui page in a real headless Chromium (Playwright driving /usr/bin/chromium) against a real stack:
API under uvicorn, a `python -m service worker` subprocess, the session Redis, the real solver.

Screenshots go to artifacts/ui/ (roster.png: the result grid of examples/ngrs_unmet.json).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from stack import EXAMPLES, KEY, example

pytestmark = pytest.mark.slow


def open_ui(page, stack, key: str | None = KEY):
    page.goto(stack.url + "/ui")
    expect(page.locator("#key-state")).to_have_text("no key")
    if key is not None:
        page.fill("#api-key", key)
        page.click("#key-save")
        expect(page.locator("#key-state")).to_have_text("key set (this tab only)")


def submit(page, doc: dict, time_limit: float | None = None) -> str:
    page.fill("#input", json.dumps(doc))
    if time_limit:
        page.fill("#time-limit", str(time_limit))
    page.click("#submit")
    expect(page.locator("#job-id")).not_to_have_text("")
    return page.locator("#job-id").inner_text()


def result_of(stack, job_id: str) -> dict:
    with stack.client() as c:
        r = c.get(f"/solve/async/{job_id}/result")
        assert r.status_code == 200, r.text
        return r.json()


@pytest.mark.parametrize("which", ["stack", "events_stack"])
def test_submit_tiny_example_and_see_the_roster(page, request, which):
    """Both event protocols: the app's own route and service.ui.events (status/progress/end)."""
    stack = request.getfixturevalue(which)
    doc = example("ngrs_tiny.json")
    open_ui(page, stack)
    job_id = submit(page, doc)
    expect(page.locator("#job-status")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#result-section")).to_be_visible()
    result = result_of(stack, job_id)
    # the progress panel ends on the solver's own final numbers, and the chart has its points
    run = result["solverRun"]
    assert page.locator("#p-solutions").inner_text() == str(run["solutionsFound"])
    assert page.locator("#p-objective").inner_text() == f"{run['objective']:,}"
    assert page.locator("#chart circle.obj").count() >= 1
    rows = page.locator("#roster tbody tr.employee")
    expect(rows).to_have_count(len(doc["employees"]))
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.employee)") == [e["employeeId"] for e in doc["employees"]]
    days = len(result["employeeRoster"][0]["dailyStatus"])
    assert page.locator("#roster thead th").count() == 1 + days + 3
    # every assignment is a coloured cell with its shift code; totals match the result
    assert page.locator("#roster td.shift").count() == len(result["assignments"])
    first = result["employeeRoster"][0]
    totals = rows.nth(0).locator("td.total").all_inner_texts()
    assert totals == [f"{first['totalHours']:g}", str(first["workDays"]), str(first["offDays"])]
    unmet = page.locator("#roster tr.unmet-row")
    expect(unmet).to_have_count(1)
    expect(unmet.locator("th")).to_have_text("Unmet demand (0)")
    assert "OPTIMAL" in page.locator("#result-summary").inner_text()
    # the key stayed in this tab's sessionStorage: nothing in localStorage or cookies
    stored = page.evaluate("[sessionStorage.getItem('ngrs.apiKey'), localStorage.length, document.cookie]")
    assert stored == [KEY, 0, ""]
    assert page.js_errors == []


def test_unmet_demand_row_penalties_download_and_screenshot(page, stack, artifacts, tmp_path):
    doc = example("ngrs_unmet.json")
    open_ui(page, stack)
    job_id = submit(page, doc, time_limit=20)
    expect(page.locator("#job-status")).to_have_text("completed", timeout=90_000)
    expect(page.locator("#result-section")).to_be_visible()
    result = result_of(stack, job_id)
    assert result["unmetDemand"], "ngrs_unmet.json is expected to leave demand unmet"
    expect(page.locator("#roster tbody tr.employee")).to_have_count(len(doc["employees"]))
    missing = sum(u["missing"] for u in result["unmetDemand"])
    unmet = page.locator("#roster tr.unmet-row")
    expect(unmet.locator("th")).to_have_text(f"Unmet demand ({missing})")
    unmet_days = {u["date"] for u in result["unmetDemand"]}
    assert unmet.locator("td.unmet").count() == len(unmet_days)
    shown = sum(int(part.split("×")[1]) for text in unmet.locator("td.unmet").all_inner_texts() for part in text.split())
    assert shown == missing
    # cells whose employee and date carry a penalty are marked, and the hover text names the rule
    with_cell = {(v["employeeId"], v["date"]) for v in result["scoreBreakdown"]["violations"]
                 if v["employeeId"] and v["date"]}
    marked = page.locator("#roster td.penalty")
    assert marked.count() == len(with_cell) > 0
    rules = {v["rule"] for v in result["scoreBreakdown"]["violations"] if v["employeeId"] and v["date"]}
    assert any(rule in marked.first.get_attribute("title") for rule in rules)
    expect(page.locator("#by-rule tr")).to_have_count(1 + len(result["scoreBreakdown"]["byRule"]))
    # download gives the same JSON as the API
    with page.expect_download() as dl:
        page.click("#download")
    saved = tmp_path / "result.json"
    dl.value.save_as(saved)
    assert json.loads(saved.read_text()) == result
    page.locator("#result-section").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "roster.png"), full_page=True)
    assert (artifacts / "roster.png").stat().st_size > 10_000
    assert page.js_errors == []


def test_cancel_a_running_job_after_seeing_live_progress(page, stack, artifacts):
    open_ui(page, stack)
    job_id = submit(page, example("ngrs_060.json"), time_limit=60)
    # validation warnings of the accepted input are shown (ngrs_060 has a constraint the solver ignores)
    expect(page.locator("#submit-warnings")).to_contain_text("UNKNOWN_CONSTRAINT")
    expect(page.locator("#job-status")).to_have_text("running", timeout=60_000)
    # live progress: a first solution shows up while the job is still running
    expect(page.locator("#p-solutions")).not_to_have_text("0", timeout=60_000)
    expect(page.locator("#chart circle.obj")).not_to_have_count(0)
    assert page.locator("#job-status").inner_text() == "running"
    page.click("#cancel")
    expect(page.locator("#job-status")).to_have_text("cancelled", timeout=30_000)
    expect(page.locator("#job-error")).to_contain_text("cancelled")
    expect(page.locator("#cancel")).to_be_disabled()
    assert page.locator("#result-section").is_hidden()
    assert stack.status(job_id)["status"] == "cancelled"
    page.screenshot(path=str(artifacts / "cancelled.png"), full_page=True)
    assert page.js_errors == []


def test_errors_are_shown_with_field_paths(page, stack):
    open_ui(page, stack)
    doc = example("ngrs_tiny.json")
    del doc["employees"][0]["employeeId"]
    submit_error = page.locator("#submit-error")
    page.fill("#input", json.dumps(doc))
    page.click("#submit")
    expect(submit_error).to_be_visible()
    expect(submit_error).to_contain_text("INVALID_INPUT")
    expect(submit_error).to_contain_text("employees[0].employeeId")
    page.fill("#input", "{not json")
    page.click("#submit")
    expect(submit_error).to_contain_text("Not valid JSON")
    # a wrong key is rejected by the API, and the page says so
    page.fill("#api-key", "wrong-key")
    page.click("#key-save")
    page.fill("#input", json.dumps(example("ngrs_tiny.json")))
    page.click("#submit")
    expect(submit_error).to_contain_text("UNAUTHORIZED")
    assert page.locator("#job-section").is_hidden()


def test_polling_takes_over_when_the_event_stream_is_unavailable(page, stack):
    blocked: list[str] = []

    def refuse(route):
        blocked.append(route.request.url)
        route.fulfill(status=503, content_type="application/json",
                      body='{"error": {"code": "REDIS_UNAVAILABLE", "message": "test", "details": []}}')

    page.route("**/solve/async/*/events", refuse)
    open_ui(page, stack)
    job_id = submit(page, example("ngrs_tiny.json"))
    expect(page.locator("#job-status")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#roster tbody tr.employee")).to_have_count(5)
    assert blocked and blocked[0].endswith(f"/solve/async/{job_id}/events")
    assert page.js_errors == []


def test_upload_fills_the_input_and_submits_it(page, stack):
    open_ui(page, stack)
    path = EXAMPLES / "ngrs_tiny.json"
    page.set_input_files("#file", str(path))
    expect(page.locator("#input")).to_have_value(path.read_text())
    page.click("#submit")
    expect(page.locator("#job-status")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#roster tbody tr.employee")).to_have_count(5)
