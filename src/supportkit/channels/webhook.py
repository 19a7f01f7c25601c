"""The webhook/HTTP channel: a Starlette app a host mounts to take messages in over HTTP.

Routes:

- ``POST /inbound/{source}``: a web-form submission or a messenger-, social-
  or forum-shaped message (schema in :mod:`supportkit.channels._webhook_payload`,
  documented in ``docs/channels.md``) from the source named in the path
  (``webform``, ``telegram``, ``forum``, ...; it becomes the ticket's channel).
- ``GET /track/{number}``: the customer-facing status of a ticket.

An inbound request is checked in this order, and refused with a JSON
``{"error": ..., "detail": ...}`` body that stores nothing: body over the
size limit (413), bad or stale signature (401), unsupported content type
(415), malformed JSON or a payload off the schema (422). A valid request
is stored raw first (``add_raw_inbound``), then handed to ``desk.receive``;
if that fails the raw body stays with its error. An ``Idempotency-Key``
header (or the payload's ``external_id``) makes a retried request harmless:
the same response again, nothing new stored.

>>> from supportkit import SupportDesk
>>> from supportkit.channels.webhook import WebhookInbound
>>> app = WebhookInbound(SupportDesk(), secrets=["s3cret"]).app
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._convert import unstructure
from ..domain._errors import ConfigurationError, MalformedMessage, NotFound, ValidationError
from ..ports._channel import AUTO_SUBMITTED
from ..ports._storage import RawInbound
from ._notify import TrackingLinks
from ._raw_store import (
    DEFAULT_LEASE,
    claim_stale,
    describe_error,
    failure_status,
    finish,
    store_and_claim,
)
from ._receive import receive_inbound
from ._webhook_http import EventForwarder, WebhookChannel, post_signed
from ._webhook_payload import UnsupportedContentType, WebhookPayload, parse_payload
from ._webhook_sign import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    sign,
    signature_headers,
    verify,
)

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "EventForwarder",
    "SignatureError",
    "WebhookChannel",
    "WebhookInbound",
    "WebhookPayload",
    "parse_payload",
    "post_signed",
    "sign",
    "signature_headers",
    "verify",
]

log = logging.getLogger("supportkit.channels")

IDEMPOTENCY_NAMESPACE = "supportkit.webhook.idempotency"
THREAD_NAMESPACE = "supportkit.webhook.threads"
_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


@attrs.frozen
class _Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {"Idempotent-Replayed": "true"} if self.replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


def _error(status: int, code: str, detail: str, **extra: Any) -> _Outcome:
    return _Outcome(status, {"error": code, "detail": detail, **extra})


class WebhookInbound:
    """The inbound HTTP endpoints of one desk; mount :attr:`app` in the host's ASGI app.

    *secrets* verify request signatures (several allow rotation);
    ``secrets=None`` with ``allow_unsigned=True`` accepts unsigned requests
    (a public web form behind the host's own CSRF protection). *sources*, if
    given, lists the allowed ``{source}`` names. *tracking* makes
    ``/track/{number}`` require the link's token; without it the request must
    name the customer (``?customer=<address>``).
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        secrets: Sequence[str | bytes] | None = None,
        allow_unsigned: bool = False,
        max_body_bytes: int = 256 * 1024,
        tolerance: timedelta = timedelta(minutes=5),
        sources: Sequence[str] | None = None,
        tracking: TrackingLinks | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if not secrets and not allow_unsigned:
            raise ConfigurationError(
                "WebhookInbound needs secrets=[...] to verify signatures; pass "
                "allow_unsigned=True only for endpoints protected another way"
            )
        if max_body_bytes <= 0:
            raise ConfigurationError("max_body_bytes must be positive")
        self.desk = desk
        self.secrets = list(secrets or ())
        self.max_body_bytes = max_body_bytes
        self.tolerance = tolerance
        self.sources = frozenset(sources) if sources is not None else None
        self.tracking = tracking
        self.lease = lease
        self.app = Starlette(
            routes=[
                Route("/inbound/{source}", self._inbound, methods=["POST"]),
                Route("/track/{number:int}", self._track, methods=["GET"]),
            ]
        )

    # -- HTTP ----------------------------------------------------------------------------
    async def _inbound(self, request: Request) -> Response:
        source = request.path_params["source"]
        if not _SOURCE_RE.match(source) or (
            self.sources is not None and source not in self.sources
        ):
            return _error(404, "unknown_source", f"no inbound source {source!r}").response()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return self._too_large(int(declared)).response()
        body = bytearray()
        try:
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > self.max_body_bytes:
                    return self._too_large(len(body)).response()
        except ClientDisconnect:
            return _error(400, "incomplete_body", "the client disconnected mid-body").response()
        try:
            outcome = await run_in_threadpool(
                self.handle, source, bytes(body), dict(request.headers)
            )
        except Exception as exc:  # the database is away: nothing was acknowledged
            log.error("webhook from %r could not be stored: %s", source, describe_error(exc))
            outcome = _error(
                503, "unavailable", "the message could not be stored; send it again later"
            )
        return outcome.response()

    def _too_large(self, size: int) -> _Outcome:
        return _error(
            413,
            "payload_too_large",
            f"the body is at least {size} bytes; the limit is {self.max_body_bytes}: "
            "send attachments as URLs, not inline",
        )

    async def _track(self, request: Request) -> Response:
        number = int(request.path_params["number"])
        if number > 2**63 - 1:
            return _error(404, "not_found", "no such ticket for this link").response()
        token = request.query_params.get("token", "")
        customer = request.query_params.get("customer")
        not_found = _error(404, "not_found", f"no ticket #{number} for this link")
        if self.tracking is not None:
            if not self.tracking.verify(number, token):
                return not_found.response()
            customer = None
        elif not customer:
            return _error(
                400, "customer_required", "name the customer: /track/<number>?customer=<address>"
            ).response()
        try:
            tracking = await run_in_threadpool(self.desk.track, number, customer_address=customer)
        except NotFound:
            return not_found.response()
        return JSONResponse(unstructure(tracking))

    # -- processing (sync, in a worker thread) --------------------------------------------
    def handle(self, source: str, body: bytes, headers: dict[str, str]) -> _Outcome:
        """Verify, validate, store raw, receive; what one POST /inbound/{source} does.

        A signed request is accepted once: its idempotency key is the
        ``Idempotency-Key`` header, else the payload's ``external_id``, else
        the signature itself, stored with the raw body under a unique key in
        the database, so a replay (from any process) stores nothing new.
        """
        now = self.desk.clock.now()
        lowered = {k.lower(): v for k, v in headers.items()}
        signature = None
        if self.secrets:
            try:
                verify(self.secrets, body, headers, now, self.tolerance)
            except SignatureError as exc:
                return _error(401, "bad_signature", str(exc))
            signature = lowered.get(SIGNATURE_HEADER.lower(), "").strip()
        try:
            payload = parse_payload(body, lowered.get("content-type", "application/json"))
            self.desk.validate_text(payload.text, payload.html, what="the message")
            if payload.ticket_number is not None:
                self.desk.get_ticket_by_number(payload.ticket_number)
        except UnsupportedContentType as exc:
            return _error(415, "unsupported_content_type", str(exc))
        except (MalformedMessage, ValidationError) as exc:
            return _error(422, "malformed_payload", str(exc))
        except NotFound as exc:
            return _error(422, "rejected", str(exc))
        key = (lowered.get("idempotency-key") or "").strip()[:200] or payload.external_id
        if not key and signature:
            key = "signature:" + hashlib.sha256(signature.encode()).hexdigest()
        idem_key = f"{source}:{key}" if key else None
        digest = hashlib.sha256(body).hexdigest()
        row = RawInbound(self.desk.new_id(), f"webhook:{source}", now, body, external_id=idem_key)
        claim = store_and_claim(self.desk, row, self.lease)
        stored = claim.raw
        if stored is not None and hashlib.sha256(stored.raw).hexdigest() != digest:
            return _error(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key (or external_id) came before with a different body; "
                "use a new key for a new message",
            )
        if not claim.ours:
            return self._replay(idem_key, stored)
        assert stored is not None
        return self._process(source, payload, body, stored.id, idem_key, digest)

    def reprocess(self, limit: int = 100) -> list[_Outcome]:
        """Process the kept bodies left ``pending`` past their lease (a process died) or
        ``failed``; safe from several workers at once. Returns each one's outcome."""
        return list(self.reprocess_each(limit))

    def reprocess_each(self, limit: int = 100) -> Iterator[_Outcome]:
        """:meth:`reprocess`, yielding each outcome (``status``: the HTTP status it would
        have answered, ``body``: with ``ticket_number`` when processed) as it is done."""
        for raw in claim_stale(self.desk, "webhook:", self.lease, limit):
            source = raw.channel.split(":", 1)[1]
            digest = hashlib.sha256(raw.raw).hexdigest()
            try:
                try:
                    payload = parse_payload(raw.raw, "application/json")
                except MalformedMessage:
                    payload = parse_payload(raw.raw, "application/x-www-form-urlencoded")
            except MalformedMessage as exc:
                finish(self.desk, raw.id, "failed", error=describe_error(exc))
                yield _error(422, "malformed_payload", str(exc), raw_id=raw.id)
                continue
            yield self._process(source, payload, raw.raw, raw.id, raw.external_id, digest)

    def reprocess_failed(self, limit: int = 100) -> int:
        """Like :meth:`reprocess`; returns how many now passed (kept for older callers)."""
        return sum(o.status == 200 for o in self.reprocess(limit))

    def _replay(self, idem_key: str | None, stored: RawInbound | None) -> _Outcome:
        seen = None
        if idem_key is not None:
            with self.desk.storage.unit_of_work() as uow:
                seen = uow.kv_get(IDEMPOTENCY_NAMESPACE, idem_key)
        if seen is not None and seen.get("state") == "done":
            return _Outcome(int(seen["status"]), dict(seen["body"]), replayed=True)
        raw_id = stored.id if stored is not None else None
        return _error(
            409,
            "in_progress",
            "this message is kept and being processed; retry later, it is answered once done",
            raw_id=raw_id,
        )

    def _process(
        self,
        source: str,
        payload: WebhookPayload,
        raw: bytes,
        raw_id: str,
        idem_key: str | None,
        digest: str,
    ) -> _Outcome:
        try:
            ticket_id = self._thread_ticket(source, payload)
            meta: dict[str, Any] = {"source": source, **payload.meta}
            if payload.thread_id:
                meta["thread_id"] = payload.thread_id
            if payload.attachment_urls:
                meta["attachment_urls"] = payload.attachment_urls
            if payload.auto_submitted:
                meta[AUTO_SUBMITTED] = payload.auto_submitted
            message = payload.to_inbound(
                source,
                raw,
                self.desk.clock.now(),
                _sanitise(payload.html),
                fallback_id=f"raw:{raw_id}",
            )
            ticket = receive_inbound(
                self.desk, message, ticket_id=ticket_id, language=payload.language, meta=meta
            )
        except (MalformedMessage, ValidationError, NotFound) as exc:
            outcome = _error(422, "rejected", str(exc), raw_id=raw_id)
            self._finish(raw_id, idem_key, digest, outcome, "failed", None, describe_error(exc))
            return outcome
        except Exception as exc:  # the boundary: kept with its error, never a 500
            status = failure_status(exc, f"webhook raw message {raw_id}")
            if status == "failed":
                self._finish(raw_id, idem_key, digest, None, "failed", None, describe_error(exc))
            return _error(
                503,
                "processing_failed",
                "the message is kept and will be processed again; do not resend it",
                raw_id=raw_id,
            )
        body: dict[str, Any] = {
            "ticket_id": ticket.id,
            "ticket_number": ticket.number,
            "status": ticket.status,
        }
        if self.tracking is not None:
            body["tracking_url"] = self.tracking.url(ticket.number)
        outcome = _Outcome(200, body)
        thread = f"{source}:{payload.thread_id}" if payload.thread_id else None
        self._finish(raw_id, idem_key, digest, outcome, "processed", ticket.id, None, thread)
        return outcome

    def _thread_ticket(self, source: str, payload: WebhookPayload) -> str | None:
        if payload.ticket_number is not None:
            return self.desk.get_ticket_by_number(payload.ticket_number).id
        if payload.thread_id:
            with self.desk.storage.unit_of_work() as uow:
                value = uow.kv_get(THREAD_NAMESPACE, f"{source}:{payload.thread_id}")
            return str(value) if value else None
        return None

    def _finish(
        self,
        raw_id: str,
        idem_key: str | None,
        digest: str,
        outcome: _Outcome | None,
        status: str,
        ticket_id: str | None,
        error: str | None,
        thread: str | None = None,
    ) -> None:
        def records(uow: Any) -> None:
            if idem_key is not None:
                record: dict[str, Any] = {"raw_id": raw_id, "sha256": digest}
                if outcome is not None:
                    record.update(state="done", status=outcome.status, body=outcome.body)
                else:
                    record.update(state="failed", error=error)
                uow.kv_put(IDEMPOTENCY_NAMESPACE, idem_key, record)
            if thread is not None and ticket_id is not None:
                uow.kv_put(THREAD_NAMESPACE, thread, ticket_id)

        finish(self.desk, raw_id, status, ticket_id, error, also=records)


def _sanitise(html: str | None) -> str | None:
    if html is None or not html.strip():
        return None
    from .email._html import sanitise_html

    return sanitise_html(html)
