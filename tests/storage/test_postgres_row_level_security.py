"""Row-level security on PostgreSQL: the database itself keeps desks apart.

The tables' owner installs the policies; the application connects as a
plain role. Even SQL that forgets the desk (a raw query, a report) sees
only the rows of the desk its transaction names.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from supportkit import FakeClock, SupportDesk, TicketNotFound
from supportkit.storage.postgres import PostgresStorage, install_row_level_security

from ..pg import PG_URL, pg_schema

pytestmark = pytest.mark.postgres


def test_the_database_refuses_another_desks_rows_even_to_sql_without_a_desk() -> None:
    with pg_schema() as owner_url:
        schema = owner_url.rsplit("%3D", 1)[1]
        role = f"sk_app_{uuid.uuid4().hex[:8]}"
        with PostgresStorage(owner_url) as owner_storage, psycopg.connect(owner_url) as conn:
            assert owner_storage.schema_versions["core"] >= 1
            protected = install_row_level_security(conn)
            assert {"sk_tickets", "sk_customers", "sk_events", "sk_agents"} <= set(protected)
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
            conn.commit()
        app_url = owner_url.replace("postgres@", f"{role}@", 1)
        assert app_url != owner_url, PG_URL
        try:
            with PostgresStorage(app_url, desk="acme", row_level_security=True) as acme:
                a = SupportDesk(acme, clock=FakeClock())
                b = SupportDesk(acme.for_desk("globex"), clock=FakeClock())
                ta = a.receive("email", "ann@example.com", "Acme's question")
                b.receive("email", "bob@example.com", "Globex's question")
                with pytest.raises(TicketNotFound):
                    b.get_ticket(ta.id)
                with acme.unit_of_work() as uow:  # SQL that forgets the desk
                    cur = uow.raw_connection().execute("SELECT COUNT(*) FROM sk_tickets")
                    assert cur.fetchone()[0] == 1
            with psycopg.connect(app_url) as plain:  # no desk named: nothing at all
                assert plain.execute("SELECT COUNT(*) FROM sk_tickets").fetchone()[0] == 0
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    plain.execute(
                        "INSERT INTO sk_kv (desk, namespace, key, value) "
                        "VALUES ('acme', 'x', 'y', '1')"
                    )
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")
