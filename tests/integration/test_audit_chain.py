"""The event log is append-only at the database, and a hash chain shows any change made
behind the ledger's back (``grants audit verify``, exit 6), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.store import chain
from ledger.store.storage import parse_store
from projections.runner import make_engine
from tests.conftest import USCC_A, USCC_B, init_ledger, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, write_lines

FACTS = SECURITY_FACTS
LINES = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-10",
     "facts": FACTS},
    {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-01"},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "P2", "date": "2023-01-12",
     "facts": FACTS},
]
GRANTS = str(Path(sys.executable).with_name("grants"))


def _ledger(url: str, tmp_path: Path) -> None:
    result = cli(url, "import", str(write_lines(tmp_path / "lines.jsonl", LINES)))
    assert result.exit_code == 0, result.stderr


def _sql(url: str, *statements: str) -> None:
    engine = make_engine(parse_store(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _events_table(url: str) -> str:
    return "stored_events" if url.startswith("sqlite") else "grants_events"


def _pos(url: str) -> str:
    return "rowid" if url.startswith("sqlite") else "notification_id"


def _drop_guards(url: str) -> list[str]:
    t = _events_table(url)
    if url.startswith("sqlite"):
        return [f"DROP TRIGGER {t}_no_update", f"DROP TRIGGER {t}_no_delete",
                "DROP TRIGGER audit_chain_no_update", "DROP TRIGGER audit_chain_no_delete"]
    return [f"DROP TRIGGER {t}_append_only ON {t}", "DROP TRIGGER audit_chain_append_only ON audit_chain"]


def _verify(url: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(url, "audit", "verify", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("statement", ["UPDATE {t} SET topic = 'x' WHERE {p} = 2", "DELETE FROM {t} WHERE {p} = 2",
                                       "UPDATE audit_chain SET hash = 'x' WHERE position = 2",
                                       "DELETE FROM audit_chain WHERE position = 2"])
def test_plain_sql_cannot_update_or_delete_stored_events_or_their_chain(db_url, tmp_path, statement):
    _ledger(db_url, tmp_path)
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(db_url, statement.format(t=_events_table(db_url), p=_pos(db_url)))
    assert _verify(db_url)[0] == 0


@pytest.mark.postgres
def test_on_postgresql_the_event_table_refuses_truncate_and_public_has_no_update_rights(pg_url, tmp_path):
    _ledger(init_ledger(pg_url), tmp_path)
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(pg_url, "TRUNCATE grants_events")
    engine = make_engine(parse_store(pg_url))
    with engine.connect() as conn:
        rights = conn.execute(text("SELECT has_table_privilege('public', 'grants_events', 'UPDATE'), "
                                   "has_table_privilege('public', 'grants_events', 'DELETE')")).one()
    engine.dispose()
    assert tuple(rights) == (False, False)


def test_init_on_an_existing_ledger_puts_back_missing_guards_and_seals_unsealed_events(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    _sql(db_url, *_drop_guards(db_url), "DROP TABLE audit_chain")  # a ledger from before the chain existed
    assert cli(db_url, "audit", "verify").exit_code == 3  # no chain yet: run init
    assert cli(db_url, "init").exit_code == 0
    code, data = _verify(db_url)
    assert code == 0 and data["events"] > 10
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(db_url, f"DELETE FROM {_events_table(db_url)}")


def test_a_clean_ledger_verifies_and_head_names_its_newest_event(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    code, data = _verify(db_url)
    head = cli_json(db_url, "audit", "head")
    assert code == 0 and data["chain"] == "ok" and data["broken"] is None
    assert data["head"] == head["head"] and head["position"] > 0
    assert _verify(db_url, "--head", head["head"])[0] == 0


def test_an_edited_event_is_named_with_what_differs(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    t = _events_table(db_url)
    if db_url.startswith("sqlite"):
        edit = (f"UPDATE {t} SET state = CAST(replace(CAST(state AS TEXT), '500000', '900000') AS BLOB) "
                f"WHERE topic = 'grants:Enterprise.PaymentRecorded'")
    else:
        edit = (f"UPDATE {t} SET state = convert_to(replace(convert_from(state, 'UTF8'), '500000', '900000'), 'UTF8') "
                f"WHERE topic = 'grants:Enterprise.PaymentRecorded'")
    _sql(db_url, *_drop_guards(db_url), edit)
    code, data = _verify(db_url)
    broken = data["broken"]
    assert code == 6 and broken["code"] == chain.EDITED
    assert broken["topic"] == "grants:Enterprise.PaymentRecorded" and "state" in broken["differs"]
    assert broken["position"] == _position_of(db_url, "grants:Enterprise.PaymentRecorded")
    text_out = cli(db_url, "audit", "verify").stdout
    assert f"CHAIN BROKEN at position {broken['position']}" in text_out


def _position_of(url: str, topic: str) -> int:
    engine = make_engine(parse_store(url))
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT {_pos(url)} FROM {_events_table(url)} WHERE topic = :t"), {"t": topic}).scalar()
    engine.dispose()
    return found


def test_a_removed_event_is_named_by_the_chain(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    position = _position_of(db_url, "grants:Enterprise.ApplicationApproved")
    _sql(db_url, *_drop_guards(db_url), f"DELETE FROM {_events_table(db_url)} WHERE {_pos(db_url)} = {position}")
    code, data = _verify(db_url)
    assert code == 6 and data["broken"]["code"] == chain.REMOVED and data["broken"]["position"] == position
    assert data["broken"]["topic"] == "grants:Enterprise.ApplicationApproved"


def test_an_event_inserted_behind_the_ledgers_back_is_named(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    t = _events_table(db_url)
    # On PostgreSQL the database seals every inserted row itself: only the owner, by dropping that trigger
    # first, can insert one the chain does not cover.
    unsealed = [] if db_url.startswith("sqlite") else [f"DROP TRIGGER {t}_seal ON {t}"]
    _sql(db_url, *unsealed, f"INSERT INTO {t} (originator_id, originator_version, topic, state) "
                 f"SELECT originator_id, 99, topic, state FROM {t} WHERE topic = 'grants:Enterprise.PaymentRecorded'")
    code, data = _verify(db_url)
    assert code == 6 and data["broken"]["code"] == chain.INSERTED
    assert data["broken"]["originator_version"] == 99
    assert data["broken"]["position"] == cli_json(db_url, "projections", "status")["log_end"]


def test_on_postgresql_the_database_seals_a_plain_insert_and_refuses_a_link_from_anyone(pg_url, tmp_path):
    """Issue 19: the chain link is computed by the database in the insert's transaction, never supplied by
    the caller: a plain INSERT of an event is sealed like the ledger's own, and a link row inserted by hand is
    refused even for a role that holds INSERT on the chain table (here the owner's, through a role that is
    not the owner)."""
    init_ledger(pg_url)
    _ledger(pg_url, tmp_path)
    _sql(pg_url, "INSERT INTO grants_events (originator_id, originator_version, topic, state) SELECT originator_id, "
                 "99, topic, state FROM grants_events WHERE topic = 'grants:Enterprise.PaymentRecorded'")
    code, data = _verify(pg_url, "--chain-only")
    assert code == 0 and data["events"] == cli_json(pg_url, "projections", "status")["log_end"]
    _sql(pg_url, "DROP ROLE IF EXISTS chain_forger", "CREATE ROLE chain_forger",
         "GRANT INSERT, SELECT ON audit_chain TO chain_forger")
    engine = make_engine(parse_store(pg_url))
    try:
        with pytest.raises(DBAPIError, match="only the ledger computes a link"), engine.begin() as conn:
            conn.exec_driver_sql("SET ROLE chain_forger")
            conn.exec_driver_sql("INSERT INTO audit_chain VALUES (1000000000, 1, 'x', 1, 't', 'x', 'x')")
    finally:
        engine.dispose()
        _sql(pg_url, "DROP OWNED BY chain_forger", "DROP ROLE chain_forger")
    assert cli_json(pg_url, "audit", "head")["head"].split(":")[0] != "1000000000"


def test_a_rewritten_chain_passes_alone_but_not_against_a_head_noted_earlier(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    noted = cli_json(db_url, "audit", "head")["head"]
    t, p = _events_table(db_url), _pos(db_url)
    # edit an early event, then recompute the whole chain so that it fits the edited log
    _sql(db_url, *_drop_guards(db_url), f"UPDATE {t} SET topic = topic || '' WHERE {p} = 3")
    engine = make_engine(parse_store(db_url))
    with engine.begin() as conn:
        rows = conn.execute(text(f"SELECT {p}, originator_id, originator_version, topic, state FROM {t} "
                                 f"ORDER BY {p}")).all()
        rows = [(r[0], r[1], r[2], r[3] + ("-forged" if r[0] == 3 else ""), bytes(r[4])) for r in rows]
        conn.execute(text(f"UPDATE {t} SET topic = topic || '-forged' WHERE {p} = 3"))
        conn.execute(text("DELETE FROM audit_chain"))
        for link in chain.extend(0, chain.GENESIS, rows):
            conn.execute(text("INSERT INTO audit_chain VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                         dict(zip("abcdefg", link.as_row(), strict=True)))
    engine.dispose()
    assert _verify(db_url, "--chain-only")[0] == 0  # a consistent forgery of the whole chain...
    code, data = _verify(db_url, "--chain-only", "--head", noted)  # ...is caught by a head written down before it
    assert code == 6 and data["broken"]["code"] == chain.HEAD_MISMATCH


def test_a_malformed_head_is_refused_as_input(tmp_path):
    url = new_ledger(tmp_path, "l.db")
    _ledger(url, tmp_path)
    assert cli(url, "audit", "verify", "--head", "12:abc").exit_code == 2


def test_four_processes_writing_at_once_leave_a_valid_chain(db_url, tmp_path):
    pg_url = db_url  # on PostgreSQL the chain follows commit order under the library's table lock
    assert cli(pg_url, "import", str(write_lines(tmp_path / "setup.jsonl", LINES[:3]))).exit_code == 0
    procs = []
    for n in range(4):
        lines = []
        for i in range(15):
            ref = f"P{n}-{i}"
            lines += [{"op": "apply", "ref": ref, "uscc": USCC_A if i % 2 else USCC_B, "measure": "M03-security",
                       "project": ref, "date": "2023-01-10", "facts": FACTS},
                      {"op": "approve", "ref": ref, "date": "2023-02-01"}]
        path = write_lines(tmp_path / f"w{n}.jsonl", lines)
        procs.append(subprocess.Popen([GRANTS, "--db", pg_url, "--by", "tester", "import", str(path), "--chunk", "1"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env={**os.environ, "GRANTS_LOG": "warning"}))
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    code, data = _verify(pg_url)
    assert code == 0, data
    assert data["events"] == cli_json(pg_url, "projections", "status")["log_end"] - _gaps(pg_url)


def _gaps(url: str) -> int:
    """PostgreSQL sequences skip the numbers of rolled-back writes: positions are not dense (SQLite's are)."""
    engine = make_engine(parse_store(url))
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT MAX({_pos(url)}) - COUNT(*) FROM {_events_table(url)}")).scalar()
    engine.dispose()
    return n
