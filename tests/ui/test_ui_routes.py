"""The /ui page and its assets over real HTTP: public, no-store of secrets, strict CSP, allow-listed files."""

from __future__ import annotations

import re


def test_page_is_public_and_sends_a_strict_csp(stack):
    with stack.client(key=None) as anon:
        r = anon.get("/ui")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.text
    # no inline script and nothing from another origin: every src/href is a local /ui/static asset
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/ui/static/") for ref in refs), refs


def test_assets_are_served_from_an_allow_list(stack):
    with stack.client(key=None) as anon:
        js = anon.get("/ui/static/app.js")
        css = anon.get("/ui/static/app.css")
        missing = anon.get("/ui/static/nope.js")
        traversal = anon.get("/ui/static/..%2f..%2fsettings.py")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # the key is kept in sessionStorage only, and sent in X-API-Key
    assert "sessionStorage.setItem" in js.text and "localStorage." not in js.text
    assert '"X-API-Key"' in js.text and "document.cookie" not in js.text
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert traversal.status_code == 404


def test_ui_is_not_part_of_the_api_schema(stack):
    with stack.client() as c:
        paths = c.get("/openapi.json").json()["paths"]
    assert not any(p.startswith("/ui") for p in paths)
    assert "/solve/async/{job_id}/events" in paths
