"""POST /solve/async contract: 202 + Location + visible job, wrapper form, idempotency (200 on re-post),
422 with field paths and codes, 413 on Content-Length and on a chunked body."""

from __future__ import annotations

import copy

import orjson
import pytest
from api_helpers import KEY_B, tiny_doc

from service.api.auth import owner_of
from service.jobs.keys import Keys


def test_submit_returns_202_with_location_and_the_job_is_queued(server, client):
    r = client.post("/solve/async", json=tiny_doc())
    assert r.status_code == 202, r.text
    body = r.json()
    job_id = body["job_id"]
    assert body["status"] == "queued" and body["created_at"]
    assert body["links"] == {"status": f"/solve/async/{job_id}", "result": f"/solve/async/{job_id}/result",
                             "events": f"/solve/async/{job_id}/events"}
    assert r.headers["location"] == f"/solve/async/{job_id}"
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    status = client.get(r.headers["location"])
    assert status.status_code == 200
    assert status.json()["job_id"] == job_id and status.json()["status"] == "queued"
    assert status.json()["result_available"] is False
    stats = client.get("/solve/async/stats").json()
    assert stats["queue_length"] == 1 and stats["total_jobs"] == 1 and stats["redis_connected"] is True


def test_stored_document_and_owner_are_what_was_sent(server, client, redis_server):
    raw = orjson.dumps(tiny_doc(reference="STORED"))
    job_id = client.post("/solve/async", content=raw, headers={"Content-Type": "application/json"}).json()["job_id"]
    keys = Keys(server.settings.redis_key_prefix)
    r = redis_server.client()
    job = r.hgetall(keys.job(job_id))
    assert job[b"owner"].decode() == owner_of(client.headers["X-API-Key"])
    assert client.headers["X-API-Key"].encode() not in b"".join(job.values())
    assert r.get(keys.input(job_id)) == raw  # the raw body is stored as sent, not re-serialized
    wrapped = client.post("/solve/async", json={"input_json": orjson.loads(raw), "idempotency_key": "w"})
    assert orjson.loads(r.get(keys.input(wrapped.json()["job_id"]))) == orjson.loads(raw)  # only the input


def test_wrapper_form_and_idempotency_key(client):
    wrapped = {"input_json": tiny_doc(), "idempotency_key": "order-42", "time_limit_seconds": 2}
    first = client.post("/solve/async", json=wrapped)
    assert first.status_code == 202, first.text
    again = client.post("/solve/async", json=wrapped)
    assert again.status_code == 200, again.text
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["location"] == first.headers["location"]
    assert client.get("/solve/async/stats").json()["total_jobs"] == 1
    # Same key via the header gives the same job too.
    via_header = client.post("/solve/async", json=tiny_doc(), headers={"Idempotency-Key": "order-42"})
    assert via_header.status_code == 200 and via_header.json()["job_id"] == first.json()["job_id"]
    # A different key (another tenant) with the same idempotency key gets its own job.
    with client.__class__(base_url=client.base_url, headers={"X-API-Key": KEY_B}) as other:
        theirs = other.post("/solve/async", json=wrapped)
        assert theirs.status_code == 202 and theirs.json()["job_id"] != first.json()["job_id"]


def _bad(mutate):
    doc = tiny_doc()
    mutate(doc)
    return doc


BAD_INPUTS = [
    ("missing field", _bad(lambda d: d["employees"][0].pop("employeeId")), "employees[0].employeeId",
     "MISSING_FIELD"),
    ("bad date", _bad(lambda d: d["planningHorizon"].update(startDate="2026-13-45")), "planningHorizon.startDate",
     "INVALID_DATE"),
    ("bad time", _bad(lambda d: d["demandItems"][0]["shifts"][0]["shiftDetails"][0].update(start="25:99")),
     "demandItems[0].shifts[0].shiftDetails[0].start", "INVALID_TIME"),
    ("negative headcount", _bad(lambda d: d["demandItems"][0]["requirements"][0].update(headcount=-2)),
     "demandItems[0].requirements[0].headcount", None),
    ("wrong type", _bad(lambda d: d.update(employees="everyone")), "employees", "INVALID_TYPE"),
    ("empty list", _bad(lambda d: d.update(demandItems=[])), "demandItems", None),
]


