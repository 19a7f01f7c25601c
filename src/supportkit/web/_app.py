"""``create_app``: the agent and customer API as one Starlette app a host mounts."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..domain._errors import SupportKitError
from ..knowledge import KnowledgeBase, Macro
from ._agent import agent_endpoints
from ._customer import customer_endpoints
from ._errors import AccessDenied, NotAuthenticated, RequestInvalid
from ._events import EventHub, EventSource, agent_event, customer_event
from ._http import Call, Endpoint, parse_body, parse_if_match
from ._openapi import openapi
from ._principal import AgentPrincipal, Authenticate, CustomerPrincipal, Principal
from ._problem import PROBLEM_CONTENT_TYPE, Problem, problem_for
from ._service import Api

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["create_app"]

log = logging.getLogger("supportkit.web")
MAX_BODY = 1_000_000


def _problem_response(problem: Problem) -> Response:
    if problem.status >= 500:
        log.error("supportkit.web: %s", problem.log_message)
    else:
        log.info("supportkit.web %s: %s", problem.status, problem.log_message)
    return Response(problem.body(), problem.status, media_type=PROBLEM_CONTENT_TYPE)


def _error(exc: SupportKitError) -> Response:
    return _problem_response(problem_for(exc))


async def _who(authenticate: Authenticate, request: Request) -> Principal | None:
    found = authenticate(request)
    if inspect.isawaitable(found):
        found = await found
    if found is not None and not isinstance(found, AgentPrincipal | CustomerPrincipal):
        raise TypeError(
            f"authenticate() must return an AgentPrincipal, a CustomerPrincipal or None, "
            f"not {found!r}"
        )
    return found


def _check(who: str, principal: Principal | None) -> None:
    if who == "public":
        return
    if principal is None:
        raise NotAuthenticated("authenticate() returned None for this request")
    kind = AgentPrincipal if who == "agent" else CustomerPrincipal
    if not isinstance(principal, kind):
        raise AccessDenied(f"this endpoint is for {who}s, not {type(principal).__name__}")


async def _read_body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
        raise RequestInvalid(f"the body must be at most {MAX_BODY} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise RequestInvalid(f"the body must be at most {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _route(ep: Endpoint, authenticate: Authenticate) -> Route:
    async def handle(request: Request) -> Response:
        try:
            principal = await _who(authenticate, request)
            _check(ep.who, principal)
            body = parse_body(await _read_body(request)) if ep.body is not None else {}
            query: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():
                query.setdefault(key, []).append(value)
            call = Call(
                principal,
                dict(request.path_params),
                query,
                body,
                parse_if_match(request.headers.get("if-match")) if ep.if_match else None,
            )
            reply = await run_in_threadpool(ep.handler, call)
        except SupportKitError as exc:
            return _error(exc)
        return JSONResponse(reply.body, reply.status, headers=dict(reply.headers))

    return Route(ep.path, handle, methods=[ep.method])


def create_app(
    desk: SupportDesk,
    *,
    authenticate: Authenticate,
    knowledge: KnowledgeBase | None = None,
    macros: Sequence[Macro] = (),
    customer_channel: str = "web",
    require_if_match: bool = False,
    events: EventSource | None = None,
    title: str = "supportkit",
) -> Starlette:
    """The agent and customer API of *desk* as an ASGI app (Starlette).

    *authenticate(request)* (sync or async) maps the host's session to an
    :class:`AgentPrincipal`, a :class:`CustomerPrincipal` or None. Routes:
    ``/agent/...`` for agents, ``/customer/...`` for customers,
    ``/public/...`` for anyone, ``/openapi.json``. Errors are
    ``application/problem+json`` (:func:`problem_for`). *knowledge* feeds KB
    suggestions and the FAQ; *macros* are the canned replies; SLA clocks and
    feedback come from the desk's ``SlaExtension`` and ``FeedbackCollector``.
    Customers' requests arrive on *customer_channel*. With
    *require_if_match*, changes without ``If-Match`` are refused. *events*
    feeds the server-sent event streams (default: this process's desk signals).

    Mount it: ``Mount("/support", app=create_app(...))`` in Starlette,
    ``app.mount("/support", ...)`` in FastAPI, an ASGI/WSGI adapter elsewhere.
    """
    api = Api(
        desk,
        knowledge=knowledge,
        macros=macros,
        customer_channel=customer_channel,
        require_if_match=require_if_match,
    )
    endpoints = [*agent_endpoints(api), *customer_endpoints(api)]
    hub = EventHub(desk, events)
    streams = {"/agent/events": "agent", "/customer/events": "customer"}
    document = openapi(endpoints, title=title, streams=streams)

    async def spec(request: Request) -> Response:
        return JSONResponse(document)

    def stream_route(path: str, who: str) -> Route:
        async def handle(request: Request) -> Response:
            try:
                principal = await _who(authenticate, request)
                _check(who, principal)
                if isinstance(principal, AgentPrincipal):
                    agent = principal

                    def render(event: Any, ticket: Any) -> dict[str, Any] | None:
                        return agent_event(event, ticket) if agent.can_see(ticket) else None

                else:
                    call = Call(principal, {}, {}, {})
                    mine: set[str] = set()
                    others: set[str] = set()

                    def render(event: Any, ticket: Any) -> dict[str, Any] | None:
                        cid = ticket.customer_id
                        if cid not in mine and cid not in others:  # a profile new to us
                            mine.update(api.customer_ids(call))
                            if cid not in mine:
                                others.add(cid)
                        return customer_event(event, ticket) if cid in mine else None

            except SupportKitError as exc:
                return _error(exc)
            return StreamingResponse(
                hub.stream(request, render),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        return Route(path, handle, methods=["GET"])

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        title = {404: "Not found", 405: "Method not allowed"}.get(status, "Error")
        body = {"type": "about:blank", "title": title, "status": status, "detail": title + "."}
        return JSONResponse(body, status, media_type=PROBLEM_CONTENT_TYPE)

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("supportkit.web: unexpected error on %s %s", request.method, request.url.path)
        return _problem_response(problem_for(SupportKitError(f"{type(exc).__name__}: {exc}")))

    routes: Iterable[Route] = [
        Route("/openapi.json", spec, methods=["GET"]),
        *(_route(ep, authenticate) for ep in endpoints),
        *(stream_route(p, w) for p, w in streams.items()),
    ]
    app = Starlette(
        routes=list(routes),
        exception_handlers={HTTPException: http_error, Exception: crash},
    )
    app.state.supportkit_api = api
    app.state.supportkit_events = hub
    return app
