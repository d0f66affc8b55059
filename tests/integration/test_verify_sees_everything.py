"""Issue 19: `audit verify` sees everything a report reads, and every actor.

A random walk of plain-SQL forgeries of read-model rows (a column of a row changed, a copy of a row under
another key, a row deleted), each named by `audit verify` with its table and key; and an act written past the
ledger by an operator outside its days, a registration by a non-clerk, another's act recorded by a non-admin
and enforced mode started again, each a ``not-authorised`` finding."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import String, text

from commands.main import app
from ledger.domain.aggregates import ROSTER_ID, Enterprise, enterprise_id
from ledger.domain.validation import replay
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from projections import schema
from projections.runner import make_engine
from tests.conftest import USCC_A, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, runner, write_lines

# A small ledger touching every view table: an award paid by both payers, a payment reversed, an award
# revoked with money paid on it (to recover), one re-decided, an award under another policy.
LINES = [
    *TWO_ENTERPRISES,
    *({"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": project,
       "date": "2023-01-10", "facts": SECURITY_FACTS} for ref, project in (("A-1", "P1"), ("A-2", "P2"))),
    {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
    {"op": "approve", "ref": "A-2", "date": "2023-02-01"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-01"},
    {"op": "pay", "ref": "A-1", "payer": "county", "amount_fen": 200000, "voucher": "C-1", "date": "2023-03-02"},
    {"op": "pay", "ref": "A-2", "payer": "county", "amount_fen": 100000, "voucher": "C-2", "date": "2023-03-03"},
    {"op": "reverse-payment", "ref": "A-1", "payer": "county", "voucher": "C-1", "date": "2023-03-05",
     "reason": "错付"},
    {"op": "revoke", "ref": "A-2", "date": "2023-04-01", "reason": "不符合条件", "document": "十经信〔2023〕1号"},
    {"op": "external-award", "uscc": USCC_A, "project": "P3", "policy": "省级专项", "amount_fen": 300000,
     "date": "2023-05-01"},
]

# rm_tracking is not forged at random: its shape row, changed, makes the next command rebuild the views from
# the log (the forgery undoes itself); its position past the log's end and moved back are the tests below.
TABLES = list(schema.VIEW_TABLES)


def _verify(url: str) -> tuple[int, dict[str, Any]]:
    result = cli(url, "audit", "verify", "--json")
    return result.exit_code, json.loads(result.stdout)


def _other(value: Any, column: Any) -> Any:
    """A value of the column's type that is not ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, date):
        return value + timedelta(days=1)
    if value is None:
        return date(2023, 6, 1) if column.type.python_type is date else (
            7 if column.type.python_type is int else "x")
    text_value = str(value)
    if isinstance(column.type, String) and column.type.length and len(text_value) >= column.type.length:
        return text_value[:-1] + ("X" if text_value[-1] != "X" else "Y")
    return text_value + "X"


def _forge(url: str, table: schema.Table, action: str, pick: int, column_pick: int) -> str | None:
    """One plain-SQL forgery of a row of ``table``; the key (its first part, as a message shows it) to look for,
    or None when the table has no row to forge that way."""
    engine = make_engine(parse_store(url))
    names = [c.name for c in table.c]
    keys = [c.name for c in table.primary_key.columns]
    try:
        with engine.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(table.select().order_by(*table.primary_key.columns))]
            if table is schema.malformed and action == "insert":
                rows = [{"position": 1, "topic": "grants:Enterprise.Registered", "error": "KeyError: 'uscc'"}]
                conn.execute(table.insert().values(**rows[0]))
                return "1"
            if not rows:
                return None
            row = rows[pick % len(rows)]
            where = " AND ".join(f'"{k}" = :k_{k}' for k in keys)
            bound = {f"k_{k}": row[k] for k in keys}
            if action == "delete":
                conn.execute(text(f"DELETE FROM {table.name} WHERE {where}"), bound)
                return _shown(row[keys[0]])
            if action == "update":
                name = names[column_pick % len(names)]
                new = _other(row[name], table.c[name])
                conn.execute(text(f'UPDATE {table.name} SET "{name}" = :v WHERE {where}'), {**bound, "v": new})
                return _shown(new if name == keys[0] else row[keys[0]])
            copy = dict(row)
            copy[keys[0]] = _other(row[keys[0]], table.c[keys[0]]) if not isinstance(row[keys[0]], int) \
                else _free_position(rows)
            if table is schema.enterprises:
                copy["enterprise_id"] = _other(row["enterprise_id"], table.c.enterprise_id)
            conn.execute(table.insert().values(**copy))
            return _shown(copy[keys[0]])
    finally:
        engine.dispose()


