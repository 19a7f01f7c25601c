"""supportkit.web: the desk over HTTP for agent consoles and customer portals.

- :func:`problem_for` maps any :class:`~supportkit.SupportKitError` to an
  ``application/problem+json`` answer (status, stable ``type``, a ``detail``
  safe to show a customer). It needs no web framework: Flask and Django
  views use it as they are.
- ``create_app(desk, authenticate=...)`` (extra ``web``: Starlette) is the
  agent and customer API as an ASGI app.

Errors drawn from here::

    SupportKitError
     +-- NotAuthenticated        401: authenticate() found nobody
     +-- AccessDenied            403: not for this kind of principal
     +-- ValidationError
     |    +-- RequestInvalid     422: a body or query field that cannot be used
     +-- ConcurrencyConflict
          +-- StaleVersion       412: If-Match names an old version
"""

from ._errors import AccessDenied, NotAuthenticated, RequestInvalid, StaleVersion
from ._problem import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_PREFIX,
    Problem,
    problem_for,
    problem_type,
    register_problem,
)

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "AccessDenied",
    "NotAuthenticated",
    "Problem",
    "RequestInvalid",
    "StaleVersion",
    "problem_for",
    "problem_type",
    "register_problem",
]
