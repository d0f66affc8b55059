"""Database objects that make the event log append-only, and the chain table.

Installed with the ledger's tables (every time the event store creates them, which
``grants init`` and every command that writes do): triggers that refuse UPDATE and
DELETE (and, on PostgreSQL, TRUNCATE) on the event table and on the hash chain
(``ledger.chain``), and on PostgreSQL the UPDATE, DELETE and TRUNCATE privileges
revoked from PUBLIC. The table owner can still drop a trigger: the hash chain is what
makes such a change visible (``grants audit verify``).
"""

from __future__ import annotations

from ledger.chain import CHAIN_TABLE

REFUSED = "the event log is append-only"
INSTALL_LOCK = 0x6772616E7473 + 8  # advisory-lock key: one installer at a time (PostgreSQL)


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
    return [
        f'CREATE TABLE IF NOT EXISTS "{schema}"."{CHAIN_TABLE}" ({_chain_columns("bigint")})',
        "DO $grants$ BEGIN " + " ".join(body) + " END $grants$",
    ]


def drop_statements(kind: str, events_table: str, schema: str = "public") -> list[str]:
    """Remove the guards of the event table and the chain, for a scratch database only (the
    benchmark deletes the events it wrote to measure raw inserts); the next opening of the
    ledger for writing, or `grants init`, puts them back."""
    if kind == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {t}_no_{op} " for t in (events_table, CHAIN_TABLE) for op in ("update", "delete")]
    return [f'DROP TRIGGER IF EXISTS {t}_{suffix} ON "{schema}"."{t}"' for t in (events_table, CHAIN_TABLE)
            for suffix in ("append_only", "no_truncate")]
