"""The MariaDB schema: supportkit's core tables in MariaDB's own DDL, versioned.

MariaDB cannot index a ``TEXT`` column without a length and has no partial
indexes, so keys are ``VARCHAR`` and the "unpublished events" index covers
``(published, seq)``. Tables use ``utf8mb4_bin`` so comparisons and ordering
are exact, as on SQLite and PostgreSQL. DDL commits implicitly in MariaDB:
each version is applied under a named lock (``GET_LOCK``) so two processes
starting at once never migrate together, and the version is recorded last.
"""

from __future__ import annotations

from typing import Any

from supportkit.domain import StorageError

__all__ = ["SCHEMA_VERSION", "migrate"]

_ID = "VARCHAR(191)"
_DESK = "desk VARCHAR(64) NOT NULL DEFAULT 'default'"
_TABLE = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

_V1 = [
    f"""CREATE TABLE sk_tickets (
        id {_ID} NOT NULL PRIMARY KEY,
        number BIGINT NOT NULL UNIQUE,
        {_DESK},
        subject TEXT NOT NULL,
        customer_id {_ID} NOT NULL,
        channel {_ID} NOT NULL,
        status {_ID} NOT NULL,
        priority INTEGER NOT NULL,
        category {_ID},
        tier {_ID} NOT NULL,
        team_id {_ID},
        assignee_id {_ID},
        tags LONGTEXT NOT NULL,
        custom_fields LONGTEXT NOT NULL,
        language {_ID} NOT NULL,
        lifecycle {_ID} NOT NULL,
        version INTEGER NOT NULL,
        received_at BIGINT NOT NULL,
        registered_at BIGINT,
        first_response_at BIGINT,
        last_customer_message_at BIGINT,
        resolved_at BIGINT,
        closed_at BIGINT,
        updated_at BIGINT,
        resolution TEXT,
        close_reason TEXT,
        reopen_count INTEGER NOT NULL DEFAULT 0,
        escalation_count INTEGER NOT NULL DEFAULT 0,
        INDEX sk_tickets_status (status, number),
        INDEX sk_tickets_customer (customer_id, number),
        INDEX sk_tickets_assignee (assignee_id),
        INDEX sk_tickets_team (team_id),
        INDEX sk_tickets_tier (tier),
        INDEX sk_tickets_received (received_at)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_messages (
        seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        {_DESK},
        id {_ID} NOT NULL UNIQUE,
        ticket_id {_ID} NOT NULL,
        direction VARCHAR(16) NOT NULL,
        channel {_ID} NOT NULL,
        author TEXT NOT NULL,
        text LONGTEXT NOT NULL,
        html LONGTEXT,
        attachments LONGTEXT NOT NULL,
        external_id VARCHAR(255),
        in_reply_to TEXT,
        meta LONGTEXT NOT NULL,
        created_at BIGINT NOT NULL,
        INDEX sk_messages_ticket (ticket_id, seq),
        UNIQUE INDEX sk_messages_external (desk, external_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_history (
        seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        {_DESK},
        ticket_id {_ID} NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        event {_ID} NOT NULL,
        from_status {_ID} NOT NULL,
        to_status {_ID} NOT NULL,
        reason LONGTEXT NOT NULL,
        INDEX sk_history_ticket (ticket_id, seq)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_events (
        seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        {_DESK},
        ticket_id {_ID} NOT NULL,
        type {_ID} NOT NULL,
        at BIGINT NOT NULL,
        payload LONGTEXT NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        INDEX sk_events_ticket (ticket_id, seq),
        INDEX sk_events_unpublished (published, seq)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_customers (
        id {_ID} NOT NULL PRIMARY KEY,
        {_DESK},
        data LONGTEXT NOT NULL
    ) {_TABLE}""",
    f"""CREATE TABLE sk_identities (
        {_DESK},
        channel {_ID} NOT NULL,
        address {_ID} NOT NULL,
        customer_id {_ID} NOT NULL,
        PRIMARY KEY (desk, channel, address),
        INDEX sk_identities_customer (customer_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_agents (
        {_DESK}, id {_ID} NOT NULL, data LONGTEXT NOT NULL, PRIMARY KEY (desk, id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_teams (
        {_DESK}, id {_ID} NOT NULL, data LONGTEXT NOT NULL, PRIMARY KEY (desk, id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_timers (
        {_DESK},
        "key" {_ID} NOT NULL,
        due_at BIGINT NOT NULL,
        kind {_ID} NOT NULL,
        ticket_id {_ID} NOT NULL,
        payload LONGTEXT NOT NULL,
        PRIMARY KEY (desk, "key"),
        INDEX sk_timers_due (desk, due_at, "key"),
        INDEX sk_timers_ticket (ticket_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_raw_inbound (
        id {_ID} NOT NULL PRIMARY KEY,
        {_DESK},
        channel {_ID} NOT NULL,
        external_id {_ID},
        received_at BIGINT NOT NULL,
        raw LONGBLOB NOT NULL,
        status VARCHAR(32) NOT NULL,
        ticket_id {_ID},
        error LONGTEXT,
        claimed_until BIGINT,
        UNIQUE INDEX sk_raw_inbound_key (desk, channel, external_id),
        INDEX sk_raw_inbound_status (status, received_at)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_kv (
        {_DESK},
        namespace {_ID} NOT NULL,
        "key" {_ID} NOT NULL,
        value LONGTEXT NOT NULL,
        PRIMARY KEY (desk, namespace, "key")
    ) {_TABLE}""",
    f"""CREATE TABLE sk_sla_clocks (
        {_DESK},
        "key" {_ID} NOT NULL,
        ticket_id {_ID} NOT NULL,
        kind VARCHAR(32) NOT NULL,
        archived INTEGER NOT NULL,
        excluded INTEGER NOT NULL,
        data LONGTEXT NOT NULL,
        PRIMARY KEY (desk, "key"),
        INDEX sk_sla_clocks_ticket (ticket_id, archived)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_deliveries (
        {_DESK},
        id {_ID} NOT NULL,
        ticket_id {_ID} NOT NULL,
        status VARCHAR(32) NOT NULL,
        data LONGTEXT NOT NULL,
        PRIMARY KEY (desk, id),
        INDEX sk_deliveries_ticket (ticket_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_delivery_ids (
        {_DESK},
        external_id VARCHAR(255) NOT NULL,
        ticket_id {_ID} NOT NULL,
        delivery_id {_ID} NOT NULL,
        PRIMARY KEY (desk, external_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_feedback_tokens (
        {_DESK},
        token_id {_ID} NOT NULL,
        ticket_id {_ID} NOT NULL,
        used_at BIGINT NOT NULL,
        PRIMARY KEY (desk, token_id)
    ) {_TABLE}""",
    "CREATE SEQUENCE sk_ticket_number START WITH 1 INCREMENT BY 1 NOCACHE",
]

