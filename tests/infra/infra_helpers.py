"""Pure helpers for the infra tests (imported as `infra_helpers`; tests/infra is on sys.path)."""

from __future__ import annotations

from cdk_app.snapshot import mask_hashes, stable_template  # noqa: F401  (re-exported for the tests)


def resources(template: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def only(template: dict, type_name: str) -> dict:
    found = resources(template, type_name)
    assert len(found) == 1, f"expected one {type_name}, got {list(found)}"
    return next(iter(found.values()))
