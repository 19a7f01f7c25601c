"""The API's JSON: one function per resource, beside the JSON Schema it must match.

The OpenAPI document is built from these schemas and schemathesis checks
every answer against them, so a field added here without its schema fails
the suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..domain._model import Direction, HistoryEntry, Message, Priority, Ticket

__all__ = ["SCHEMAS", "history_json", "message_json", "ref", "ticket_json"]

JSON = dict[str, Any]

STR: JSON = {"type": "string"}
INT: JSON = {"type": "integer"}
BOOL: JSON = {"type": "boolean"}
TIME: JSON = {"type": "string", "format": "date-time"}
PRIORITIES = [p.name.lower() for p in Priority]


def nullable(schema: JSON) -> JSON:
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: Mapping[str, JSON], *, optional: Iterable[str] = ()) -> JSON:
    opt = set(optional)
    return {
        "type": "object",
        "properties": dict(props),
        "required": [k for k in props if k not in opt],
    }


def array(items: JSON) -> JSON:
    return {"type": "array", "items": items}


_TICKET: dict[str, JSON] = {
    "number": INT,
    "subject": STR,
    "status": STR,
    "status_label": STR,
    "priority": {"type": "string", "enum": PRIORITIES},
    "tier": STR,
    "team": nullable(STR),
    "assignee": nullable(STR),
    "tags": array(STR),
    "channel": STR,
    "language": STR,
    "received_at": TIME,
    "updated_at": nullable(TIME),
    "first_response_at": nullable(TIME),
    "version": INT,
}

SCHEMAS: dict[str, JSON] = {
    "Problem": {
        "type": "object",
        "properties": {"type": STR, "title": STR, "status": INT, "detail": STR},
        "required": ["type", "title", "status", "detail"],
    },
    "Ticket": obj(_TICKET),
    "TicketPage": obj({"items": array(ref("Ticket")), "next_cursor": nullable(STR)}),
    "Message": obj(
        {
            "id": STR,
            "direction": {"type": "string", "enum": [d.value for d in Direction]},
            "author": STR,
            "text": STR,
            "at": TIME,
            "channel": STR,
            "bot": BOOL,
        }
    ),
    "HistoryEntry": obj(
        {
            "at": TIME,
            "actor": STR,
            "event": STR,
            "from_status": STR,
            "to_status": STR,
            "reason": STR,
        }
    ),
    "SlaClock": obj(
        {"kind": STR, "state": STR, "due_at": nullable(TIME), "warned": BOOL, "breached": BOOL}
    ),
    "TicketDetail": obj(
        {
            **_TICKET,
            "customer": obj({"id": STR, "name": STR}),
            "resolution": nullable(STR),
            "messages": array(ref("Message")),
            "history": array(ref("HistoryEntry")),
            "sla": array(ref("SlaClock")),
        }
    ),
    "WriteResult": obj({"ticket": ref("Ticket"), "message": nullable(ref("Message"))}),
    "ViewFilters": {
        "type": "object",
        "properties": {
            "status": array(STR),
            "team": STR,
            "tier": STR,
            "assignee": STR,
            "priority": {"type": "string", "enum": PRIORITIES},
            "tag": STR,
            "text": STR,
        },
        "additionalProperties": False,
    },
    "View": obj({"name": STR, "filters": ref("ViewFilters"), "builtin": BOOL}),
    "ViewList": obj({"items": array(ref("View"))}),
    "Macro": obj({"name": STR, "template": STR, "placeholders": array(STR)}),
    "MacroList": obj({"items": array(ref("Macro"))}),
    "Article": obj(
        {"id": STR, "title": STR, "excerpt": STR, "locale": STR, "score": {"type": "number"}}
    ),
    "ArticleList": obj({"items": array(ref("Article"))}),
    "CustomerProfile": obj(
        {
            "id": STR,
            "name": STR,
            "language": STR,
            "identities": array(obj({"channel": STR, "address": STR})),
            "ticket_count": INT,
            "open_count": INT,
            "tickets": array(ref("Ticket")),
            "notes": array(obj({"at": TIME, "author": STR, "text": STR})),
        }
    ),
    "Request": obj(
        {
            "number": INT,
            "subject": STR,
            "status": STR,
            "status_label": STR,
            "received_at": TIME,
            "updated_at": nullable(TIME),
            "resolved": BOOL,
            "closed": BOOL,
            "version": INT,
        }
    ),
    "RequestList": obj({"items": array(ref("Request"))}),
    "RequestDetail": obj(
        {
            "request": ref("Request"),
            "messages": array(
                obj(
                    {
                        "from": {"type": "string", "enum": ["you", "support", "assistant"]},
                        "text": STR,
                        "at": TIME,
                    }
                )
            ),
            "timeline": array(obj({"at": TIME, "label": STR})),
            "feedback": obj({"can_give": BOOL, "given": BOOL}),
        }
    ),
    "FeedbackResult": obj({"received": BOOL, "complaint": BOOL}),
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_json(t: Ticket, status_label: str) -> JSON:
    return {
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "status_label": status_label,
        "priority": Priority(t.priority).name.lower(),
        "tier": t.tier,
        "team": t.team_id,
        "assignee": t.assignee_id,
        "tags": sorted(t.tags),
        "channel": t.channel,
        "language": t.language,
        "received_at": t.received_at.isoformat(),
        "updated_at": iso(t.updated_at),
        "first_response_at": iso(t.first_response_at),
        "version": t.version,
    }


def message_json(m: Message) -> JSON:
    return {
        "id": m.id,
        "direction": m.direction.value,
        "author": m.author,
        "text": m.text,
        "at": m.created_at.isoformat(),
        "channel": m.channel,
        "bot": bool(m.meta.get("bot")),
    }


def history_json(h: HistoryEntry) -> JSON:
    return {
        "at": h.at.isoformat(),
        "actor": h.actor,
        "event": h.event,
        "from_status": h.from_status,
        "to_status": h.to_status,
        "reason": h.reason,
    }
