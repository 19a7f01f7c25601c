"""Flask (WSGI) reference integration: one desk shared by every thread of the server.

Run it: ``python examples/flask_app/app.py`` (a threaded server on :5000, SQLite
file ``flask-desk.sqlite3``). The glue is the part below ``create_app``: routes
that call one desk method each, and one error handler that turns every
:class:`~supportkit.SupportKitError` into ``application/problem+json`` through
:func:`supportkit.web.problem_for` (status, stable ``type``, a ``detail`` safe to
show a customer; the developer's message goes to the log).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, Response, request

from supportkit import SupportDesk, SupportKitError
from supportkit.storage.sqlite import SQLiteStorage
from supportkit.web import RequestInvalid, problem_for

log = logging.getLogger("flask_app")


def create_app(desk: SupportDesk) -> Flask:
    """The shop's support endpoints over *desk* (shared by all request threads)."""
    app = Flask(__name__)

    def field(name: str) -> Any:
        body = request.get_json(silent=True) or {}
        if name not in body:
            raise RequestInvalid(f"the JSON body needs a {name!r} field")
        return body[name]

    @app.errorhandler(SupportKitError)
    def problem(error: SupportKitError) -> Response:
        p = problem_for(error)
        log.info("%s: %s", p.type, p.log_message)
        return Response(p.body(), status=p.status, headers=p.headers)

    @app.post("/requests")
    def submit() -> tuple[dict[str, Any], int]:
        t = desk.receive("web", field("email"), field("text"), subject=field("subject"))
        return {"id": t.id, "number": t.number, "status": t.status}, 201

    @app.get("/requests/<int:number>")
    def track(number: int) -> dict[str, Any]:
        tr = desk.track(number, customer_address=request.args.get("email", ""))
        return {"number": tr.number, "status": tr.status, "subject": tr.subject}

    @app.post("/tickets/<ticket_id>/reply")
    def reply(ticket_id: str) -> dict[str, Any]:
        m = desk.reply(ticket_id, field("agent"), field("text"))
        return {"message": m.id, "ticket": m.ticket_id}

    @app.post("/tickets/<ticket_id>/resolve")
    def resolve(ticket_id: str) -> dict[str, Any]:
        t = desk.resolve(ticket_id, actor=field("agent"), resolution=field("resolution"))
        return {"id": t.id, "status": t.status, "version": t.version}

    return app


if __name__ == "__main__":
    storage = SQLiteStorage(os.environ.get("FLASK_DESK_DB", "flask-desk.sqlite3"))
    create_app(SupportDesk(storage)).run(threaded=True)