@pytest.mark.parametrize("name,doc,field,code", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_invalid_input_is_422_with_field_path_and_code(client, name, doc, field, code):
    for body in (doc, {"input_json": doc}):
        r = client.post("/solve/async", json=body)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "INVALID_INPUT"
        fields = {d["field"]: d["code"] for d in err["details"]}
        assert field in fields, fields
        if code:
            assert fields[field] == code
        assert all(d["code"].isupper() and d["message"] for d in err["details"])
    assert client.get("/solve/async/stats").json()["total_jobs"] == 0


@pytest.mark.parametrize(
    "content,code",
    [(b"", "EMPTY_BODY"), (b"{not json", "INVALID_JSON"), (b"[1, 2]", "INVALID_TYPE"), (b'"text"', "INVALID_TYPE"),
     (b"\xff\xfe", "INVALID_JSON")],
)
def test_non_json_or_non_object_bodies_are_422(client, content, code):
    r = client.post("/solve/async", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "wrapper,field,code",
    [
        ({"time_limit_seconds": -1}, "time_limit_seconds", "INVALID_VALUE"),
        ({"time_limit_seconds": "soon"}, "time_limit_seconds", "INVALID_TYPE"),
        ({"idempotency_key": ""}, "idempotency_key", "INVALID_VALUE"),
        ({"surprise": 1}, "surprise", "UNKNOWN_FIELD"),
        ({"time_limit_seconds": 10**9}, "time_limit_seconds", "INVALID_VALUE"),
        ({"webhook_url": "http://169.254.169.254/latest/meta-data"}, "webhook_url", "WEBHOOK_URL_NOT_ALLOWED"),
        ({"webhook_url": "https://10.0.0.5/hook"}, "webhook_url", "WEBHOOK_URL_NOT_ALLOWED"),
        ({"webhook_url": "https://localhost/hook"}, "webhook_url", "WEBHOOK_URL_NOT_ALLOWED"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "WEBHOOK_URL_NOT_ALLOWED"),
        ({"webhook_url": "https://user:pw@example.com/x"}, "webhook_url", "WEBHOOK_URL_NOT_ALLOWED"),
    ],
)
def test_invalid_wrapper_options_are_422(client, wrapper, field, code):
    r = client.post("/solve/async", json={"input_json": tiny_doc(), **wrapper})
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert {"field": field, "code": code} in [{"field": d["field"], "code": d["code"]} for d in details], details


def test_public_https_webhook_is_accepted(client):
    r = client.post("/solve/async", json={"input_json": tiny_doc(), "webhook_url": "https://hooks.example.com/ngrs"})
    assert r.status_code == 202, r.text


def test_body_over_the_cap_is_413_by_content_length(serve):
    server = serve(max_body_bytes=64 * 1024)
    doc = tiny_doc()
    doc["padding"] = "x" * (65 * 1024)
    with server.client() as c:
        r = c.post("/solve/async", json=doc)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert c.get("/solve/async/stats").json()["total_jobs"] == 0


def test_chunked_body_over_the_cap_is_413(serve):
    server = serve(max_body_bytes=64 * 1024)
    sent = []

    def chunks():
        yield b'{"planningReference": "'
        for _ in range(200):  # 200 KiB in 1 KiB chunks, no Content-Length
            sent.append(1)
            yield b"y" * 1024
        yield b'"}'

    with server.client() as c:
        r = c.post("/solve/async", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
        assert c.get("/solve/async/stats").json()["total_jobs"] == 0


def test_body_just_under_the_cap_is_accepted(serve):
    server = serve(max_body_bytes=64 * 1024)
    doc = tiny_doc()
    doc["padding"] = ""
    size = len(orjson.dumps(doc))
    doc["padding"] = "x" * (64 * 1024 - size - 10)
    with server.client() as c:
        r = c.post("/solve/async", content=orjson.dumps(doc), headers={"Content-Type": "application/json"})
        assert r.status_code == 202, r.text


def test_validation_warnings_are_returned_with_the_202(client):
    doc = copy.deepcopy(tiny_doc())
    doc["schemaVersion"] = "9.99"
    r = client.post("/solve/async", json=doc)
    assert r.status_code == 202, r.text
    assert "UNKNOWN_VERSION" in [w["code"] for w in r.json()["warnings"]]


def test_time_limit_comes_from_the_wrapper_else_the_document(server, client, redis_server):
    keys = Keys(server.settings.redis_key_prefix)
    r = redis_server.client()

    def stored_limit(body) -> bytes | None:
        job_id = client.post("/solve/async", json=body).json()["job_id"]
        return r.hget(keys.job(job_id), "time_limit")  # the job hash field the worker reads

    doc = tiny_doc()
    doc["solverRunTime"] = {"maxSeconds": 7}
    with_doc_limit = stored_limit(doc)
    with_wrapper = stored_limit({"input_json": doc, "time_limit_seconds": 3})
    without = stored_limit(tiny_doc())
    assert float(with_doc_limit) == 7.0
    assert float(with_wrapper) == 3.0
    assert without == b""
