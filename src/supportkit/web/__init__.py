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

from typing import Any

from ._errors import AccessDenied, NotAuthenticated, RequestInvalid, StaleVersion
from ._principal import AgentPrincipal, Authenticate, CustomerPrincipal, Principal
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
    "AgentPrincipal",
    "Authenticate",
    "CustomerPrincipal",
    "NotAuthenticated",
    "Principal",
    "Problem",
    "RequestInvalid",
    "StaleVersion",
    "create_app",
    "problem_for",
    "problem_type",
    "register_problem",
]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The agent and customer API as an ASGI app (needs the ``web`` extra: Starlette).

    See :func:`supportkit.web._app.create_app` for the parameters; imported
    here lazily so that :func:`problem_for` works without Starlette.
    """
    from ._app import create_app as build

    return build(*args, **kwargs)
