"""The customer API: submit a request, my requests, reply, track, give feedback;
and the public part: the FAQ from the knowledge base and feedback by link."""

from __future__ import annotations

from typing import Any

from ..domain._errors import InvalidTransition, NotFound
from ..domain._model import Direction, Ticket
from ..knowledge import ArticleStatus
from ._agent import article_json
from ._http import Call, Endpoint, Reply, etag_for
from ._json import STR, obj, ref
from ._service import Api

__all__ = ["customer_endpoints"]

JSON = dict[str, Any]


def _request_json(api: Api, t: Ticket) -> JSON:
    lc = api.desk.lifecycle_of(t)
    return {
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "status_label": api.label(t),
        "received_at": t.received_at.isoformat(),
        "updated_at": t.updated_at.isoformat() if t.updated_at else None,
        "resolved": t.status == "resolved",
        "closed": lc.is_final(t.status),
        "version": t.version,
    }


def _can_give_feedback(api: Api, t: Ticket) -> tuple[bool, bool]:
    fb = api.feedback
    if fb is None:
        return False, False
    given = fb.answer(t.id) is not None
    done = t.status == fb.resolved_status or api.desk.lifecycle_of(t).is_final(t.status)
    return done and not given, given


def _detail(api: Api, t: Ticket, status: int = 200) -> Reply:
    desk = api.desk
    tracking = desk.track(t.number)
    messages = []
    for m in desk.messages(t.id, include_notes=False):
        who = (
            "you"
            if m.direction is Direction.INBOUND
            else ("assistant" if m.meta.get("bot") else "support")
        )
        messages.append({"from": who, "text": m.text, "at": m.created_at.isoformat()})
    can_give, given = _can_give_feedback(api, t)
    return Reply(
        {
            "request": _request_json(api, t),
            "messages": messages,
            "timeline": [{"at": at.isoformat(), "label": label} for at, label in tracking.timeline],
            "feedback": {"can_give": can_give, "given": given},
        },
        status=status,
        headers={"ETag": etag_for(t.version)},
    )


def submit(api: Api, call: Call) -> Reply:
    who = call.customer
    text = call.text("text")
    subject = call.text("subject", required=False, limit=300)
    t = api.desk.receive(
        api.customer_channel,
        who.identities[0].address,
        text,
        subject=subject,
        sender_name=who.name or None,
        language=who.language,
    )
    return _detail(api, api.desk.get_ticket(t.id), status=201)


def my_requests(api: Api, call: Call) -> Reply:
    found: list[Ticket] = []
    for cid in sorted(api.customer_ids(call)):
        found += api.desk.find_tickets(customer_id=cid, limit=200)
    found.sort(key=lambda t: t.number, reverse=True)
    return Reply({"items": [_request_json(api, t) for t in found[:200]]})


def track(api: Api, call: Call) -> Reply:
    return _detail(api, api.customer_ticket(call))


def customer_reply(api: Api, call: Call) -> Reply:
    t = api.customer_ticket(call)
    text = call.text("text")
    who = call.customer
    after = api.change(
        call,
        t,
        lambda: api.desk.receive(
            api.customer_channel, who.identities[0].address, text, ticket_id=t.id
        ),
    )
    # a reply to a closed request opens a follow-up: answer with the one it went to
    return _detail(api, api.desk.get_ticket(after.id), status=201 if after.id != t.id else 200)


def _feedback_result(api: Api, token: str, call: Call) -> Reply:
    csat = call.integer("csat", 1, 5)
    comment = call.text("comment", required=False, limit=5000)
    if api.feedback is None:
        raise NotFound("feedback form", "this desk")
    event = api.feedback.submit(token, csat, comment)
    return Reply({"received": True, "complaint": event.complaint})


def give_feedback(api: Api, call: Call) -> Reply:
    t = api.customer_ticket(call)
    fb = api.feedback
    if fb is None:
        raise NotFound("feedback form", "this desk")
    can_give, given = _can_give_feedback(api, t)
    if not can_give and not given:
        raise InvalidTransition(t.id, t.status, "give feedback", (), "not resolved yet")
    token = fb.signer.issue(t.id, t.customer_id, now=api.desk.clock.now())
    return _feedback_result(api, token, call)


def feedback_by_link(api: Api, call: Call) -> Reply:
    return _feedback_result(api, call.text("token", limit=2048), call)


def faq(api: Api, call: Call) -> Reply:
    if api.knowledge is None:
        return Reply({"items": []})
    query = (call.q("q") or "").strip()[:500]
    locale = call.q("locale")
    if query:
        found = [(m.article, m.score) for m in api.knowledge.search(query, locale=locale, limit=10)]
    else:
        found = [
            (a, 0.0)
            for a in api.knowledge.articles(locale=locale, status=ArticleStatus.PUBLISHED)[:50]
        ]
    return Reply({"items": [article_json(a, score) for a, score in found]})


def customer_endpoints(api: Api) -> list[Endpoint]:
    def bind(fn: Any) -> Any:
        return lambda call: fn(api, call)

    text_body = obj({"text": STR})
    feedback = {"csat": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": STR}
    return [
        Endpoint(
            "POST", "/customer/requests", bind(submit), "Submit a request", "customer", ref("RequestDetail"),
            status=201, body=obj({"text": STR, "subject": STR}, optional=["subject"]), errors=(422,), etag=True,
        ),
        Endpoint("GET", "/customer/requests", bind(my_requests), "My requests", "customer", ref("RequestList")),
        Endpoint("GET", "/customer/requests/{number}", bind(track), "Track a request", "customer", ref("RequestDetail"), errors=(404, 422), etag=True),
        Endpoint(
            "POST", "/customer/requests/{number}/reply", bind(customer_reply), "Reply on a request", "customer",
            ref("RequestDetail"), body=text_body, errors=(404, 409, 412, 422), etag=True, if_match=True,
        ),
        Endpoint(
            "POST", "/customer/requests/{number}/feedback", bind(give_feedback), "Rate a resolved request", "customer",
            ref("FeedbackResult"), body=obj(feedback, optional=["comment"]), errors=(404, 409, 422),
        ),
        Endpoint(
            "GET", "/public/articles", bind(faq), "The FAQ: published knowledge base articles", "public", ref("ArticleList"),
            query=(("q", {"type": "string"}, "search words"), ("locale", {"type": "string"}, "language, e.g. en or ru")),
        ),
        Endpoint(
            "POST", "/public/feedback", bind(feedback_by_link), "Feedback from an emailed link", "public",
            ref("FeedbackResult"), body=obj({"token": STR, **feedback}, optional=["comment"]),
            errors=(400, 403, 404, 409, 410, 422),
        ),
    ]  # fmt: skip
