"""A malformed event is a finding, never a stop (issue 19, item 5), on SQLite and PostgreSQL.

A row with a valid topic and wrong fields, written into the event table past the ledger (a recording role's
plain INSERT does the same on PostgreSQL): the read models pass over it and record it, so every report and
every command on other records goes on; a rebuild goes on; a command on the enterprise it belongs to is
refused `malformed-event` (exit 1) instead of a crash; `audit verify` names it. Only an admin may set it aside
(`grants admin set-aside`, event `MalformedEventSetAside`): its enterprise then replays without it and its commands
work again, the row stays in the log under the hash chain, and `audit verify` lists it as set aside, not as a
finding; a set-aside written past the ledger by anyone else is a `not-authorised` finding.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from commands.main import app
from ledger.domain.aggregates import SetAsides, enterprise_id
from ledger.store.storage import parse_store
from projections import schema
from projections.runner import make_engine
from tests.conftest import USCC_A
from tests.helpers import cli, cli_json, runner
from tests.integration.test_audit_chain import _events_table, _ledger, _sql
from tests.integration.test_operators import World


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
    state = json.dumps({"ref": "A-1", "amount_fen": "lots", "recorded_by": "mallory"})
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
    named = [f for f in data.get("findings") or [] if f["position"] == position]
    assert named, data
    assert "recorded by “mallory”" in named[0]["message"]  # who wrote it: what the row claims ...
    if not db_url.startswith("sqlite"):  # ... and the database role that inserted it (PostgreSQL stamps it)
        assert "inserted by the database role “postgres”" in named[0]["message"], named


PAY = {"op": "pay", "ref": "A-1", "payer": "county", "amount_fen": 100, "voucher": "Z-1", "date": "2023-03-02"}


def _set_aside(position: int, **kw: Any) -> dict[str, Any]:
    return {"op": "set-aside", "position": position, "reason": "手工写入的支付记录，缺少字段", "date": "2024-05-30", **kw}


def _operators(w: World) -> dict[str, str]:
    """Enforced mode: an admin (the first operator), a clerk and a treasurer, each with its database role."""
    names = {short: w.name(short) for short in ("boss", "clerk", "cashier")}
    w.ok(names["boss"], {"op": "register-operator", "name": names["boss"], "display_name": "管理员",
                         "roles": ["admin"], "valid_from": "2022-01-01", "date": "2022-01-01"}, as_owner=True)
    w.grant(names["boss"], ["admin"])
    for short, role in (("clerk", "clerk"), ("cashier", "treasurer")):
        w.ok(names["boss"], {"op": "register-operator", "name": names[short], "display_name": short,
                             "roles": [role], "valid_from": "2022-01-01", "date": "2022-01-01"})
        w.grant(names[short], [role])
    return names


def _verify(w: World, reader: str) -> tuple[int, dict[str, Any]]:
    """`grants audit verify --json` as ``reader`` (on PostgreSQL the ledger's owner, its own database role)."""
    by = w.owner.db_user() if w.pg else reader
    result = runner.invoke(app, ["--db", w.url, "--by", str(by), "audit", "verify", "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_only_an_admin_sets_a_malformed_event_aside_and_its_enterprise_goes_on(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    position = _forge(db_url)
    w = World(db_url)
    try:
        names = _operators(w)  # its writes seal the forged row into the chain: verify runs the checks
        assert w.act(names["cashier"], PAY) == "malformed-event"
        code, before = _verify(w, names["boss"])
        assert code == 7, before
        assert [f["code"] for f in before["findings"] if f["position"] == position] == ["replay-failed"]
        assert before["set_aside"] == []

        assert w.act(names["clerk"], _set_aside(position)) == "not-authorised"
        end = w.log_end()
        done = w.ok(names["boss"], _set_aside(position))
        assert (done["op"], done["position"], done["topic"], done["originator_version"], done["by"]) == (
            "set-aside", position, "grants:Enterprise.PaymentRecorded", 5, names["boss"])
        assert w.log_end() == end + 2  # the set-asides' stream opened, and the set-aside

        paid = w.ok(names["cashier"], PAY)  # the enterprise replays without the malformed event
        assert (paid["ref"], paid["amount_fen"], paid["treasury"]) == ("A-1", 100, "张湾区")
        shown = w.owner.show("A-1")
        assert (shown["city_paid_fen"], shown["county_paid_fen"]) == (500000, 100)
        assert (shown["city_outstanding_fen"], shown["county_outstanding_fen"]) == (0, 499900)
        aside = [e for e in w.owner.trail(uscc=USCC_A)["events"] if e["event"] == "SetAsideEvent"]
        assert [(e["version"], e["by"]) for e in aside] == [(5, names["boss"])]

        end = w.log_end()
        again = w.ok(names["boss"], _set_aside(position))  # the same command again writes nothing
        assert again["already_recorded"] is True and w.log_end() == end
        assert w.act(names["boss"], _set_aside(position, reason="另一个理由")) == "conflicting-retry"

        code, after = _verify(w, names["boss"])
        assert code == 0, after  # no open finding: the row stays, the chain holds, it is listed as set aside
        assert after["chain"] == "ok" and after["findings"] == []
        assert [(s["position"], s["by"]) for s in after["set_aside"]] == [(position, names["boss"])]
        engine = make_engine(parse_store(db_url))
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(schema.malformed.c.position, schema.malformed.c.set_aside_by)).all()
                assert [tuple(r) for r in rows] == [(position, names["boss"])]
                table = _events_table(db_url)
                assert conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE topic = "
                                            "'grants:Enterprise.PaymentRecorded'").scalar() == 3  # the row stays
        finally:
            engine.dispose()
    finally:
        w.close()


def test_a_set_aside_written_past_the_ledger_by_a_non_admin_is_a_finding(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    position = _forge(db_url)
    w = World(db_url)
    try:
        names = _operators(w)
        book = SetAsides()  # written past the ledger (no authorisation) in the clerk's name
        book.set_aside(position=position, stream=str(enterprise_id(USCC_A)), stream_version=5,
                       topic="grants:Enterprise.PaymentRecorded", reason="x", date=date(2024, 5, 30),
                       by=names["clerk"])
        w.owner.save(book)
        forged = w.log_end()
        code, data = _verify(w, names["boss"])
        assert code == 7, data
        found = [(f["code"], f["position"]) for f in data["findings"]]
        if db_url.startswith("sqlite"):
            assert found == [("not-authorised", forged)]
        else:  # and on PostgreSQL each row the owner's session wrote in the clerk's name, by its database role
            assert ("not-authorised", forged) in found and {c for c, _ in found} == {"not-authorised"}, found
            assert all("postgres" in f["message"] for f in data["findings"] if "database role" in f["message"])
        assert any(names["clerk"] in f["message"] for f in data["findings"] if f["position"] == forged)
    finally:
        w.close()


def test_only_a_malformed_event_may_be_set_aside(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    good = cli(db_url, "admin", "set-aside", "1", "--reason", "looks odd", "--date", "2024-05-30", "--json")
    assert good.exit_code == 1, good.stdout
    assert json.loads(good.stderr.strip().splitlines()[-1])["error"]["code"] == "wrong-state"
    end = cli_json(db_url, "audit", "head")["position"]
    missing = cli(db_url, "admin", "set-aside", str(end + 100), "--reason", "x", "--date", "2024-05-30", "--json")
    assert missing.exit_code == 2, missing.stdout
    error = json.loads(missing.stderr.strip().splitlines()[-1])["error"]
    assert (error["code"], error["field"]) == ("invalid-input", "position")
    assert cli_json(db_url, "audit", "head")["position"] == end  # nothing written
    position = _forge(db_url)
    done = cli_json(db_url, "admin", "set-aside", str(position), "--reason", "缺少字段", "--date", "2024-05-30")
    assert done["position"] == position and "problem" in done
    assert cli(db_url, "pay", *_pay_args()).exit_code == 0


def _pay_args() -> list[str]:
    return ["A-1", "--payer", "county", "--amount-fen", "100", "--voucher", "Z-1", "--date", "2023-03-02", "--json"]
