"""Database objects that make the event log append-only, and the chain table.

Installed with the ledger's tables (every time the event store creates them, which
``grants init`` and every command that writes do): triggers that refuse UPDATE and
DELETE (and, on PostgreSQL, TRUNCATE) on the event table and on the hash chain
(``ledger.store.chain``), and on PostgreSQL the UPDATE, DELETE and TRUNCATE privileges
revoked from PUBLIC. The table owner can still drop a trigger: the hash chain is what
makes such a change visible (``grants audit verify``).

On PostgreSQL the chain is computed by the database itself (issue 19): every inserted
event is sealed by an ``AFTER INSERT`` trigger whose function (``grants_seal_chain``,
``SECURITY DEFINER``, owned by the ledger's owner) takes the write lock, refuses a write
whose log no longer ends where its chain does (``chain-mismatch``), and appends the link
(``ledger.store.chain.link_hash``, the same formula, recomputed by ``grants audit verify``). No
caller supplies a link: a row inserted into ``audit_chain`` by anyone but the owner (or
the owner's sealing function) is refused by a trigger, whatever privileges the role holds.
On SQLite, where whoever can write the file is trusted, the recorder seals in Python.
"""

from __future__ import annotations

from ledger.store.chain import CHAIN_TABLE

REFUSED = "the event log is append-only"
INSTALL_LOCK = 0x6772616E7473 + 8  # advisory-lock key: one installer at a time (PostgreSQL)
SEAL_FUNCTION = "grants_seal_chain"  # seals every event the chain does not cover yet, up to a position
SEAL_TRIGGER_FUNCTION = "grants_seal_event"
CHAIN_GUARD_FUNCTION = "grants_chain_guard"
CHAIN_MISMATCH_STATE = "GC001"  # the SQLSTATE of a write refused because the log no longer ends where its chain does


def _chain_columns(bigint: str) -> str:
    return (f"position {bigint} PRIMARY KEY, prev_position {bigint} NOT NULL, originator_id TEXT NOT NULL, "
            f"originator_version {bigint} NOT NULL, topic TEXT NOT NULL, state_sha256 TEXT NOT NULL, "
            "hash TEXT NOT NULL")


