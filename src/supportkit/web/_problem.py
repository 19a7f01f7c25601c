"""Errors as ``application/problem+json`` (RFC 9457), one mapping for every web framework.

:func:`problem_for` turns any :class:`~supportkit.SupportKitError` into a
:class:`Problem`: an HTTP status, a stable ``type`` URI per error class, and
a ``detail`` written for the person in front of the screen (a customer may
read it: no internal ids, no developer hints). The developer's message
(``str(error)``) stays on :attr:`Problem.log_message` for the host's logs.

The ``type`` of a class is ``urn:supportkit:problem:<slug>``: the slug in the
table below for supportkit's own errors, else the class name in kebab case
(``QuotaExceeded`` -> ``quota-exceeded``). Status, title and detail come from
the nearest class up the MRO that has an entry, so a host's subclass of
:class:`~supportkit.ValidationError` is a 422 with its own ``type``.
:func:`register_problem` gives a host's class its own status and wording.

This module needs no web framework: a Flask or Django view calls
:func:`problem_for` and returns ``problem.status``, ``problem.headers`` and
``problem.body()``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ..domain._errors import ConcurrencyConflict, InvalidTransition, NotFound, SupportKitError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "Problem",
    "problem_for",
    "problem_type",
    "register_problem",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:supportkit:problem:"


@attrs.frozen
class Problem:
    """An error as an HTTP answer; :meth:`to_dict` is the problem+json body."""

    status: int
    type: str
    title: str
    detail: str
    #: extra members safe to show (e.g. ``status`` and ``allowed`` for a refused transition)
    extensions: Mapping[str, Any] = attrs.field(factory=dict)
    #: the developer's message, for logs only (never in the body)
    log_message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extensions,
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }

    def body(self) -> bytes:
        """The JSON body (UTF-8)."""
        return json.dumps(self.to_dict(), ensure_ascii=False).encode()

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": PROBLEM_CONTENT_TYPE}


@attrs.frozen
class _Entry:
    status: int
    slug: str
    title: str
    detail: str


# By class name: optional modules (webhook signatures need the ``web`` extra) are
# matched without importing them. Only supportkit's own classes are looked up here.
_ENTRIES: dict[str, _Entry] = {
    e.slug: e
    for e in (
        _Entry(500, "error", "Something went wrong", "Something went wrong on our side. Please try again later."),
        _Entry(404, "not-found", "Not found", "We could not find that {kind}."),
        _Entry(404, "ticket-not-found", "Request not found", "We could not find that request."),
        _Entry(404, "article-not-found", "Article not found", "We could not find that article."),
        _Entry(422, "validation-error", "Invalid input", "Some of what was sent could not be accepted. Please check it and try again."),
        _Entry(422, "malformed-message", "Message not accepted", "The message could not be accepted: it is empty or too long."),
        _Entry(415, "unsupported-content-type", "Unsupported content type", "Send the request as JSON or as a form."),
        _Entry(400, "feedback-token-error", "Feedback link not valid", "This feedback link is not valid."),
        _Entry(400, "malformed-feedback-token", "Feedback link not valid", "This feedback link is not valid."),
        _Entry(403, "forged-feedback-token", "Feedback link not valid", "This feedback link is not valid."),
        _Entry(410, "expired-feedback-token", "Feedback link expired", "This feedback link has expired."),
        _Entry(409, "feedback-token-reused", "Feedback already given", "Feedback for this request was already given. Thank you!"),
        _Entry(409, "feedback-already-given", "Feedback already given", "Feedback for this request was already given. Thank you!"),
        _Entry(409, "invalid-transition", "Not possible now", "That action is not possible in the request's current state."),
        _Entry(409, "guard-rejected", "Something is missing", "That action needs more information first (for example a resolution summary)."),
        _Entry(409, "escalation-refused", "Escalation not possible", "The request cannot move further that way between support tiers."),
        _Entry(409, "concurrency-conflict", "Changed meanwhile", "Someone changed this at the same time. Reload it and try again."),
        _Entry(409, "duplicate", "Already exists", "That already exists."),
        _Entry(500, "configuration-error", "Service misconfigured", "The support service is not set up correctly. Please try again later."),
        _Entry(500, "lifecycle-definition-error", "Service misconfigured", "The support service is not set up correctly. Please try again later."),
        _Entry(503, "storage-error", "Service unavailable", "The service is unavailable for a moment. Please try again shortly."),
        _Entry(502, "channel-error", "Channel unavailable", "We could not pass the message on right now. Please try again later."),
        _Entry(401, "signature-error", "Not signed", "The request is not signed correctly."),
        _Entry(401, "not-authenticated", "Not signed in", "Please sign in to continue."),
        _Entry(403, "access-denied", "Not allowed", "You are not allowed to do that."),
        _Entry(422, "request-invalid", "Invalid request", "The request could not be used."),
        _Entry(412, "stale-version", "Changed since loaded", "This was changed since you loaded it. Reload it and try again."),
        _Entry(500, "plugin-error", "Service misconfigured", "The support service is not set up correctly. Please try again later."),
    )
}  # fmt: skip

_BY_CLASS_NAME: dict[str, str] = {
    "SupportKitError": "error",
    "NotFound": "not-found",
    "TicketNotFound": "ticket-not-found",
    "ArticleNotFound": "article-not-found",
    "ValidationError": "validation-error",
    "MalformedMessage": "malformed-message",
    "UnsupportedContentType": "unsupported-content-type",
    "FeedbackTokenError": "feedback-token-error",
    "MalformedFeedbackToken": "malformed-feedback-token",
    "ForgedFeedbackToken": "forged-feedback-token",
    "ExpiredFeedbackToken": "expired-feedback-token",
    "FeedbackTokenReused": "feedback-token-reused",
    "FeedbackAlreadyGiven": "feedback-already-given",
    "InvalidTransition": "invalid-transition",
    "GuardRejected": "guard-rejected",
    "EscalationRefused": "escalation-refused",
    "ConcurrencyConflict": "concurrency-conflict",
    "DuplicateError": "duplicate",
    "ConfigurationError": "configuration-error",
    "LifecycleDefinitionError": "lifecycle-definition-error",
    "StorageError": "storage-error",
    "ChannelError": "channel-error",
    "SignatureError": "signature-error",
    "PluginError": "plugin-error",
    "NotAuthenticated": "not-authenticated",
    "AccessDenied": "access-denied",
    "RequestInvalid": "request-invalid",
    "StaleVersion": "stale-version",
}

_REGISTERED: dict[type[SupportKitError], _Entry] = {}
_KEBAB = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def register_problem(
    cls: type[SupportKitError], *, status: int, title: str, detail: str, slug: str | None = None
) -> None:
    """Give a host's own error class its status and customer-facing wording.

    *detail* is shown to whoever made the request, so write it for a
    customer. *slug* defaults to the class name in kebab case.
    """
    if not (isinstance(cls, type) and issubclass(cls, SupportKitError)):
        raise TypeError(f"register_problem takes a SupportKitError subclass, not {cls!r}")
    if not 400 <= status <= 599:
        raise ValueError(f"a problem's status is an HTTP error status (400-599), not {status}")
    _REGISTERED[cls] = _Entry(status, slug or _kebab(cls.__name__), title, detail)


def _kebab(name: str) -> str:
    return _KEBAB.sub("-", name).lower()


def _own_entry(cls: type) -> _Entry | None:
    entry = _REGISTERED.get(cls)
    if entry is None and cls.__module__.startswith("supportkit."):
        slug = _BY_CLASS_NAME.get(cls.__name__)
        entry = _ENTRIES[slug] if slug else None
    return entry


def problem_type(cls: type[SupportKitError]) -> str:
    """The stable ``type`` URI of an error class."""
    entry = _own_entry(cls)
    return PROBLEM_TYPE_PREFIX + (entry.slug if entry else _kebab(cls.__name__))


def problem_for(error: SupportKitError) -> Problem:
    """The HTTP answer for *error*: status, ``type``, customer-safe ``title`` and ``detail``.

    >>> from supportkit import TicketNotFound
    >>> p = problem_for(TicketNotFound("01J9ZX"))
    >>> p.status, p.type, p.detail
    (404, 'urn:supportkit:problem:ticket-not-found', 'We could not find that request.')
    >>> "01J9ZX" in p.body().decode()
    False
    """
    entry = next(
        (e for c in type(error).__mro__ if (e := _own_entry(c)) is not None),
        _ENTRIES["error"],
    )
    extensions: dict[str, Any] = {}
    detail = entry.detail
    if isinstance(error, NotFound):
        detail = detail.format(kind=_safe_word(error.kind))
    if isinstance(error, InvalidTransition):
        extensions = {"ticket_status": error.status, "allowed": list(error.allowed)}
    if isinstance(error, ConcurrencyConflict) and error.actual is not None:
        extensions = {"current_version": error.actual}
    public_detail = getattr(error, "public_detail", None)
    if isinstance(public_detail, str) and public_detail:
        detail = public_detail
    return Problem(
        status=entry.status,
        type=problem_type(type(error)),
        title=entry.title,
        detail=detail,
        extensions=extensions,
        log_message=str(error),
    )


def _safe_word(kind: str) -> str:
    return kind if re.fullmatch(r"[a-z ]{1,40}", kind) else "item"
