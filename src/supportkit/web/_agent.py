"""The agent API: the queue with filters, cursors and saved views; a ticket with its
messages, history and SLA clocks; and every change an agent makes to it."""

from __future__ import annotations

from typing import Any

import attrs

from ..domain._errors import NotFound
from ..domain._model import Agent, Direction, Priority, Ticket
from ..knowledge import ChangeStatus, Macro, MacroContext, apply_field_actions
from ..typing import DeskContext
from ._errors import RequestInvalid
from ._http import Call, Endpoint, Reply, etag_for
from ._json import INT, STR, history_json, message_json, obj, ref
from ._service import Api

__all__ = ["agent_endpoints"]

JSON = dict[str, Any]
VIEWS_NAMESPACE = "supportkit.web.views"
_FILTERS = ("status", "team", "tier", "assignee", "priority", "tag", "text")
_PRIORITY = {p.name.lower(): p for p in Priority}
_MAX_VIEWS = 100


def _builtin_views(api: Api) -> dict[str, JSON]:
    open_ = sorted(api.desk.open_statuses())
    return {
        "mine": {"assignee": "me", "status": open_},
        "open": {"status": open_},
        "all": {},
    }


def _check_filters(raw: Any) -> JSON:
    if not isinstance(raw, dict) or set(raw) - set(_FILTERS):
        raise RequestInvalid(f"'filters' must be an object with keys among {list(_FILTERS)}")
    out: JSON = {}
    for key, value in raw.items():
        if key == "status":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise RequestInvalid("'status' must be a list of statuses")
            out[key] = list(value)
        elif not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise RequestInvalid(f"'{key}' must be a non-empty string")
        elif key == "priority" and value not in _PRIORITY:
            raise RequestInvalid(f"'priority' must be one of {list(_PRIORITY)}")
        else:
            out[key] = value
    return out


def _views(api: Api, agent_id: str) -> dict[str, JSON]:
    with api.desk.storage.unit_of_work() as uow:
        stored = uow.kv_items(f"{VIEWS_NAMESPACE}:{agent_id}")
    return {k: v for k, v in stored if isinstance(v, dict)}


def _filters_of(api: Api, call: Call) -> JSON:
    filters: JSON = {}
    name = call.q("view")
    if name is not None:
        builtin = _builtin_views(api)
        found = builtin.get(name) or _views(api, call.agent.agent_id).get(name)
        if found is None:
            raise NotFound("saved view", name)
        filters.update(found)
    for key in _FILTERS:
        values = call.query.get(key)
        if values:
            raw: Any = (
                [s for v in values for s in v.split(",") if s] if key == "status" else values[-1]
            )
            filters[key] = raw
    return _check_filters(filters)


def list_tickets(api: Api, call: Call) -> Reply:
    agent = call.agent
    f = _filters_of(api, call)
    limit = call.q_int("limit", 50, 1, 200)
    cursor = call.q("cursor")
    before = None
    if cursor is not None:
        if not cursor.startswith("n") or not cursor[1:].isdigit() or len(cursor) > 13:
            raise RequestInvalid("'cursor' is not a cursor this API gave out")
        before = int(cursor[1:])
    teams = agent.team_filter()
    if "team" in f:
        teams = (f["team"],) if teams is None or f["team"] in teams else ()
    tier = f.get("tier")
    if tier is not None and tier not in api.desk.tiers:
        raise RequestInvalid(f"'tier' must be one of {list(api.desk.tiers)}")
    assignee = f.get("assignee")
    found = api.desk.find_tickets(
        status=f.get("status"),
        team_ids=teams,
        tier=tier,
        assignee_id=agent.agent_id if assignee == "me" else assignee,
        priority=_PRIORITY[f["priority"]] if "priority" in f else None,
        tag=f.get("tag"),
        text=f.get("text"),
        before_number=before,
        limit=limit + 1,
    )
    page = found[:limit]
    more = len(found) > limit
    return Reply(
        {
            "items": [api.summary(t) for t in page],
            "next_cursor": f"n{page[-1].number}" if more and page else None,
        }
    )


