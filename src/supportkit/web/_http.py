"""The small HTTP kit the API is written in: endpoints as data (so the OpenAPI
document is generated from the same records that route), reading fields, ETags."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._errors import AccessDenied, RequestInvalid
from ._principal import AgentPrincipal, CustomerPrincipal, Principal

__all__ = ["Call", "Endpoint", "Reply", "etag_for", "parse_if_match"]

JSON = dict[str, Any]


@attrs.frozen
class Reply:
    """What a handler answers: JSON with a status and headers (an ETag)."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Endpoint:
    """One route: who may call it, its handler, and what the OpenAPI document says."""

    method: str
    path: str
    handler: Callable[[Call], Reply]
    summary: str
    who: str  # "agent", "customer" or "public"
    response: JSON  # the 2xx JSON Schema
    status: int = 200
    body: JSON | None = None
    query: tuple[tuple[str, JSON, str], ...] = ()  # (name, schema, description)
    errors: tuple[int, ...] = ()
    etag: bool = False
    if_match: bool = False
    tag: str = ""


@attrs.define
class Call:
    """One request as a handler sees it (in a worker thread)."""

    principal: Principal | None
    path: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: JSON
    if_match: frozenset[int] | None = None  # versions named by If-Match (None: no header)

    # -- who ------------------------------------------------------------------------
    @property
    def agent(self) -> AgentPrincipal:
        if not isinstance(self.principal, AgentPrincipal):
            raise AccessDenied("this endpoint is for agents")
        return self.principal

    @property
    def customer(self) -> CustomerPrincipal:
        if not isinstance(self.principal, CustomerPrincipal):
            raise AccessDenied("this endpoint is for customers")
        return self.principal

    # -- path, query and body fields ---------------------------------------------------
    def number(self) -> int:
        raw = self.path.get("number", "")
        if not raw.isdigit() or len(raw) > 12:
            raise RequestInvalid(f"{raw!r} is not a ticket number")
        return int(raw)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def q_int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.q(name)
        if raw is None:
            return default
        if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
            raise RequestInvalid(f"'{name}' must be a whole number from {low} to {high}")
        return int(raw)

    def text(self, name: str, *, required: bool = True, limit: int = 100_000) -> str:
        value = self.body.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise RequestInvalid(f"'{name}' must be a non-empty string")
        if len(value) > limit:
            raise RequestInvalid(f"'{name}' is longer than {limit} characters")
        return value

    def optional_str(self, name: str) -> str | None:
        value = self.body.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise RequestInvalid(f"'{name}' must be a non-empty string or null")
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        value = self.body.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise RequestInvalid(f"'{name}' must be a whole number from {low} to {high}")
        return value


def parse_body(raw: bytes) -> JSON:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestInvalid("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise RequestInvalid("the body must be a JSON object")
    return data


def etag_for(version: int) -> str:
    """The ETag of a ticket resource at *version* (``"v7"``)."""
    return f'"v{version}"'


_TAG = re.compile(r'\s*(?:W/)?"v(\d{1,12})"\s*')


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """The versions an ``If-Match`` header names; None for no header or ``*``.

    A value that is no ETag of ours names no version, so it never matches (412).
    """
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for part in header.split(","):
        m = _TAG.fullmatch(part)
        if m:
            versions.add(int(m.group(1)))
    return frozenset(versions)
