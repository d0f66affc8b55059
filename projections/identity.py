"""Identity the database vouches for (PostgreSQL): who inserted each event, and what each
operator's own database role may do.

``install`` (run by the owner of the tables: ``grants init``, ``grants admin grant``):

- adds ``db_user`` to the event table, set by a ``BEFORE INSERT`` trigger to
  ``session_user`` whatever the INSERT says (events stored before it stay NULL); in
  enforced mode the same trigger refuses a row, from anyone but the owner, whose
  ``recorded_by`` is not the session's role, or whose ``by`` is someone else's unless the
  role is an admin's (``grants_admin_roles``, kept by ``grant_statements``);
- creates ``grants_lock_events()``, a ``SECURITY DEFINER`` function that takes the
  recorder's ``EXCLUSIVE`` lock on the event table: ``LOCK TABLE`` in that mode needs
  UPDATE, DELETE or TRUNCATE on the table, which no operator's role has;
- revokes UPDATE, DELETE and TRUNCATE on the event table from PUBLIC;
- keeps ``grants_event_kinds``: every kind of event the ledger records (its topic), the
  fields its state holds, and the ledger roles that record it (``event_kinds``). In
  enforced mode the stamping trigger refuses, from anyone but the owner, a row whose
  topic is not one of them, whose state lacks a field or has one the kind does not, whose
  amount (``*_fen``) is not a number, or whose kind the session's operator may not record
  by its roles *in the roster* (the log itself: its last registration or change of roles,
  and not suspended). An admin may record every kind (history migrated in others' names).
  So a recording role's plain INSERT can do no more than its commands could; the ledger's
  rules still decide whether the act itself is right (``grants audit verify``).

``grant_statements`` is the SQL that gives one operator's role just what its ledger
roles need: every role reads (SELECT); a role that records (clerk, reviewer, treasurer,
admin) may INSERT events (never UPDATE, DELETE or TRUNCATE them), take the write lock
through the function, and keep the read models (``rm_*``) up to date. Nobody but the
owner can alter a table (no operator owns one). A suspended operator's role cannot log in.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from sqlalchemy import Engine

from ledger.domain import aggregates as domain
from ledger.domain.aggregates import ROSTER_ID
from ledger.domain.kinds import OF_EVENT, ROLE_OF_OP
from ledger.domain.operators import ADMIN, WRITING_ROLES
from ledger.store.chain import CHAIN_TABLE
from ledger.store.recorders import LOCK_FUNCTION
from projections import schema

EVENTS_TABLE = "grants_events"
STAMP_FUNCTION = "grants_stamp_db_user"
STAMP_TRIGGER = "grants_events_db_user"
ADMINS_TABLE = "grants_admin_roles"  # the database roles of admins: they may record events in others' names
KINDS_TABLE = "grants_event_kinds"  # topic -> fields of its state, roles that record it
GRANTED_TABLE = "grants_operator_roles"  # every role `admin grant` made, and whether it records: the views'
# privileges are given again from it when the view tables are made anew (a new views version, an upgrade)


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


STAMPED = ("os_user", "recorded_by")  # written into every event's state by the ledger (ledger/service/access.py)

# The roles that record the events the registry of kinds does not name (ledger/domain/kinds.py, each with the
# role of the command that records it): an enterprise's creation by its registration, and the index streams by
# the command that writes them (filing number: apply; vouchers and receipts: pay, reverse-payment and recover;
# the quota's tasks: approve, revoke and redecide, all a reviewer's; the streams' openings).
_STREAM_ROLES: dict[str, tuple[str, ...]] = {
    "Enterprise": (ROLE_OF_OP["register"],),
    "ApplicationRef": (ROLE_OF_OP["apply"],), "VoucherRef": (ROLE_OF_OP["pay"],),
    "ReceiptRef": (ROLE_OF_OP["recover"],), "TaskQuota": (ROLE_OF_OP["approve"],),
    "PolicyBook": (ROLE_OF_OP["adopt-policy"],), "OperatorRoster": (ADMIN,), "ImportRun": WRITING_ROLES,
    "SetAsides": (ROLE_OF_OP["set-aside"],),
}


def event_kinds() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every kind of event the ledger records: topic -> (the fields of its stored state, the roles that record
    it), from the domain's event classes. A kind no role is named for is an error here, not a silent gap."""
    kinds: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for stream in vars(domain).values():
        if not (inspect.isclass(stream) and issubclass(stream, Aggregate) and stream.__module__ == domain.__name__):
            continue
        for event in vars(stream).values():
            if not (inspect.isclass(event) and issubclass(event, Aggregate.Event)):
                continue
            topic = get_topic(event)
            if not topic.startswith("grants:"):
                continue  # a base class: never recorded itself
            fields = tuple(f.name for f in dataclasses.fields(event) if f.name not in ("originator_id",
                                                                                   "originator_version"))
            kind = OF_EVENT.get(event)
            roles = (kind.role,) if kind is not None else _STREAM_ROLES[stream.__name__]
            kinds[topic] = (fields, roles)
    return kinds