def list_views(api: Api, call: Call) -> Reply:
    own = _views(api, call.agent.agent_id)
    items = [{"name": n, "filters": f, "builtin": True} for n, f in _builtin_views(api).items()]
    items += [{"name": n, "filters": f, "builtin": False} for n, f in sorted(own.items())]
    return Reply({"items": items})


def _view_name(api: Api, call: Call) -> str:
    name = call.path.get("name", "")
    if not name.strip() or len(name) > 80:
        raise RequestInvalid("a view name is 1 to 80 characters")
    if name in _builtin_views(api):
        raise RequestInvalid(f"'{name}' is a built-in view; choose another name")
    return name


def save_view(api: Api, call: Call) -> Reply:
    name = _view_name(api, call)
    filters = _check_filters(call.body.get("filters"))
    agent_id = call.agent.agent_id

    def use_case(ctx: DeskContext) -> None:
        ns = f"{VIEWS_NAMESPACE}:{agent_id}"
        live = [k for k, v in ctx.uow.kv_items(ns) if v is not None]
        if name not in live and len(live) >= _MAX_VIEWS:
            raise RequestInvalid(f"an agent keeps at most {_MAX_VIEWS} saved views")
        ctx.uow.kv_put(ns, name, filters)

    api.desk.run(use_case)
    return Reply({"name": name, "filters": filters, "builtin": False})


def delete_view(api: Api, call: Call) -> Reply:
    name = _view_name(api, call)
    agent_id = call.agent.agent_id
    if name not in _views(api, agent_id):
        raise NotFound("saved view", name)
    api.desk.run(lambda ctx: ctx.uow.kv_put(f"{VIEWS_NAMESPACE}:{agent_id}", name, None))
    return list_views(api, call)


