"""API keys: where they come from (API_KEYS, Secrets Manager), when auth is required, and the job owner.

Keys are compared in constant time against sha256 digests; the job owner is a digest prefix, never the key,
so Redis and logs hold nothing that authenticates. With no keys configured the API is open only when it
listens on loopback (owner "anonymous"); any other bind address without keys refuses to start.

Public without a key: /health, /ready, /version, /docs, /redoc, /openapi.json and /schema. /schema is the
same input contract /openapi.json already publishes (NgrsInput component) and carries no data, and clients
need it to build inputs before they hold a key. Everything that reads or writes jobs, /validate (CPU work)
and /solve/async/stats need a key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from service.api.errors import ApiError
from service.settings import Settings

log = logging.getLogger("service.api")

API_KEY_HEADER = "X-API-Key"
ANONYMOUS = "anonymous"

# auto_error=False: a missing key is our own 401 in the error format; the scheme still shows in OpenAPI.
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="an API key from API_KEYS")


class AuthConfigError(RuntimeError):
    """The API must not start as configured (no keys on a non-loopback address, unreadable secret)."""


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_keys(text: str | None) -> list[str]:
    """A JSON `{"keys": [...]}` or `[...]`, or a plain comma list; blanks dropped."""
    if not text or not text.strip():
        return []
    stripped = text.strip()
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise AuthConfigError(f"API key secret looks like JSON but does not parse: {exc.msg}") from None
        if isinstance(data, dict):
            data = data.get("keys")
        if not isinstance(data, list) or not all(isinstance(k, str) for k in data):
            raise AuthConfigError('API key secret must be {"keys": ["..."]}, a JSON list or a comma list')
        return [k.strip() for k in data if k.strip()]
    return [k.strip() for k in stripped.split(",") if k.strip()]


def fetch_secret_keys(secret_id: str, region: str | None = None) -> list[str]:
    import boto3  # only when configured: boto3 import costs ~0.3 s

    try:
        session = boto3.session.Session()  # not the module-level default session, which caches credentials
        client = session.client("secretsmanager", region_name=region) if region else session.client("secretsmanager")
        value = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # noqa: BLE001 - any failure here means "cannot start safely"
        raise AuthConfigError(f"cannot read API keys from Secrets Manager {secret_id!r}: {exc}") from None
    text = value.get("SecretString")
    if text is None:
        text = bytes(value.get("SecretBinary") or b"").decode("utf-8", "replace")
    return parse_keys(text)


def owner_of(key: str) -> str:
    return "k_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


class KeyRing:
    """The accepted keys, as digests; `owner(header)` -> owner id or None."""

    def __init__(self, keys: list[str]):
        self._digests = [(hashlib.sha256(k.encode("utf-8")).digest(), owner_of(k)) for k in dict.fromkeys(keys)]

    @property
    def open(self) -> bool:
        return not self._digests

    def __len__(self) -> int:
        return len(self._digests)

    def owner(self, presented: str | None) -> str | None:
        if self.open:
            return ANONYMOUS
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found = None
        for candidate, owner in self._digests:  # no early exit: time does not depend on which key matched
            if hmac.compare_digest(candidate, digest):
                found = owner
        return found


def load_keyring(settings: Settings) -> KeyRing:
    """Read keys from API_KEYS and API_KEYS_SECRET_ID and decide whether the API may start."""
    keys = parse_keys(settings.api_keys.get_secret_value() if settings.api_keys else None)
    if settings.api_keys_secret_id:
        keys += fetch_secret_keys(settings.api_keys_secret_id, settings.metrics_region)
    ring = KeyRing(keys)
    if ring.open:
        if not is_loopback(settings.host):
            raise AuthConfigError(
                f"refusing to start: HOST={settings.host} is not a loopback address and no API keys are "
                "configured; set API_KEYS (comma-separated) or API_KEYS_SECRET_ID, or bind to 127.0.0.1"
            )
        log.warning("auth: OPEN - no API keys configured, listening on loopback %s only; owner=anonymous",
                    settings.host)
    else:
        log.info("auth: %d API key(s) configured; header %s required", len(ring), API_KEY_HEADER)
    return ring


def require_owner(request: Request, api_key: str | None = Security(api_key_scheme)) -> str:
    """Dependency: the caller's owner id, or 401."""
    ring: KeyRing = request.app.state.keyring
    owner = ring.owner(api_key)
    if owner is None:
        raise ApiError(
            401,
            "UNAUTHORIZED",
            f"missing or invalid API key in header {API_KEY_HEADER}",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return owner
