"""Auth: 401 on missing/wrong key, owner isolation (404 for another key's job), open loopback mode, refusal
to start off-loopback without keys, key parsing (env list, Secrets Manager JSON)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from api_helpers import KEY_A, KEY_B, REPO

from service.api.auth import AuthConfigError, KeyRing, load_keyring, owner_of, parse_keys
from service.local import free_port
from service.settings import Settings

PROTECTED = [
    ("GET", "/solve/async/stats"),
    ("GET", "/solve/async/0123456789abcdef"),
    ("GET", "/solve/async/0123456789abcdef/result"),
    ("GET", "/solve/async/0123456789abcdef/events"),
    ("DELETE", "/solve/async/0123456789abcdef"),
    ("POST", "/solve/async"),
    ("POST", "/validate"),
]
PUBLIC = ["/health", "/version", "/docs", "/openapi.json", "/schema"]


@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY_A + "x", KEY_A[:-1]])
def test_protected_endpoints_answer_401_without_a_valid_key(server, key):
    headers = {} if key is None else {"X-API-Key": key}
    with server.client(None, headers=headers) as c:
        for method, path in PROTECTED:
            r = c.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"]["code"] == "UNAUTHORIZED"
            assert r.headers["www-authenticate"] == "ApiKey"


def test_public_endpoints_need_no_key(server):
    with server.client(None) as c:
        for path in PUBLIC:
            assert c.get(path).status_code == 200, path
        assert c.get("/ready").status_code == 200


def test_every_configured_key_is_accepted(server):
    for key in (KEY_A, KEY_B):
        with server.client(key) as c:
            assert c.get("/solve/async/stats").status_code == 200


def test_open_mode_on_loopback_without_keys(serve):
    server = serve(api_keys=None)
    assert server.app.state.keyring.open
    with server.client(None) as c:
        r = c.get("/solve/async/stats")
        assert r.status_code == 200, r.text
        assert c.get("/solve/async/nope").json()["error"]["code"] == "JOB_NOT_FOUND"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_create_app_refuses_non_loopback_without_keys(host):
    with pytest.raises(AuthConfigError, match="refusing to start"):
        load_keyring(Settings(host=host, api_keys=None))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_without_keys_is_open(host):
    assert load_keyring(Settings(host=host, api_keys=None)).open


def test_cli_refuses_to_start_off_loopback_without_keys():
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "API_KEYS_SECRET_ID")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-m", "service", "api", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "refusing to start" in proc.stderr and "API_KEYS" in proc.stderr


def test_keys_are_parsed_from_comma_list_and_json():
    assert parse_keys(" a, b ,,c ") == ["a", "b", "c"]
    assert parse_keys('{"keys": ["x", " y "]}') == ["x", "y"]
    assert parse_keys('["p", "q"]') == ["p", "q"]
    assert parse_keys("") == [] and parse_keys(None) == []
    with pytest.raises(AuthConfigError):
        parse_keys('{"keys": "not-a-list"}')
    with pytest.raises(AuthConfigError):
        parse_keys("{broken json")


def test_owner_is_a_hash_not_the_key():
    ring = KeyRing([KEY_A, KEY_B])
    owner = ring.owner(KEY_A)
    assert owner == owner_of(KEY_A) and KEY_A not in owner
    assert ring.owner(KEY_B) != owner
    assert ring.owner("nope") is None and ring.owner(None) is None


def test_unreadable_secret_refuses_to_start():
    # A real boto3 call against an endpoint that refuses connections: no credentials or network needed.
    env_backup = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{free_port()}",
                       "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1",
                       "AWS_MAX_ATTEMPTS": "1"})
    try:
        with pytest.raises(AuthConfigError, match="cannot read API keys"):
            load_keyring(Settings(api_keys_secret_id="ngrs/api-keys"))
    finally:
        os.environ.clear()
        os.environ.update(env_backup)


def test_cors_is_off_by_default_and_on_for_listed_origins(serve):
    plain = serve()
    with plain.client() as c:
        r = c.options("/solve/async", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in r.headers
    cors = serve(cors_origins="https://ui.example")
    with cors.client() as c:
        r = c.options("/solve/async", headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"})
        assert r.headers.get("access-control-allow-origin") == "https://ui.example"
        r = c.options("/solve/async", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert r.headers.get("access-control-allow-origin") != "https://evil.example"
