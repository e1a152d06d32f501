"""Service endpoints: /health without Redis, /version, /schema (valid JSON Schema = the pydantic model),
/validate (200 report for any JSON, 422 for non-JSON), and OpenAPI documenting every error response."""

from __future__ import annotations

import jsonschema_rs
import ortools
import pytest
from api_helpers import tiny_doc

from service.local import free_port
from service.solver.formats.ngrs import NgrsInput


def test_health_answers_without_redis(serve):
    dead = f"redis://127.0.0.1:{free_port()}"  # nothing listens here
    server = serve(redis_url=dead)
    with server.client(None) as c:
        r = c.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        ready = c.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "REDIS_UNAVAILABLE"
        assert "127.0.0.1" in ready.json()["error"]["message"]


def test_version(client):
    v = client.get("/version").json()
    assert v["ortoolsVersion"] == ortools.__version__
    assert v["schemaVersion"] and v["solverVersion"] and v["apiVersion"]


def test_schema_is_the_live_model_schema_and_valid_json_schema(server):
    with server.client(None) as c:  # public: the same contract is in /openapi.json
        r = c.get("/schema")
    assert r.status_code == 200
    schema = r.json()
    assert schema == NgrsInput.model_json_schema()
    assert jsonschema_rs.meta.is_valid(schema)
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid(tiny_doc())
    assert not validator.is_valid({"planningReference": "x"})


def test_validate_reports_ok_and_errors_with_200(client):
    ok = client.post("/validate", json=tiny_doc())
    assert ok.status_code == 200 and ok.json()["valid"] is True and ok.json()["errors"] == []
    doc = tiny_doc()
    doc["planningHorizon"]["endDate"] = "not-a-date"
    del doc["employees"][1]["employeeId"]
    bad = client.post("/validate", json={"input_json": doc})
    assert bad.status_code == 200
    report = bad.json()
    assert report["valid"] is False
    fields = {e["field"]: e["code"] for e in report["errors"]}
    assert fields.get("planningHorizon.endDate") == "INVALID_DATE"
    assert fields.get("employees[1].employeeId") == "MISSING_FIELD"


@pytest.mark.parametrize("body", [b"[]", b"42", b"null"])
def test_validate_non_object_json_is_200_invalid(client, body):
    r = client.post("/validate", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["valid"] is False
    assert r.json()["errors"][0]["code"] == "INVALID_TYPE"


@pytest.mark.parametrize("body", [b"", b"{", b"employees: []"])
def test_validate_non_json_is_422(client, body):
    r = client.post("/validate", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] in ("EMPTY_BODY", "INVALID_JSON")


def test_openapi_documents_errors_and_request_bodies(server):
    with server.client(None) as c:
        doc = c.get("/openapi.json").json()
        assert c.get("/docs").status_code == 200
    schemas = doc["components"]["schemas"]
    assert {"ErrorBody", "NgrsInput", "SubmitWrapper", "JobStatus", "SubmitResponse", "QueueStats"} <= set(schemas)
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    paths = doc["paths"]
    submit = paths["/solve/async"]["post"]
    assert {"200", "202", "401", "413", "422", "503"} <= set(submit["responses"])
    assert "NgrsInput" in str(submit["requestBody"])
    assert {"401", "404", "409", "410", "503"} <= set(paths["/solve/async/{job_id}/result"]["get"]["responses"])
    assert {"202", "409", "404"} <= set(paths["/solve/async/{job_id}"]["delete"]["responses"])
    assert "503" in paths["/ready"]["get"]["responses"]
    for path, ops in paths.items():
        for method, op in ops.items():
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert "ErrorBody" in str(resp), (method, path, code)
    # every $ref resolves
    import json

    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_unexpected_error_is_500_internal_without_traceback(redis_server):
    from api_helpers import LiveServer, make_settings

    server = LiveServer(make_settings(redis_server.url))

    @server.app.get("/boom-for-test")
    async def boom():
        raise RuntimeError("secret internal detail")

    server.start()
    try:
        with server.client() as c:
            r = c.get("/boom-for-test")
    finally:
        server.stop()
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "INTERNAL", "message": "internal error; it has been logged", "details": []}}
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
