"""The errors the HTTP layer adds: who may ask, and whether the version they saw is current.

Each carries a ``public_detail`` written for whoever made the request;
:func:`~supportkit.web.problem_for` shows it instead of the table's wording.
"""

from __future__ import annotations

from ..domain._errors import StaleVersion, SupportKitError, ValidationError

__all__ = ["AccessDenied", "NotAuthenticated", "RequestInvalid", "StaleVersion"]


class NotAuthenticated(SupportKitError):
    """The host's ``authenticate`` found nobody behind the request (HTTP 401)."""

    public_detail = "Please sign in to continue."


class AccessDenied(SupportKitError):
    """The principal may not use this endpoint (HTTP 403); tickets it may not see are 404."""

    public_detail = "You are not allowed to do that."


class RequestInvalid(ValidationError):
    """A request body or query parameter that cannot be used (HTTP 422).

    Its message names the field and is written to be shown as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.public_detail = message
