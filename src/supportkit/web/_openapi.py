"""The OpenAPI 3.1 document, generated from the endpoint records that also route."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._http import Endpoint
from ._json import SCHEMAS, ref

__all__ = ["openapi"]

_ERRORS = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed for this principal",
    404: "Not found (or not yours to see)",
    409: "Not possible in the current state",
    410: "Gone",
    412: "If-Match names an old version",
    422: "Invalid input",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }


def _operation(ep: Endpoint) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    if "{number}" in ep.path:
        params.append(
            {
                "name": "number",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        )
    if "{name}" in ep.path:
        params.append(
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    for name, schema, description in ep.query:
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": description,
            }
        )
    if ep.if_match:
        params.append(
            {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
             "description": "the ticket's ETag; a stale one answers 412"}
        )  # fmt: skip
    ok: dict[str, Any] = {
        "description": "OK",
        "content": {"application/json": {"schema": ep.response}},
    }
    if ep.etag:
        ok["headers"] = {
            "ETag": {"schema": {"type": "string"}, "description": "the ticket's version"}
        }
    responses: dict[str, Any] = {str(ep.status): ok}
    codes = set(ep.errors) | ({401, 403} if ep.who != "public" else set())
    if ep.body is not None:
        codes.add(422)
    for code in sorted(codes):
        responses[str(code)] = _problem(_ERRORS[code])
    op: dict[str, Any] = {
        "summary": ep.summary,
        "operationId": f"{ep.method.lower()}_{ep.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "tags": [ep.who],
        "parameters": params,
        "responses": responses,
    }
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ep.body}},
        }
    return op


def openapi(endpoints: Iterable[Endpoint], *, title: str, streams: Iterable[str]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep)
    for path in streams:
        paths[path] = {
            "get": {
                "summary": "Desk events as server-sent events",
                "operationId": f"stream_{path.strip('/').replace('/', '_')}",
                "tags": ["events"],
                "responses": {
                    "200": {"description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                    "401": _problem(_ERRORS[401]),
                    "403": _problem(_ERRORS[403]),
                },
            }
        }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