def _free_position(rows: list[dict[str, Any]]) -> int:
    """A position of the log no row of the table holds (an index event's): a row beyond the log's end would be
    read as events removed from it, not as a forged row."""
    taken = {row["position"] for row in rows}
    return next(p for p in range(1, 10_000) if p not in taken)


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def test_a_random_walk_of_forged_read_model_rows_is_named_table_and_key(db_url, tmp_path):
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", LINES))).exit_code == 0
    assert _verify(db_url)[0] == 0
    tried: list[tuple[str, str]] = []

    @settings(derandomize=True, max_examples=14, deadline=None, database=None)
    @given(table=st.sampled_from(TABLES), action=st.sampled_from(["update", "insert", "delete"]),
           pick=st.integers(0, 200), column_pick=st.integers(0, 40))
    def forged_is_named(table: schema.Table, action: str, pick: int, column_pick: int) -> None:
        try:
            key = _forge(db_url, table, action, pick, column_pick)
            if key is None:
                return
            tried.append((table.name, action))
            code, data = _verify(db_url)
            assert code == 7, (table.name, action, data)
            named = [f["message"] for f in data["findings"]
                     if f["code"] == "views-disagree" and f["message"].startswith(table.name + " ")]
            assert any(key in message for message in named), (table.name, action, key, data["findings"])
        finally:
            assert cli(db_url, "projections", "rebuild").exit_code == 0

    forged_is_named()
    assert len({name for name, _action in tried}) >= 4, tried
    assert _verify(db_url)[0] == 0


def test_an_entry_moved_to_another_day_or_split_into_plus_and_minus_rows_is_named(db_url, tmp_path):
    """Sums that still add up: a payment moved a day, its voucher or payer changed, or a +x and -x pair added;
    the per-application sums hold, the rows do not."""
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", LINES))).exit_code == 0
    payment = "(SELECT MIN(position) FROM rm_entries WHERE kind = 'payment')"
    free = "(SELECT MIN(position) - {} FROM rm_entries)"  # positions of events before the first entry
    for forge in ([f"UPDATE rm_entries SET voucher = 'V-9' WHERE position = {payment}"],
                  [f"UPDATE rm_entries SET \"date\" = '2023-03-09' WHERE position = {payment}"],
                  [f"INSERT INTO rm_entries SELECT {free.format(1)}, kind, ref, uscc, area, measure, \"date\", payer, "
                   "amount_fen + 50, city_fen, county_fen, voucher, policy, recorded_us FROM rm_entries "
                   f"WHERE position = {payment}",
                   f"INSERT INTO rm_entries SELECT {free.format(2)}, kind, ref, uscc, area, measure, \"date\", payer, "
                   "-50, city_fen, county_fen, voucher, policy, recorded_us FROM rm_entries "
                   f"WHERE position = {payment}"]):
        engine = make_engine(parse_store(db_url))
        with engine.begin() as conn:
            for statement in forge:
                conn.execute(text(statement))
        engine.dispose()
        code, data = _verify(db_url)
        assert code == 7, forge
        assert any(f["message"].startswith("rm_entries ") for f in data["findings"]), data["findings"]
        assert cli(db_url, "projections", "rebuild").exit_code == 0
    assert _verify(db_url)[0] == 0