def _array(items: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(_literal(i) for i in items) + "]::text[]"


def install_statements(db_schema: str = "public") -> list[str]:
    events = f"{_q(db_schema)}.{_q(EVENTS_TABLE)}"
    stamp = f"{_q(db_schema)}.{_q(STAMP_FUNCTION)}"
    lock = f"{_q(db_schema)}.{_q(LOCK_FUNCTION)}"
    admins = f"{_q(db_schema)}.{_q(ADMINS_TABLE)}"
    kinds = f"{_q(db_schema)}.{_q(KINDS_TABLE)}"
    roster_of = (f"FROM {events} WHERE originator_id = '{ROSTER_ID}' AND "
                 "convert_from(state, 'UTF8')::jsonb->>'name' = session_user::text AND topic IN ")
    # In enforced mode (the roster exists), a row from anyone but the owner must have been recorded by
    # its own session (`recorded_by`), in its own name (`by`) unless the role is an admin's (an import
    # migrating history). The rows that create the roster (versions 1 and 2) are the switch itself.
    # SECURITY DEFINER: it reads the admins table, which no operator may; session_user is unchanged.
    stamp_body = f"""
DECLARE doc jsonb; kind record; held jsonb; suspended boolean;
BEGIN
  NEW.db_user := session_user;
  IF pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
     OR (NEW.originator_id = '{ROSTER_ID}' AND NEW.originator_version <= 2)
     OR NOT EXISTS (SELECT 1 FROM {events} WHERE originator_id = '{ROSTER_ID}') THEN
    RETURN NEW;
  END IF;
  doc := convert_from(NEW.state, 'UTF8')::jsonb;
  IF NEW.originator_id = '{ROSTER_ID}'
     AND (NOT EXISTS (SELECT 1 FROM {admins} WHERE name = session_user) OR doc->>'name' = session_user) THEN
    RAISE EXCEPTION 'grants: the database role % may not administer operators (only another admin may)',
      session_user USING ERRCODE = '42501';
  END IF;
  SELECT fields, roles INTO kind FROM {kinds} WHERE topic = NEW.topic;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'grants: % is not a kind of event this ledger records', NEW.topic USING ERRCODE = '42501';
  END IF;
  IF jsonb_typeof(doc) <> 'object' OR NOT doc ?& kind.fields
     OR EXISTS (SELECT 1 FROM jsonb_object_keys(doc) k WHERE NOT k = ANY(kind.fields || {_array(STAMPED)}))
     OR EXISTS (SELECT 1 FROM jsonb_each(doc) e WHERE e.key LIKE '%\\_fen' AND jsonb_typeof(e.value) <> 'number') THEN
    RAISE EXCEPTION 'grants: the state of % does not hold the fields of its kind (%)', NEW.topic,
      array_to_string(kind.fields, ', ') USING ERRCODE = '42501';
  END IF;
  SELECT convert_from(state, 'UTF8')::jsonb->'roles' INTO held {roster_of}
    ('grants:OperatorRoster.OperatorRegistered', 'grants:OperatorRoster.RolesChanged')
    ORDER BY originator_version DESC LIMIT 1;
  SELECT topic = 'grants:OperatorRoster.OperatorSuspended' INTO suspended {roster_of}
    ('grants:OperatorRoster.OperatorSuspended', 'grants:OperatorRoster.OperatorReinstated')
    ORDER BY originator_version DESC LIMIT 1;
  IF held IS NULL OR coalesce(suspended, false)
     OR NOT (held ? '{ADMIN}' OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(held) r WHERE r = ANY(kind.roles))) THEN
    RAISE EXCEPTION 'grants: the database role % (roles %) may not record %, which needs one of: %', session_user,
      coalesce(held::text, 'none'), NEW.topic, array_to_string(kind.roles, ', ') USING ERRCODE = '42501';
  END IF;
  IF doc->>'recorded_by' IS DISTINCT FROM session_user
     OR (doc ? 'by' AND doc->>'by' IS DISTINCT FROM session_user
         AND NOT EXISTS (SELECT 1 FROM {admins} WHERE name = session_user)) THEN
    RAISE EXCEPTION 'grants: the database role % may not record an event by % (recorded by %)', session_user,
      coalesce(doc->>'by', '-'), coalesce(doc->>'recorded_by', '-') USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END"""
    kind_rows = ", ".join(f"({_literal(topic)}, {_array(fields)}, {_array(roles)})"
                          for topic, (fields, roles) in sorted(event_kinds().items()))
    chain_table = f"{_q(db_schema)}.{_q(CHAIN_TABLE)}"
    return [
        f"ALTER TABLE {events} ADD COLUMN IF NOT EXISTS db_user text",
        f"CREATE TABLE IF NOT EXISTS {kinds} (topic text PRIMARY KEY, fields text[] NOT NULL, roles text[] NOT NULL)",
        f"REVOKE ALL ON {kinds} FROM PUBLIC",
        f"DELETE FROM {kinds}",
        f"INSERT INTO {kinds} (topic, fields, roles) VALUES {kind_rows}",
        f"CREATE TABLE IF NOT EXISTS {admins} (name text PRIMARY KEY)",
        f"REVOKE ALL ON {admins} FROM PUBLIC",
        f"CREATE TABLE IF NOT EXISTS {_q(db_schema)}.{_q(GRANTED_TABLE)} (name text PRIMARY KEY, "
        "records boolean NOT NULL)",
        f"REVOKE ALL ON {_q(db_schema)}.{_q(GRANTED_TABLE)} FROM PUBLIC",
        f"CREATE OR REPLACE FUNCTION {stamp}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        f"SET search_path = pg_catalog AS $${stamp_body}$$",
        f"REVOKE ALL ON FUNCTION {stamp}() FROM PUBLIC",
        f"CREATE OR REPLACE TRIGGER {_q(STAMP_TRIGGER)} BEFORE INSERT ON {events} "
        f"FOR EACH ROW EXECUTE FUNCTION {stamp}()",
        f"CREATE OR REPLACE FUNCTION {lock}() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
        f"SET search_path = pg_catalog AS $$ BEGIN LOCK TABLE {events} IN EXCLUSIVE MODE; END $$",
        f"REVOKE ALL ON FUNCTION {lock}() FROM PUBLIC",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {events} FROM PUBLIC",
        # the links are the database's own (ledger/store/append_only.py): roles granted before that lose INSERT on them
        f"DO $$ DECLARE r record; BEGIN FOR r IN SELECT name FROM {_q(db_schema)}.{_q(GRANTED_TABLE)} "
        "JOIN pg_roles ON rolname = name LOOP "
        f"EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {chain_table} FROM %I', r.name); "
        "END LOOP; END $$",
    ]


def install(engine: Engine, db_schema: str = "public") -> None:
    """Install the identity DDL (idempotent); the owner of the event table runs it."""
    apply(engine, install_statements(db_schema))


def grant_statements(operator: str, roles: Sequence[str], *, database: str, suspended: bool = False,
                     db_schema: str = "public") -> list[str]:
    """The SQL that creates (or brings up to date) the role of ``operator`` with just what ``roles`` need.

    Idempotent: everything is revoked first, then granted, so running it after a change of
    roles leaves exactly the new privileges.
    """
    role = _q(operator)
    events = f"{_q(db_schema)}.{_q(EVENTS_TABLE)}"
    events_chain = f"{events}, {_q(db_schema)}.{_q(CHAIN_TABLE)}"  # the hash chain is sealed with each write
    lock = f"{_q(db_schema)}.{_q(LOCK_FUNCTION)}"
    views = ", ".join(f"{_q(db_schema)}.{_q(t.name)}" for t in schema.metadata.sorted_tables)
    writes = any(r in WRITING_ROLES for r in roles)
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(operator)}) "
        f"THEN CREATE ROLE {role}; END IF; END $$",
        f"ALTER ROLE {role} {'NOLOGIN' if suspended else 'LOGIN'} NOSUPERUSER NOCREATEDB NOCREATEROLE "
        "NOBYPASSRLS",
        f"GRANT CONNECT ON DATABASE {_q(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {_q(db_schema)} TO {role}",
        f"REVOKE ALL ON {events_chain}, {views} FROM {role}",
        f"REVOKE ALL ON FUNCTION {lock}() FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {_q(db_schema)} FROM {role}",
        f"GRANT SELECT ON {events_chain}, {views} TO {role}",
    ]
    admins = f"{_q(db_schema)}.{_q(ADMINS_TABLE)}"
    granted = f"{_q(db_schema)}.{_q(GRANTED_TABLE)}"
    statements.append(f"DELETE FROM {admins} WHERE name = {_literal(operator)}")
    statements.append(f"DELETE FROM {granted} WHERE name = {_literal(operator)}")
    statements.append(f"INSERT INTO {granted} (name, records) VALUES ({_literal(operator)}, "
                      f"{'true' if writes and not suspended else 'false'})")
    if ADMIN in roles and not suspended:
        statements.append(f"INSERT INTO {admins} (name) VALUES ({_literal(operator)})")
    if writes and not suspended:
        statements += [
            f"GRANT INSERT ON {events} TO {role}",  # the chain's links are the database's (append_only)
            f"GRANT EXECUTE ON FUNCTION {lock}() TO {role}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_q(db_schema)} TO {role}",
            f"GRANT INSERT, UPDATE, DELETE ON {views} TO {role}",
        ]
    return statements


def view_grant_statements(granted: Sequence[tuple[str, bool]], db_schema: str = "public") -> list[str]:
    """The read models' privileges of every role ``admin grant`` made ((name, records)), given again after the
    view tables were made anew (dropping a table drops its grants): SELECT for all, and for a role that records
    INSERT, UPDATE and DELETE (the catch-up runs in its session), as ``grant_statements`` gives them."""
    views = ", ".join(f"{_q(db_schema)}.{_q(t.name)}" for t in schema.metadata.sorted_tables)
    statements = []
    for name, records in granted:
        statements.append(f"GRANT SELECT ON {views} TO {_q(name)}")
        if records:
            statements.append(f"GRANT INSERT, UPDATE, DELETE ON {views} TO {_q(name)}")
    return statements


def apply(engine: Engine, statements: Sequence[str]) -> None:
    """Execute the statements in one transaction, as written (no parameters: '%' is plain text)."""
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for statement in statements:
            cursor.execute(statement)