# supportkit's ``coordination`` component: relay claims, timer leases, named locks
_V2 = [
    "ALTER TABLE sk_events ADD COLUMN relayed INTEGER NOT NULL DEFAULT 0",
    f"ALTER TABLE sk_events ADD COLUMN relay_owner {_ID}",
    "ALTER TABLE sk_events ADD COLUMN relay_until BIGINT",
    "CREATE INDEX sk_events_unrelayed ON sk_events (desk, relayed, seq)",
    f"ALTER TABLE sk_timers ADD COLUMN lease_owner {_ID}",
    "ALTER TABLE sk_timers ADD COLUMN lease_until BIGINT",
    "CREATE INDEX sk_tickets_waiting ON sk_tickets (desk, assignee_id, status, priority)",
    f"""CREATE TABLE sk_locks (
        {_DESK},
        name VARCHAR(191) NOT NULL,
        PRIMARY KEY (desk, name)
    ) {_TABLE}""",
]


def _us(iso: str) -> str:
    """An ISO instant with an offset (as supportkit writes them) as integer microseconds."""
    local = f"CAST(REPLACE(LEFT({iso}, CHAR_LENGTH({iso}) - 6), 'T', ' ') AS DATETIME(6))"
    return (
        f"TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', "
        f"CONVERT_TZ({local}, RIGHT({iso}, 6), '+00:00'))"
    )


_AT = "JSON_VALUE(value, '$.at')"
_IS_ANSWER = (
    "JSON_VALID(value) AND JSON_TYPE(value) = 'OBJECT' "
    "AND JSON_TYPE(JSON_EXTRACT(value, '$.csat')) = 'INTEGER' "
    "AND JSON_TYPE(JSON_EXTRACT(value, '$.at')) = 'STRING'"
)