def test_a_tracking_position_past_the_log_is_named(db_url, tmp_path):
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", LINES))).exit_code == 0
    engine = make_engine(parse_store(db_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE rm_tracking SET position = position + 5 WHERE name = 'ledger-views'"))
    engine.dispose()
    code, data = _verify(db_url)
    assert code != 0 and data["broken"]["code"] == "events-removed-at-end", data


def test_a_tracking_position_moved_back_is_named_and_no_event_is_applied_twice(db_url, tmp_path):
    """The views hold rows of events past their tracking position: named on rm_tracking and on each row, and
    verify does not catch up on them (which would apply those events a second time)."""
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", LINES))).exit_code == 0
    engine = make_engine(parse_store(db_url))
    with engine.begin() as conn:
        last = conn.execute(text("SELECT MAX(position) FROM rm_entries")).scalar()
        conn.execute(text(f"UPDATE rm_tracking SET position = {last - 1} WHERE name = 'ledger-views'"))
    engine.dispose()
    code, data = _verify(db_url)
    assert code == 7, data
    messages = [f["message"] for f in data["findings"] if f["code"] == "views-disagree"]
    assert any(m.startswith("rm_tracking “ledger-views”: position ") for m in messages), messages
    assert any(m.startswith(f"rm_entries “{last}”: in the read models") for m in messages), messages
    assert cli(db_url, "projections", "rebuild").exit_code == 0
    assert _verify(db_url)[0] == 0


# --- every actor (on SQLite: in enforced mode on PostgreSQL each operator connects as its own database role,
# which tests/integration/test_identity.py sets up; the checks here read only the log) --------------------------------------------------------------------------------------------

OPERATORS = [
    {"op": "register-operator", "name": "wang.fang", "display_name": "王芳", "roles": ["admin"],
     "date": "2022-08-01", "by": "wang.fang"},
    {"op": "register-operator", "name": "zhang.san", "display_name": "张三", "roles": ["clerk"],
     "date": "2022-08-01", "by": "wang.fang"},
    {"op": "register-operator", "name": "li.wei", "display_name": "李伟", "roles": ["reviewer"],
     "date": "2022-08-01", "valid_from": "2022-08-01", "valid_to": "2022-12-31", "by": "wang.fang"},
    {"op": "register-operator", "name": "zhao.liu", "display_name": "赵六", "roles": ["reviewer"],
     "date": "2022-08-01", "by": "wang.fang"},
]


def _enforced(url: str, tmp_path: Any) -> None:
    lines = [*OPERATORS, {**TWO_ENTERPRISES[0], "by": "wang.fang"},
             *({**line, "by": "zhang.san"} for line in TWO_ENTERPRISES[1:]),
             {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1",
              "date": "2023-01-10", "facts": SECURITY_FACTS, "by": "zhang.san"}]
    done = runner.invoke(app, ["--db", url, "--by", "wang.fang", "import", str(write_lines(tmp_path / "o.jsonl",
                                                                                         lines)), "--json"])
    assert done.exit_code == 0, done.stdout + done.stderr
    assert _admin_verify(url)[0] == 0


def _admin_verify(url: str) -> tuple[int, dict[str, Any]]:
    done = runner.invoke(app, ["--db", url, "--by", "wang.fang", "audit", "verify", "--json"])
    return done.exit_code, json.loads(done.stdout)


def _written(url: str, write: Any, recorder: str | None = None) -> int:
    """Record through the aggregates, past every check of the write side; the position of the last event."""
    ledger = GrantsLedger(parse_store(url))
    try:
        ledger.operator = recorder
        written = write(ledger)
        if all(hasattr(w, "collect_events") for w in written):
            ledger.save(*written)
        else:  # an event no aggregate would trigger: stored as the ledger stores any
            ledger.recorder.insert_events([ledger.mapper.to_stored_event(ev) for ev in written])
        position: int = ledger.recorder.max_notification_id()
        return position
    finally:
        ledger.close()


def _not_authorised(url: str) -> list[int | None]:
    code, data = _admin_verify(url)
    assert code == 7 and data["chain"] == "ok", data
    return [f["position"] for f in data["findings"] if f["code"] == "not-authorised"]


def _approve(by: str) -> Any:
    def write(ledger: GrantsLedger) -> list[Any]:
        enterprise = ledger.repository.get(enterprise_id(USCC_A))
        app_state = enterprise.applications["A-1"]
        enterprise.approve(ref="A-1", date=date(2023, 2, 1), by=by, policy_version=app_state.policy_version,
                           entitlement_fen=1000000, awarded_fen=1000000, city_share_fen=500000,
                           county_share_fen=500000, basis=None, trace=[])
        return [enterprise]
    return write


def test_an_act_by_an_operator_past_its_last_day_is_not_authorised(tmp_path):
    """li.wei may review until 2022-12-31: an approval in its name recorded now, past the ledger, is named."""
    db_url = new_ledger(tmp_path)
    _enforced(db_url, tmp_path)
    position = _written(db_url, _approve("li.wei"))
    assert _not_authorised(db_url) == [position]


def test_an_act_recorded_for_another_by_an_admin_is_no_finding(tmp_path):
    """An admin records another's act (migrating history): the reviewer's approval, on its date."""
    db_url = new_ledger(tmp_path)
    _enforced(db_url, tmp_path)
    _written(db_url, _approve("zhao.liu"), recorder="wang.fang")
    assert _admin_verify(db_url)[0] == 0


def test_a_clerk_recording_a_reviewers_act_is_not_authorised(tmp_path):
    """Only an admin records another's act: a clerk recording a reviewer's approval is named, though the approval
    is the reviewer's to give."""
    db_url = new_ledger(tmp_path)
    _enforced(db_url, tmp_path)
    position = _written(db_url, _approve("zhao.liu"), recorder="zhang.san")
    assert _not_authorised(db_url) == [position]


def test_an_enterprise_registered_by_a_non_clerk_is_not_authorised(tmp_path):
    db_url = new_ledger(tmp_path)
    _enforced(db_url, tmp_path)

    def write(ledger: GrantsLedger) -> list[Any]:
        return [Enterprise(uscc="91420300MA4F0C3D4E", name="伪造公司", area="张湾区", date=None, by="zhao.liu")]
    position = _written(db_url, write)
    assert _not_authorised(db_url) == [position]


def test_enforced_mode_started_again_is_not_authorised(tmp_path):
    """A second EnforcementStarted would drop every operator from the replayed roster, and with it every check:
    the replay names it and goes on with the roster it had. (Stored, such an event stops every command that
    loads the roster before `audit verify` is reached, so the replay is fed it here.)"""
    url = new_ledger(tmp_path)
    _enforced(url, tmp_path)
    ledger = GrantsLedger(parse_store(url))
    try:
        events = [(n.id, ledger.mapper.to_domain_event(n))
                  for n in ledger.recorder.select_notifications(start=1, limit=10_000)]
        roster = ledger.repository.get(ROSTER_ID)
    finally:
        ledger.close()
    started = type(roster).EnforcementStarted
    forged = started(originator_id=ROSTER_ID, originator_version=roster.version + 1,
                     timestamp=started.create_timestamp(), originator_topic=get_topic(type(roster)),
                     date=date(2023, 6, 1), by="zhang.san")
    position = events[-1][0] + 1
    history, found = replay([*events, (position, forged)])
    assert [(f.code, f.position) for f in found] == [("not-authorised", position)]
    assert history.roster is not None and "wang.fang" in history.roster.operators
