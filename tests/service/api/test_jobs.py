"""Job endpoints without workers: 404 for unknown ids and for another key's job, 409 for a result that is not
ready, cancel of a queued job (200 cancelled, then 409), 410 for a cancelled job's result, the SSE stream
ending with the terminal status."""

from __future__ import annotations

import orjson
import pytest
from api_helpers import KEY_B, tiny_doc


def _submit(client) -> str:
    r = client.post("/solve/async", json=tiny_doc())
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


@pytest.mark.parametrize("job_id", ["0" * 32, "does-not-exist", "a"])
def test_unknown_job_is_404_everywhere(client, job_id):
    for method, path in [("GET", ""), ("GET", "/result"), ("DELETE", ""), ("GET", "/events")]:
        r = client.request(method, f"/solve/async/{job_id}{path}")
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "JOB_NOT_FOUND"


def test_malformed_job_id_is_422_with_path(client):
    r = client.get("/solve/async/" + "x" * 65)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR" and err["details"][0]["field"] == "path.job_id"
    r = client.get("/solve/async/bad%20id!")
    assert r.status_code == 422


def test_another_keys_job_is_404_and_untouched(server, client):
    job_id = _submit(client)
    with server.client(KEY_B) as other:
        for method, path in [("GET", ""), ("GET", "/result"), ("DELETE", ""), ("GET", "/events")]:
            r = other.request(method, f"/solve/async/{job_id}{path}")
            assert r.status_code == 404, (method, path, r.text)
        assert other.get("/solve/async/stats").status_code == 200
    assert client.get(f"/solve/async/{job_id}").json()["status"] == "queued"


def test_result_of_a_queued_job_is_409(client):
    job_id = _submit(client)
    r = client.get(f"/solve/async/{job_id}/result")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "JOB_NOT_FINISHED" and r.json()["error"]["status"] == "queued"


def test_cancel_queued_job_then_409_and_410(client):
    job_id = _submit(client)
    r = client.delete(f"/solve/async/{job_id}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["job_id"] == job_id
    assert client.get(f"/solve/async/{job_id}").json()["status"] == "cancelled"
    again = client.delete(f"/solve/async/{job_id}")
    assert again.status_code == 409
    assert again.json()["error"] == {**again.json()["error"], "code": "JOB_ALREADY_FINISHED", "status": "cancelled"}
    result = client.get(f"/solve/async/{job_id}/result")
    assert result.status_code == 410
    assert result.json()["error"]["code"] == "JOB_CANCELLED" and result.json()["error"]["status"] == "cancelled"


def test_events_stream_ends_with_the_terminal_status(server, client):
    job_id = _submit(client)
    client.delete(f"/solve/async/{job_id}")
    with client.stream("GET", f"/solve/async/{job_id}/events") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            events.append((fields.get("event"), orjson.loads(fields["data"])))
    assert events, text
    name, data = events[-1]
    assert name == "end" and data["job_id"] == job_id and data["status"] == "cancelled"


def test_stats_has_exactly_the_documented_fields_and_no_job_ids(client):
    job_id = _submit(client)
    stats = client.get("/solve/async/stats").json()
    assert set(stats) >= {"queue_length", "running", "workers", "total_jobs", "redis_connected"}
    assert job_id not in orjson.dumps(stats).decode()


def test_method_not_allowed_uses_error_format(client):
    r = client.put("/solve/async/0123")
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}  # both routes on this path
    assert client.put("/solve/async").headers["allow"] == "POST"