def sqlite_statements(events_table: str) -> list[str]:
    statements = [f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ({_chain_columns('INTEGER')})"]
    for table in (events_table, CHAIN_TABLE):
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: {op} on {table} refused'); END")
    return statements


def postgres_statements(schema: str, events_table: str) -> list[str]:
    """One DO block: the function and triggers are created only where missing (no catalogue
    writes, hence no lock on the event table, when they are there), one installer at a time."""
    qualified = {t: f'"{schema}"."{t}"' for t in (events_table, CHAIN_TABLE)}
    function = f'"{schema}".grants_refuse_change'
    body = [f"PERFORM pg_advisory_xact_lock({INSTALL_LOCK});"]
    body.append(
        "IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"WHERE p.proname = 'grants_refuse_change' AND n.nspname = '{schema}') THEN "
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
        f"RAISE EXCEPTION '{REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; END $f$; END IF;")
    for table, name in qualified.items():
        for suffix, when, level in (("append_only", "UPDATE OR DELETE", "ROW"), ("no_truncate", "TRUNCATE",
                                                                                  "STATEMENT")):
            trigger = f"{table}_{suffix}"
            body.append(
                f"IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{trigger}' "
                f"AND tgrelid = '{name}'::regclass) THEN "
                f"CREATE TRIGGER {trigger} BEFORE {when} ON {name} FOR EACH {level} "
                f"EXECUTE FUNCTION {function}(); "
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {name} FROM PUBLIC; END IF;")
    body += _sealing(schema, events_table, qualified)
    return [
        f'CREATE TABLE IF NOT EXISTS "{schema}"."{CHAIN_TABLE}" ({_chain_columns("bigint")})',
        "DO $grants$ BEGIN " + " ".join(body) + " END $grants$",
    ]


def _missing_function(schema: str, name: str) -> str:
    return ("NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            f"WHERE p.proname = '{name}' AND n.nspname = '{schema}')")


def _sealing(schema: str, events_table: str, qualified: dict[str, str]) -> list[str]:
    """The chain computed in the database: the sealing function, the trigger that calls it for each inserted
    event, and the guard that refuses a link row from anyone but the owner (created where missing)."""
    events, links = qualified[events_table], qualified[CHAIN_TABLE]
    seal = f'"{schema}".{SEAL_FUNCTION}'
    # The link of ledger.store.chain.link_hash: SHA-256(previous hash || position NUL id NUL version NUL topic NUL
    # SHA-256(state)), the id as 32 lowercase hex digits. `upto` NULL seals everything unsealed (`seal()`).
    # The lock is the recorder's own (every writer of the ledger takes it before its insert): a row inserted
    # without it, whose position a locked writer then passed, is refused (40001: written again, it is sealed).
    nul = "'\\x00'::bytea"
    seal_body = (
        "DECLARE last_pos bigint; last_hash text; r record; digest bytea; n integer := 0; BEGIN "
        f"LOCK TABLE {events} IN EXCLUSIVE MODE; "
        f"SELECT position, hash INTO last_pos, last_hash FROM {links} ORDER BY position DESC LIMIT 1; "
        "IF NOT FOUND THEN last_pos := 0; last_hash := repeat('0', 64); END IF; "
        f"IF last_pos > 0 AND NOT EXISTS (SELECT 1 FROM {events} WHERE notification_id = last_pos) THEN "
        "RAISE EXCEPTION 'grants: the event log does not match its hash chain at position %', last_pos "
        f"USING ERRCODE = '{CHAIN_MISMATCH_STATE}', DETAIL = last_pos::text; END IF; "
        "IF upto IS NOT NULL AND upto <= last_pos THEN "
        "RAISE EXCEPTION 'grants: event % was written without the write lock, after the chain sealed %', "
        "upto, last_pos USING ERRCODE = '40001'; END IF; "
        "FOR r IN SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {events} WHERE notification_id > last_pos AND (upto IS NULL OR notification_id <= upto) "
        "ORDER BY notification_id LOOP "
        "digest := sha256(r.state); "
        "last_hash := encode(sha256(decode(last_hash, 'hex') || convert_to(r.notification_id::text, 'UTF8') "
        f"|| {nul} || convert_to(replace(r.originator_id::text, '-', ''), 'UTF8') || {nul} "
        f"|| convert_to(r.originator_version::text, 'UTF8') || {nul} || convert_to(r.topic, 'UTF8') || {nul} "
        "|| digest), 'hex'); "
        f"INSERT INTO {links} VALUES (r.notification_id, last_pos, replace(r.originator_id::text, '-', ''), "
        "r.originator_version, r.topic, encode(digest, 'hex'), last_hash); "
        "last_pos := r.notification_id; n := n + 1; END LOOP; RETURN n; END")
    guard_body = (
        "BEGIN IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') "
        f"THEN RAISE EXCEPTION '{REFUSED}: only the ledger computes a link of its hash chain (% by %)', "
        "TG_OP, session_user USING ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END")
    return [
        f"IF {_missing_function(schema, SEAL_FUNCTION)} THEN "
        f"CREATE FUNCTION {seal}(upto bigint) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER "
        f"SET search_path = pg_catalog AS $f$ {seal_body} $f$; "
        f"REVOKE ALL ON FUNCTION {seal}(bigint) FROM PUBLIC; END IF;",
        f"IF {_missing_function(schema, SEAL_TRIGGER_FUNCTION)} THEN "
        f'CREATE FUNCTION "{schema}".{SEAL_TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER '
        f"SET search_path = pg_catalog AS $f$ BEGIN PERFORM {seal}(NEW.notification_id); RETURN NULL; END $f$; "
        f'REVOKE ALL ON FUNCTION "{schema}".{SEAL_TRIGGER_FUNCTION}() FROM PUBLIC; END IF;',
        f"IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{events_table}_seal' "
        f"AND tgrelid = '{events}'::regclass) THEN "
        f"CREATE TRIGGER {events_table}_seal AFTER INSERT ON {events} FOR EACH ROW "
        f'EXECUTE FUNCTION "{schema}".{SEAL_TRIGGER_FUNCTION}(); END IF;',
        # not SECURITY DEFINER: current_user is the inserting role, or the owner inside the sealing function
        f"IF {_missing_function(schema, CHAIN_GUARD_FUNCTION)} THEN "
        f'CREATE FUNCTION "{schema}".{CHAIN_GUARD_FUNCTION}() RETURNS trigger LANGUAGE plpgsql '
        f"SET search_path = pg_catalog AS $f$ {guard_body} $f$; END IF;",
        f"IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{CHAIN_TABLE}_owner_only' "
        f"AND tgrelid = '{links}'::regclass) THEN "
        f"CREATE TRIGGER {CHAIN_TABLE}_owner_only BEFORE INSERT ON {links} FOR EACH ROW "
        f'EXECUTE FUNCTION "{schema}".{CHAIN_GUARD_FUNCTION}(); END IF;',
    ]


def drop_statements(kind: str, events_table: str, schema: str = "public") -> list[str]:
    """Remove the guards of the event table and the chain, for a scratch database only (the
    benchmark deletes the events it wrote to measure raw inserts); the next opening of the
    ledger for writing, or `grants init`, puts them back."""
    if kind == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {t}_no_{op} " for t in (events_table, CHAIN_TABLE) for op in ("update", "delete")]
    return [f'DROP TRIGGER IF EXISTS {t}_{suffix} ON "{schema}"."{t}"' for t in (events_table, CHAIN_TABLE)
            for suffix in ("append_only", "no_truncate")]
