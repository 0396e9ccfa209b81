"""What ``/openapi.json`` documents: the JSON API (``/api/…``), ``/healthz`` and
``/metrics`` — what programs call.  The consoles' pages, their forms and the
WebSocket answer browsers (HTML, redirects) and are left out.

FastAPI writes the document from the routes; :func:`install` narrows it to those
paths, drops the components nothing refers to any more, declares how callers
sign in (an API token as ``Authorization: Bearer``, or the session cookie) on
every operation that is not public, and names this node's QA criteria in the
score body (they come from the settings, so no route declaration can).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI

from web.roles import route_table

DOCUMENTED_PREFIX = "/api/"
DOCUMENTED_PATHS = frozenset({"/healthz", "/metrics"})
SECURITY_SCHEMES = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`hotline tokens add`), as `Authorization: Bearer hl_…`.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hotline_session",
        "description": "The consoles' session; writes also need `X-CSRF-Token`.",
    },
}
_SCHEMAS = "#/components/schemas/"
_UNREADABLE = {
    "description": "The body cannot be read (not JSON, or not UTF-8).",
    "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "Problem"}}},
}


def documented(path: str) -> bool:
    return path.startswith(DOCUMENTED_PREFIX) or path in DOCUMENTED_PATHS


def install(app: FastAPI, qa_criteria: Sequence[str]) -> None:
    """Make ``app.openapi`` (and so ``/openapi.json``) answer the narrowed document."""
    full_document: Callable[[], dict[str, Any]] = app.openapi
    made: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        full = full_document()  # FastAPI's, cached until the routes change
        if made.get("from") is not full:
            made["from"] = full
            made["document"] = narrowed(full, _public_paths(app), qa_criteria)
        return made["document"]

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook


def _public_paths(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.lower(), route.path)
        for route in route_table(app)
        if route.roles is not None and not route.roles
        for method in route.methods
    }


def narrowed(
    full: dict[str, Any], public: set[tuple[str, str]], qa_criteria: Sequence[str]
) -> dict[str, Any]:
    """``full`` with the documented paths only, the components they use, security
    declared on each operation but the public ones, the QA criteria named."""
    document = copy.deepcopy(full)
    paths = {path: item for path, item in document["paths"].items() if documented(path)}
    document["paths"] = paths
    for path, item in paths.items():
        for method, operation in item.items():
            if (method, path) not in public:
                operation["security"] = [{"token": []}, {"session": []}]
            if "requestBody" in operation:  # FastAPI's own refusal of a body it cannot read
                operation["responses"].setdefault("400", copy.deepcopy(_UNREADABLE))
    components = document.setdefault("components", {})
    schemas = components.get("schemas", {})
    used = _used_schemas(paths, schemas)
    components["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    if "ScoreIn" in components["schemas"]:
        name_criteria(components["schemas"]["ScoreIn"], qa_criteria)
    return document


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMAS):
            yield ref.removeprefix(_SCHEMAS)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _used_schemas(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    used: set[str] = set()
    waiting = list(_refs(paths))
    while waiting:
        name = waiting.pop()
        if name not in used and name in schemas:
            used.add(name)
            waiting.extend(_refs(schemas[name]))
    return used


def name_criteria(score_in: dict[str, Any], criteria: Sequence[str]) -> None:
    """The ``scores`` of the QA score body: every criterion of this node required
    (0–10 each), no other taken — what ``web.routers.qa`` checks."""
    scores = score_in["properties"]["scores"]
    each = scores.pop("additionalProperties", {"type": "number"})
    scores.update(
        properties={criterion: dict(each) for criterion in criteria},
        required=list(criteria),
        additionalProperties=False,
    )