def detail(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    return _detail_of(api, t)


def _detail_of(api: Api, t: Ticket) -> Reply:
    desk = api.desk
    customer = desk.get_customer(t.customer_id)
    sla = []
    if api.sla is not None:
        now = desk.clock.now()
        for kind, clock in sorted(api.sla.status(desk, t.id).items()):
            due = clock.due_at
            sla.append(
                {
                    "kind": str(kind),
                    "state": str(clock.state),
                    "due_at": due.isoformat() if due else None,
                    "warned": clock.warned,
                    "breached": clock.breach_reported
                    or (due is not None and clock.state == "running" and due <= now),
                }
            )
    body = {
        **api.summary(t),
        "customer": {"id": customer.id, "name": customer.name},
        "resolution": t.resolution,
        "messages": [message_json(m) for m in desk.messages(t.id)],
        "history": [history_json(h) for h in desk.history(t.id)],
        "sla": sla,
    }
    return Reply(body, headers={"ETag": etag_for(t.version)})


def _written(api: Api, ticket_id: str, message: Any = None, status: int = 200) -> Reply:
    t = api.desk.get_ticket(ticket_id)
    return Reply(
        {"ticket": api.summary(t), "message": message_json(message) if message else None},
        status=status,
        headers={"ETag": etag_for(t.version)},
    )


def reply(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    text = call.text("text")
    msg = api.change(call, t, lambda: api.desk.reply(t.id, call.agent.agent_id, text))
    return _written(api, t.id, msg)


def note(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    text = call.text("text")
    msg = api.change(call, t, lambda: api.desk.add_note(t.id, call.agent.agent_id, text))
    return _written(api, t.id, msg)


def assign(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    if "agent_id" not in call.body:
        raise RequestInvalid("'agent_id' is required (null to unassign)")
    to = call.optional_str("agent_id")
    api.change(call, t, lambda: api.desk.assign(t.id, to, actor=call.agent.agent_id))
    return _written(api, t.id)


def escalate(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    tier = call.text("tier", limit=40)
    reason = call.text("reason")
    api.change(
        call, t, lambda: api.desk.escalate(t.id, tier, actor=call.agent.agent_id, reason=reason)
    )
    return _written(api, t.id)


def resolve(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    summary = call.text("resolution")
    api.change(
        call, t, lambda: api.desk.resolve(t.id, actor=call.agent.agent_id, resolution=summary)
    )
    return _written(api, t.id)


def close(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    reason = call.text("reason", required=False, limit=2000)
    api.change(call, t, lambda: api.desk.close(t.id, actor=call.agent.agent_id, reason=reason))
    return _written(api, t.id)


def merge(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    into = call.integer("into", 1, 10**12)
    target = api.agent_ticket(Call(call.principal, {"number": str(into)}, {}, {}))
    api.change(
        call,
        t,
        lambda: api.desk.merge_tickets(t.id, into=target.id, actor=call.agent.agent_id),
    )
    return _written(api, target.id)


def macro(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    name = call.text("name", limit=200)
    m = api.macros.get(name)
    if m is None:
        raise NotFound("macro", name)
    msg = api.change(call, t, lambda: _apply_macro(api, t.id, m, call.agent.agent_id))
    return _written(api, t.id, msg)


def _apply_macro(api: Api, ticket_id: str, m: Macro, agent_id: str) -> Any:
    """The macro's reply, field changes and lifecycle events, in one transaction."""

    def use_case(ctx: DeskContext) -> Any:
        t = ctx.ticket(ticket_id)
        customer = ctx.uow.get_customer(t.customer_id)
        agent: Agent | None
        try:
            agent = ctx.uow.get_agent(agent_id)
        except NotFound:
            agent = None
        rendered = m.render(MacroContext(t, customer, agent))
        probe = attrs.evolve(t, custom_fields=dict(t.custom_fields))
        events: list[ChangeStatus] = apply_field_actions(probe, rendered.actions)
        changes = {
            k: getattr(probe, k)
            for k in ("priority", "category", "tags", "custom_fields")
            if getattr(probe, k) != getattr(t, k)
        }
        msg = ctx.reply(t, agent_id, rendered.reply) if rendered.reply.strip() else None
        if changes:
            ctx.update(t, agent_id, **changes)
        for change in events:
            if change.event == "resolve":  # the reply is what resolved it
                ctx.resolve(t, agent_id, rendered.reply or f"macro {m.name}")
            else:
                ctx.transition(t, change.event, agent_id, f"macro {m.name}")
        return msg

    return api.desk.run(use_case)


def macros(api: Api, call: Call) -> Reply:
    call.agent  # noqa: B018 - agents only
    return Reply(
        {
            "items": [
                {"name": m.name, "template": m.template, "placeholders": sorted(m.placeholders)}
                for m in api.macros.values()
            ]
        }
    )


def suggestions(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    if api.knowledge is None:
        return Reply({"items": []})
    first = next((m.text for m in api.desk.messages(t.id) if m.direction is Direction.INBOUND), "")
    found = api.knowledge.suggest(t.subject, first, locale=t.language, limit=5)
    return Reply({"items": [article_json(m.article, m.score) for m in found]})


def article_json(article: Any, score: float) -> JSON:
    body = " ".join(article.body.split())
    return {
        "id": article.id,
        "title": article.title,
        "excerpt": body[:280],
        "locale": article.locale,
        "score": round(score, 4),
    }


def customer_profile(api: Api, call: Call) -> Reply:
    t = api.agent_ticket(call)
    agent = call.agent
    h = api.desk.customer_history(t.customer_id, limit=50)
    c = h.customer
    return Reply(
        {
            "id": c.id,
            "name": c.name,
            "language": c.language,
            "identities": [{"channel": i.channel, "address": i.address} for i in c.identities],
            "ticket_count": h.ticket_count,
            "open_count": h.open_count,
            # the customer's other tickets, as far as this agent may see them
            "tickets": [api.summary(x) for x in h.tickets if agent.can_see(x)],
            "notes": [
                {"at": n.at.isoformat(), "author": n.author, "text": n.text} for n in h.notes
            ],
        }
    )


def agent_endpoints(api: Api) -> list[Endpoint]:
    def bind(fn: Any) -> Any:
        return lambda call: fn(api, call)

    write = (404, 409, 412, 422)
    text_body = obj({"text": STR})
    q = {"type": "string"}
    return [
        Endpoint(
            "GET", "/agent/tickets", bind(list_tickets), "List and search tickets", "agent",
            ref("TicketPage"), errors=(404, 422),
            query=tuple(
                (n, q, d)
                for n, d in (
                    ("status", "statuses, comma-separated"),
                    ("team", "team id"),
                    ("tier", "tier (L1, L2, ...)"),
                    ("assignee", "agent id, or 'me'"),
                    ("priority", "low, normal, high or urgent"),
                    ("tag", "a whole tag"),
                    ("text", "words in the subject"),
                    ("view", "a saved or built-in view (mine, open, all)"),
                    ("cursor", "next_cursor of the previous page"),
                    ("limit", "page size, 1 to 200"),
                )
            ),
        ),
        Endpoint("GET", "/agent/views", bind(list_views), "Saved and built-in views", "agent", ref("ViewList")),
        Endpoint(
            "PUT", "/agent/views/{name}", bind(save_view), "Save a view", "agent", ref("View"),
            body=obj({"filters": ref("ViewFilters")}), errors=(422,),
        ),
        Endpoint("DELETE", "/agent/views/{name}", bind(delete_view), "Delete a saved view", "agent", ref("ViewList"), errors=(404, 422)),
        Endpoint("GET", "/agent/macros", bind(macros), "Macros (canned replies)", "agent", ref("MacroList")),
        Endpoint(
            "GET", "/agent/tickets/{number}", bind(detail),
            "A ticket with messages, history and SLA clocks", "agent", ref("TicketDetail"),
            errors=(404, 422), etag=True,
        ),
        Endpoint("POST", "/agent/tickets/{number}/reply", bind(reply), "Reply to the customer", "agent", ref("WriteResult"), body=text_body, errors=write, etag=True, if_match=True),
        Endpoint("POST", "/agent/tickets/{number}/note", bind(note), "Add an internal note", "agent", ref("WriteResult"), body=text_body, errors=write, etag=True, if_match=True),
        Endpoint(
            "POST", "/agent/tickets/{number}/assign", bind(assign), "Assign (null: unassign)", "agent", ref("WriteResult"),
            body=obj({"agent_id": {"anyOf": [STR, {"type": "null"}]}}), errors=write, etag=True, if_match=True,
        ),
        Endpoint("POST", "/agent/tickets/{number}/escalate", bind(escalate), "Move to another tier", "agent", ref("WriteResult"), body=obj({"tier": STR, "reason": STR}), errors=write, etag=True, if_match=True),
        Endpoint("POST", "/agent/tickets/{number}/resolve", bind(resolve), "Resolve with a summary", "agent", ref("WriteResult"), body=obj({"resolution": STR}), errors=write, etag=True, if_match=True),
        Endpoint("POST", "/agent/tickets/{number}/close", bind(close), "Close", "agent", ref("WriteResult"), body=obj({"reason": STR}, optional=["reason"]), errors=write, etag=True, if_match=True),
        Endpoint("POST", "/agent/tickets/{number}/merge", bind(merge), "Merge into another ticket", "agent", ref("WriteResult"), body=obj({"into": INT}), errors=write, etag=True, if_match=True),
        Endpoint("POST", "/agent/tickets/{number}/macro", bind(macro), "Apply a macro", "agent", ref("WriteResult"), body=obj({"name": STR}), errors=write, etag=True, if_match=True),
        Endpoint("GET", "/agent/tickets/{number}/suggestions", bind(suggestions), "Knowledge base articles that may answer it", "agent", ref("ArticleList"), errors=(404, 422)),
        Endpoint("GET", "/agent/tickets/{number}/customer", bind(customer_profile), "The customer's profile and history", "agent", ref("CustomerProfile"), errors=(404, 422)),
    ]  # fmt: skip