# supportkit core 4: feedback answers and automatic acknowledgements leave the kv table
_V3 = [
    f"""CREATE TABLE sk_feedback_answers (
        {_DESK},
        ticket_id {_ID} NOT NULL,
        csat INTEGER NOT NULL,
        nps INTEGER,
        comment LONGTEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (desk, ticket_id)
    ) {_TABLE}""",
    f"""CREATE TABLE sk_acknowledgements (
        {_DESK},
        sender {_ID} NOT NULL,
        at BIGINT NOT NULL,
        INDEX sk_acknowledgements_sender (desk, sender, at)
    ) {_TABLE}""",
    "INSERT INTO sk_feedback_answers (desk, ticket_id, csat, nps, comment, at) "
    'SELECT desk, "key", '
    "JSON_VALUE(value, '$.csat'), "
    "CASE WHEN JSON_TYPE(JSON_EXTRACT(value, '$.nps')) = 'INTEGER' "
    "THEN JSON_VALUE(value, '$.nps') END, "
    "COALESCE(JSON_VALUE(value, '$.comment'), ''), "
    f"{_us(_AT)} "
    f"FROM sk_kv WHERE namespace = 'feedback' AND {_IS_ANSWER}",
    f"DELETE FROM sk_kv WHERE namespace = 'feedback' AND {_IS_ANSWER}",
    "INSERT INTO sk_acknowledgements (desk, sender, at) "
    'SELECT k.desk, k."key", '
    f"{_us('j.at_text')} FROM sk_kv k, "
    "JSON_TABLE(k.value, '$[*]' COLUMNS (at_text VARCHAR(64) PATH '$')) AS j "
    "WHERE k.namespace = 'supportkit.notify.ack' AND JSON_VALID(k.value) "
    "AND JSON_TYPE(k.value) = 'ARRAY'",
    "DELETE FROM sk_kv WHERE namespace = 'supportkit.notify.ack'",
]

_OBJECT = "JSON_VALID(value) AND JSON_TYPE(value) = 'OBJECT'"

# supportkit core 5: readers' cursors leave the kv table (named ``<namespace>:<key>``)
_V4 = [
    f"""CREATE TABLE sk_cursors (
        {_DESK},
        name {_ID} NOT NULL,
        position BIGINT NOT NULL,
        epoch {_ID},
        state LONGTEXT NOT NULL,
        PRIMARY KEY (desk, name)
    ) {_TABLE}""",
    "INSERT INTO sk_cursors (desk, name, position, epoch, state) "
    "SELECT desk, CONCAT(namespace, ':', \"key\"), "
    "COALESCE(JSON_VALUE(value, '$.last_uid'), 0), "
    "CASE WHEN JSON_TYPE(JSON_EXTRACT(value, '$.uidvalidity')) IN ('INTEGER', 'STRING') "
    "THEN JSON_VALUE(value, '$.uidvalidity') END, '{}' "
    f"FROM sk_kv WHERE namespace = 'channels.email' AND {_OBJECT}",
    "INSERT INTO sk_cursors (desk, name, position, epoch, state) "
    "SELECT desk, CONCAT(namespace, ':', \"key\"), COALESCE(JSON_VALUE(value, '$.cursor'), 0), "
    "NULL, JSON_REMOVE(value, '$.cursor') "
    f"FROM sk_kv WHERE namespace = 'supportkit.webhook.forward' AND {_OBJECT}",
    "DELETE FROM sk_kv WHERE namespace IN ('channels.email', 'supportkit.webhook.forward') "
    f"AND {_OBJECT}",
]

#: version -> statements; a new version appends, nothing already released changes
MIGRATIONS: dict[int, list[str]] = {1: _V1, 2: _V2, 3: _V3, 4: _V4}
SCHEMA_VERSION = max(MIGRATIONS)
_COMPONENT = "core-mariadb"


def migrate(conn: Any) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns the version in place."""
    cur = conn.cursor()
    try:
        cur.execute("SELECT GET_LOCK('supportkit-migrate', 60)")
        if cur.fetchone()[0] != 1:
            raise StorageError("another process holds the migration lock for over 60 s")
        try:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS sk_schema (component VARCHAR(64) NOT NULL "
                f"PRIMARY KEY, version INTEGER NOT NULL) {_TABLE}"
            )
            cur.execute("SELECT version FROM sk_schema WHERE component = %s", (_COMPONENT,))
            row = cur.fetchone()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"the database's MariaDB schema is at version {current}, newer than this "
                    f"supportkit-mariadb knows ({SCHEMA_VERSION}); upgrade supportkit-mariadb"
                )
            for version in sorted(v for v in MIGRATIONS if v > current):
                for statement in MIGRATIONS[version]:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO sk_schema (component, version) VALUES (%s, %s) "
                    "ON DUPLICATE KEY UPDATE version = VALUES(version)",
                    (_COMPONENT, version),
                )
                conn.commit()
                current = version
            return current
        finally:
            cur.execute("SELECT RELEASE_LOCK('supportkit-migrate')")
    finally:
        cur.close()
