"""Identity: on PostgreSQL the database vouches for who recorded each event; on SQLite the
operator is taken on trust and the OS user is recorded beside it.

The PostgreSQL tests drive the CLI as each operator's own database role, created by
`grants admin grant NAME --apply`, and then try plain SQL as that role."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from commands.main import app
from ledger.domain.aggregates import ROSTER_ID
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, USCC_B, USCC_C

runner = CliRunner()


def grants(url: str, *args: str, by: str | None = None) -> Any:
    front = ["--db", url] + (["--by", by] if by else [])
    return runner.invoke(app, [*front, *args, "--json"], catch_exceptions=False)


def ok(url: str, *args: str, by: str | None = None) -> Any:
    result = grants(url, *args, by=by)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def code(result: Any) -> str:
    return [json.loads(line)["error"]["code"] for line in result.stderr.splitlines()
            if line.startswith('{"error"')][0]


@pytest.fixture
def roles(pg_url: str) -> Iterator[dict[str, Any]]:
    """A ledger in enforced mode, with an admin, a clerk, a reviewer and an auditor, each with its own
    database role; their URLs by name."""
    psycopg = pytest.importorskip("psycopg")
    p = "t" + uuid.uuid4().hex[:6]
    names = {short: f"{p}.{short}" for short in ("boss", "clerk", "reviewer", "auditor")}
    base, db = pg_url.rsplit("/", 1)

    def url_of(name: str) -> str:
        return base.replace("postgres@", f"{name}@") + "/" + db

    ok(pg_url, "init")
    ok(pg_url, "policy", "adopt", "--effective", "2022-09-01", by="anyone")
    ok(pg_url, "register", "--uscc", USCC_A, "--name", "十堰安盾", "--area", "张湾区", by="anyone")
    ok(pg_url, "admin", "operator", "add", names["boss"], "--role", "admin", "--display-name", "老板",
       "--date", "2022-01-01", by=names["boss"])
    ok(pg_url, "admin", "grant", names["boss"], "--apply")
    for short, role in (("clerk", "clerk"), ("reviewer", "reviewer"), ("auditor", "auditor")):
        ok(url_of(names["boss"]), "admin", "operator", "add", names[short], "--role", role, "--display-name", short,
           "--date", "2022-01-01")
        ok(pg_url, "admin", "grant", names[short], "--apply")
    ok(url_of(names["clerk"]), "apply", "--ref", "C-0", "--uscc", USCC_A, "--measure", "M03-security", "--project",
       "C-0", "--date", "2023-01-10", "--fact", "city_enterprises=11", "--fact", "annual_revenue_yuan=500万",
       "--fact", "contract_yuan=10万")
    yield {"names": names, "url": url_of, "owner": pg_url, "psycopg": psycopg}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')


def test_a_clerk_role_cannot_approve_pose_as_another_or_touch_stored_events(roles):
    """Not through the ledger, and not with plain SQL."""
    names, url_of, psycopg = roles["names"], roles["url"], roles["psycopg"]
    clerk = url_of(names["clerk"])
    ok(clerk, "apply", "--ref", "C-1", "--uscc", USCC_A, "--measure", "M03-security", "--project", "C-1",
       "--date", "2023-01-10", "--fact", "city_enterprises=11", "--fact", "annual_revenue_yuan=500万",
       "--fact", "contract_yuan=10万")
    refused = grants(clerk, "approve", "C-1", "--date", "2023-02-01")
    assert (refused.exit_code, code(refused)) == (1, "not-authorised")
    posing = grants(clerk, "approve", "C-1", "--date", "2023-02-01", by=names["reviewer"])
    assert (posing.exit_code, code(posing)) == (1, "not-authorised")
    assert "database role" in posing.stderr
    with psycopg.connect(clerk, autocommit=True) as conn:
        for statement in ("UPDATE grants_events SET topic = topic", "DELETE FROM grants_events",
                          "TRUNCATE grants_events", "ALTER TABLE grants_events DROP COLUMN db_user",
                          "ALTER TABLE grants_events DISABLE TRIGGER grants_events_db_user"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        insert = ("INSERT INTO grants_events (originator_id, originator_version, topic, state, db_user) "
                  "VALUES (gen_random_uuid(), 1, 'grants:Enterprise.ExternalAwardRecorded', convert_to(%s, 'UTF8'), %s)")
        # A row in another operator's name, or recorded by another, is refused by the database ...
        for who in ({"by": names["reviewer"], "recorded_by": names["clerk"]},
                    {"by": names["clerk"], "recorded_by": names["reviewer"]}, {"by": names["clerk"]}):
            state = {k: v for k, v in external_award(names["clerk"]).items() if k not in ("by", "recorded_by")}
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not record an event"):
                conn.execute(insert, (json.dumps({**state, **who}), names["clerk"]))
        # ... and so is any row of the operators' roster from a role that is not an admin's, or an admin's own
        # record: a clerk cannot give itself roles by plain SQL.
        roster = ("INSERT INTO grants_events (originator_id, originator_version, topic, state) VALUES "
                  "(%s, 99, 'grants:OperatorRoster.RolesChanged', convert_to(%s, 'UTF8'))")
        granted = {"name": names["clerk"], "roles": ["clerk", "reviewer", "treasurer"], "by": names["clerk"],
                   "recorded_by": names["clerk"], "reason": "x", "date": "2023-01-01"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not administer operators"):
            conn.execute(roster, (str(ROSTER_ID), json.dumps(granted)))
        # ... one in its own name, of a kind its role records, is possible (the ledger records through INSERT),
        # and the database stamps who wrote it whatever the INSERT says.
        conn.execute(insert, (json.dumps(external_award(names["clerk"])), names["boss"]))
    with psycopg.connect(roles["owner"]) as conn:
        stamped = dict(conn.execute("SELECT topic, db_user FROM grants_events WHERE topic IN "
                                    "('grants:Enterprise.ExternalAwardRecorded', "
                                    "'grants:Enterprise.ApplicationSubmitted')").fetchall())  # C-0 and C-1
    assert stamped == {"grants:Enterprise.ExternalAwardRecorded": names["clerk"],
                       "grants:Enterprise.ApplicationSubmitted": names["clerk"]}


def external_award(who: str) -> dict[str, Any]:
    """The stored state of an award under another policy, as the ledger writes it, recorded by ``who``."""
    return {"timestamp": {"_type_": "datetime_iso", "_data_": "2023-01-10T00:00:00+00:00"}, "project": "P",
            "policy": "省级专项", "amount_fen": 100, "date": {"_type_": "date_iso", "_data_": "2023-01-10"},
            "by": who, "note": "", "os_user": "x", "recorded_by": who}


def test_an_auditor_role_reads_but_writes_nothing(roles):
    names, url_of, psycopg = roles["names"], roles["url"], roles["psycopg"]
    auditor = url_of(names["auditor"])
    clerk = GrantsLedger(parse_store(url_of(names["clerk"])), create_tables=False)
    try:  # recorded without bringing the read models up to date
        clerk.execute(parse_command({"op": "register", "uscc": USCC_B, "name": "十堰数智", "area": "茅箭区"},
                                    names["clerk"]))
    finally:
        clerk.close()
    with psycopg.connect(roles["owner"]) as conn:
        end = conn.execute("SELECT max(notification_id) FROM grants_events").fetchone()[0]
    report = grants(auditor, "report", "enterprise")
    assert report.exit_code == 0, report.stderr
    assert "1 events behind the log" in report.stderr  # it may not bring them up to date, and says so
    assert ok(auditor, "show", "C-0")["status"] == "submitted"  # read from the log itself
    listed = ok(auditor, "admin", "operators")
    assert {o["name"] for o in listed["operators"]} == set(names.values())
    refused = grants(auditor, "register", "--uscc", USCC_C, "--name", "x", "--area", "茅箭区")
    assert (refused.exit_code, code(refused)) == (1, "not-authorised")
    owner = grants(roles["owner"], "audit", "verify")  # the ledger's owner may always verify, operator or not
    assert owner.exit_code == 0, owner.stderr
    verified = grants(auditor, "audit", "verify")  # the chain and the whole-ledger checks, read only
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["chain"] == "ok"
    assert ok(auditor, "audit", "head")["position"] == end
    with psycopg.connect(auditor, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM grants_events").fetchone()[0] == end
        for statement in ("INSERT INTO grants_events (originator_id, originator_version, topic, state) "
                          "VALUES (gen_random_uuid(), 1, 'grants:Forged', '{}')",
                          "UPDATE rm_tracking SET position = 0", "SELECT grants_lock_events()",
                          "DELETE FROM audit_chain"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(roles["owner"]) as conn:
        assert conn.execute("SELECT max(notification_id) FROM grants_events").fetchone()[0] == end


def _privileges(sql: list[str]) -> dict[str, set[str]]:
    """GRANT statements: the objects (the text after ON) -> the privileges granted on them."""
    found: dict[str, set[str]] = {}
    for statement in sql:
        if statement.startswith("GRANT "):
            privileges, _, rest = statement[len("GRANT "):].partition(" ON ")
            found.setdefault(rest, set()).update(p.strip() for p in privileges.split(","))
    return found


def test_grant_prints_only_the_privileges_the_ledger_roles_need(roles):
    names, owner = roles["names"], roles["owner"]
    clerk = _privileges(ok(owner, "admin", "grant", names["clerk"])["sql"])
    auditor_sql = ok(owner, "admin", "grant", names["auditor"])["sql"]
    auditor = _privileges(auditor_sql)
    on_events = {obj: privs for obj, privs in clerk.items() if '"grants_events"' in obj}
    assert set().union(*on_events.values()) == {"SELECT", "INSERT"}  # never UPDATE, DELETE or TRUNCATE
    assert set().union(*auditor.values()) == {"SELECT", "CONNECT", "USAGE"}  # reads, nothing else
    assert 'REVOKE UPDATE, DELETE, TRUNCATE ON "public"."grants_events" FROM PUBLIC' in auditor_sql


def test_on_sqlite_the_operator_is_trusted_and_the_os_user_is_recorded_beside_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ok(url, "init")
    ok(url, "admin", "operator", "add", "boss", "--role", "admin", "--display-name", "老板", "--date", "2022-01-01",
       by="anyone")
    assert ok(url, "admin", "operators", by="boss")["enforced"] is True
    refused = grants(url, "policy", "adopt", "--effective", "2022-09-01", by="stranger")
    assert (refused.exit_code, code(refused)) == (1, "not-authorised")
    ok(url, "policy", "adopt", "--effective", "2022-09-01", by="boss")
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        states = [json.loads(row[0]) for row in conn.execute("SELECT state FROM stored_events")]
    assert all(s["os_user"] for s in states)
    assert {s["recorded_by"] for s in states} == {"anyone", "boss"}


def test_every_operators_privileges_survive_a_rebuild_and_a_new_views_version(roles):
    """Issue 19, item 6: the read models made anew (a new views version, an upgrade) keep every operator's
    privileges on them, and so does a rebuild: each operator's everyday command still works."""
    names, url_of, psycopg = roles["names"], roles["url"], roles["psycopg"]
    assert ok(roles["owner"], "projections", "rebuild")["rebuilt"] is True
    assert grants(url_of(names["auditor"]), "report", "shares").exit_code == 0
    with psycopg.connect(roles["owner"], autocommit=True) as conn:  # the views as an older version left them
        conn.execute("UPDATE rm_tracking SET position = 4 WHERE name = 'ledger-views-version'")
    assert grants(roles["owner"], "report", "shares").exit_code == 0  # the owner's command makes them anew
    with psycopg.connect(roles["owner"]) as conn:
        version = conn.execute("SELECT position FROM rm_tracking WHERE name = 'ledger-views-version'").fetchone()
    assert version is not None and version[0] > 4
    for short in ("auditor", "clerk", "reviewer", "boss"):
        report = grants(url_of(names[short]), "report", "enterprise")
        assert report.exit_code == 0, (short, report.stderr)
    ok(url_of(names["clerk"]), "apply", "--ref", "C-9", "--uscc", USCC_A, "--measure", "M03-security", "--project",
       "C-9", "--date", "2023-01-10", "--fact", "city_enterprises=11", "--fact", "annual_revenue_yuan=500万",
       "--fact", "contract_yuan=10万")
    assert ok(url_of(names["reviewer"]), "approve", "C-9", "--date", "2023-02-01")["status"] == "approved"
    assert [r for r in ok(url_of(names["auditor"]), "report", "applications")["applications"]
            if r["ref"] == "C-9"][0]["status"] == "approved"


