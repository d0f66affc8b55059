"""A malformed event is a finding, never a stop (issue 19, item 5), on SQLite and PostgreSQL.

A row with a valid topic and wrong fields, written into the event table past the ledger (a recording role's
plain INSERT does the same on PostgreSQL): the read models pass over it and record it, so every report and
every command on other records goes on; a rebuild goes on; a command on the enterprise it belongs to is
refused `malformed-event` (exit 1) instead of a crash; `audit verify` names it.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from ledger.domain import enterprise_id
from ledger.storage import parse_store
from projections import schema
from projections.runner import make_engine
from tests.conftest import USCC_A
from tests.helpers import cli, cli_json
from tests.integration.test_audit_chain import _events_table, _ledger, _sql


def _forge(url: str) -> int:
    """A PaymentRecorded on A's stream with only a ref: returns its position."""
    table = _events_table(url)
    engine = make_engine(parse_store(url))
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql(
                f"SELECT max(originator_version) FROM {table} WHERE originator_id = "
                f"{_id(url)}").scalar()
    finally:
        engine.dispose()
    state = json.dumps({"ref": "A-1", "amount_fen": "lots"})
    value = f"X'{state.encode().hex()}'" if url.startswith("sqlite") else f"convert_to('{state}', 'UTF8')"
    _sql(url, f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ({_id(url)}, "
              f"{version + 1}, 'grants:Enterprise.PaymentRecorded', {value})")
    engine = make_engine(parse_store(url))
    try:
        with engine.connect() as conn:
            pos = "rowid" if url.startswith("sqlite") else "notification_id"
            return int(conn.exec_driver_sql(f"SELECT max({pos}) FROM {table}").scalar())
    finally:
        engine.dispose()


def _id(url: str) -> str:
    uid = enterprise_id(USCC_A)
    return f"'{uid.hex}'" if url.startswith("sqlite") else f"'{uid}'::uuid"


def test_a_malformed_event_is_recorded_and_passed_over_never_a_stop(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    position = _forge(db_url)
    report = cli(db_url, "report", "shares", "--json")
    assert report.exit_code == 0, report.stderr  # the views pass over it
    engine = make_engine(parse_store(db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(schema.malformed.c.position, schema.malformed.c.topic)).all()
            assert [tuple(r) for r in rows] == [(position, "grants:Enterprise.PaymentRecorded")]
    finally:
        engine.dispose()
    other = cli(db_url, "approve", "B-1", "--date", "2023-02-01", "--json")
    assert other.exit_code == 0, other.stderr  # a command on another enterprise goes on
    assert cli_json(db_url, "show", "B-1")["status"] == "approved"
    refused = cli(db_url, "pay", "A-1", "--payer", "county", "--amount-fen", "100", "--voucher", "Z-1", "--date",
                  "2023-03-02", "--json")
    assert refused.exit_code == 1, (refused.stdout, refused.stderr)
    assert json.loads(refused.stderr.strip().splitlines()[-1])["error"]["code"] == "malformed-event"
    assert "PaymentRecorded" in refused.stderr
    rebuilt = cli(db_url, "projections", "rebuild", "--json")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    verified = cli(db_url, "audit", "verify", "--json")
    assert verified.exit_code in (6, 7), verified.stdout
    data = json.loads(verified.stdout)
    named = (data.get("broken") or {}).get("position") == position or any(
        f["position"] == position for f in data.get("findings") or [])
    assert named, data
