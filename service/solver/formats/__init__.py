"""Input formats. `load_document` detects the format from content and returns the core `Problem`."""

from __future__ import annotations

from service.solver.errors import InputError, Issue
from service.solver.model import Problem


def detect_format(doc: dict | str | bytes) -> str:
    """'ngrs' for a JSON object (or JSON text), 'curtois' for text with SECTION_HORIZON."""
    if isinstance(doc, dict):
        return "ngrs"
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else doc
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "ngrs"
    if "SECTION_HORIZON" in text:
        return "curtois"
    raise InputError([Issue("", "UNKNOWN_FORMAT", "neither an NGRS JSON object nor a Curtois .txt instance")])


def load_document(doc: dict | str | bytes) -> Problem:
    kind = detect_format(doc)
    if kind == "curtois":
        from service.solver.formats.curtois import parse_curtois

        text = doc.decode("utf-8") if isinstance(doc, bytes) else doc
        return parse_curtois(text)
    from service.solver.formats.ngrs import problem_from_ngrs

    if not isinstance(doc, dict):
        import json

        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise InputError([Issue("", "INVALID_JSON", str(exc))]) from exc
    return problem_from_ngrs(doc)