def test_a_recording_roles_plain_insert_can_do_no_more_than_its_commands(roles):
    """Issue 19, item 2: in the database, whatever the role's privileges, a row is refused unless it is a kind
    of event the ledger records, holds that kind's fields (amounts as numbers), and is a kind the operator may
    record by its roles in the roster now (not as `admin grant` last saw them); and no role writes a link of
    the hash chain. Item 4: a clerk's policy adoption (which would set award amounts) never gets in."""
    names, url_of, psycopg = roles["names"], roles["url"], roles["psycopg"]
    clerk, reviewer = names["clerk"], names["reviewer"]
    insert = ("INSERT INTO grants_events (originator_id, originator_version, topic, state) "
              "VALUES (gen_random_uuid(), 1, %s, convert_to(%s, 'UTF8'))")
    award = external_award(clerk)
    payment = {**{k: award[k] for k in ("timestamp", "date", "by", "os_user", "recorded_by")}, "ref": "C-0",
               "payer": "city", "treasury": "x", "amount_fen": 100, "voucher": "V"}
    adoption = {**{k: award[k] for k in ("timestamp", "date", "by", "os_user", "recorded_by")}, "version": "v9",
                "catalogue": {}, "effective": award["date"], "ends": None, "edition": None}
    with psycopg.connect(url_of(clerk), autocommit=True) as conn:
        refused = [
            ("grants:Enterprise.PaymentRecorded", payment, "may not record grants:Enterprise.PaymentRecorded"),
            ("grants:PolicyBook.PolicyAdopted", adoption, "may not record grants:PolicyBook.PolicyAdopted"),
            ("grants:Enterprise.Forged", award, "not a kind of event"),
            ("grants:Enterprise.ExternalAwardRecorded", {**award, "amount_fen": "lots"}, "does not hold the fields"),
            ("grants:Enterprise.ExternalAwardRecorded", {k: v for k, v in award.items() if k != "project"},
             "does not hold the fields"),
            ("grants:Enterprise.ExternalAwardRecorded", {**award, "extra": 1}, "does not hold the fields"),
        ]
        for topic, state, says in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=says):
                conn.execute(insert, (topic, json.dumps(state)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO audit_chain VALUES (1000000000, 1, 'x', 1, 't', 'x', 'x')")
        conn.execute(insert, ("grants:Enterprise.ExternalAwardRecorded", json.dumps(award)))  # its own kind: in
    # The reviewer's roles change in the roster; its database privileges are as `admin grant` left them, yet the
    # database goes by the roster: an approval by plain SQL is refused from the moment it is no reviewer.
    ok(url_of(names["boss"]), "admin", "operator", "roles", reviewer, "--role", "auditor", "--reason", "调岗",
       "--date", "2023-01-01")
    approval = {**{k: external_award(reviewer)[k] for k in ("timestamp", "date", "by", "os_user", "recorded_by")},
                "ref": "C-0", "policy_version": "x", "entitlement_fen": 1, "awarded_fen": 1, "city_share_fen": 1,
                "county_share_fen": 0, "basis": None, "trace": []}
    with psycopg.connect(url_of(reviewer), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"roles \[\"auditor\"\]"):
            conn.execute(insert, ("grants:Enterprise.ApplicationApproved", json.dumps(approval)))
    verified = grants(roles["owner"], "audit", "verify")  # the one row that got in is the clerk's own kind of
    assert verified.exit_code == 7, verified.stderr  # act, on a stream that is no enterprise: named, sealed
    found = json.loads(verified.stdout)
    assert found["chain"] == "ok" and [f["code"] for f in found["findings"]] == ["replay-failed"]


def test_an_event_stamped_by_another_database_role_than_its_recorder_is_named(roles):
    """Issue 19: in enforced mode each event is inserted by the database role of the operator who recorded it.
    A row the owner (the DBA) inserts in a clerk's name passes the stamping trigger, which trusts the owner,
    but `audit verify` names it with both names."""
    names, psycopg = roles["names"], roles["psycopg"]
    verified = grants(roles["owner"], "audit", "verify")
    assert verified.exit_code == 0, verified.stdout  # every operator's own events: stamped by its own role
    with psycopg.connect(roles["owner"], autocommit=True) as conn:
        conn.execute("INSERT INTO grants_events (originator_id, originator_version, topic, state) VALUES "
                     "(gen_random_uuid(), 1, 'grants:Enterprise.ExternalAwardRecorded', convert_to(%s, 'UTF8'))",
                     (json.dumps(external_award(names["clerk"])),))
        position = conn.execute("SELECT max(notification_id) FROM grants_events").fetchone()[0]
    verified = grants(roles["owner"], "audit", "verify")
    assert verified.exit_code == 7, verified.stdout
    named = [f for f in json.loads(verified.stdout)["findings"] if f["code"] == "not-authorised"]
    assert [f["position"] for f in named] == [position], named
    assert names["clerk"] in named[0]["message"] and "postgres" in named[0]["message"]
