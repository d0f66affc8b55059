"""Who may do what, on SQLite and on PostgreSQL: every role against every command, every
separation rule, imports that name who ran them, and single-user mode as before.

On SQLite an operator is whoever ``by`` says (trust-based). On PostgreSQL each operator
connects as its own database role, created by ``projections.identity.grant_statements``,
so the same test body also proves the ledger runs with just those privileges. One ledger
(one database) per store; the PostgreSQL operators each open it as their own role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from commands.imports import import_lines
from ledger.domain.aggregates import ROSTER_ID, import_run_id
from ledger.domain.operators import ROLE_OF_OP
from ledger.domain.uscc import make_uscc
from ledger.errors import Refused
from ledger.intake import commands as intake
from ledger.service.application import GrantsLedger
from ledger.service.importing import digest_of
from ledger.store.storage import POSTGRES, parse_store
from projections import identity, runner
from tests.conftest import USCC_A
from tests.helpers import SECURITY_FACTS

TODAY = date(2024, 6, 1)
DAY = "2023-05-01"
ROLES = ("clerk", "reviewer", "treasurer", "auditor", "admin")
FACTS = SECURITY_FACTS


class World:
    """One ledger; ``act(name, line)`` gives a command as operator ``name`` (on PostgreSQL through a
    connection as that operator's own role)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.store = parse_store(url)
        self.owner = self._dated(GrantsLedger(self.store))
        self.engine = runner.make_engine(self.store)
        runner.create_views(self.engine)
        self.pg = self.store.kind == POSTGRES
        if self.pg:
            identity.install(self.engine)
        self.p = "t" + uuid.uuid4().hex[:6]  # database roles are per server: a name of this run only
        self._ledgers: dict[str, GrantsLedger] = {}
        self.roles: list[str] = []

    def name(self, short: str) -> str:
        return f"{self.p}.{short}"

    def ledger_of(self, name: str | None) -> GrantsLedger:
        if not self.pg or name is None:
            return self.owner
        if name not in self._ledgers:
            base = self.url.rsplit("/", 1)
            url = base[0].replace("postgres@", f"{name}@") + "/" + base[1]
            self._ledgers[name] = self._dated(GrantsLedger(parse_store(url), create_tables=False))
        return self._ledgers[name]

    @staticmethod
    def _dated(ledger: GrantsLedger) -> GrantsLedger:
        ledger.clock = lambda: TODAY  # the day of recording, against which an operator's days are checked
        return ledger

    def grant(self, name: str, roles: list[str]) -> None:
        if self.pg:
            identity.apply(self.engine, identity.grant_statements(name, roles, database=self.url.rsplit("/", 1)[1]))
            self.roles.append(name)

    def act(self, name: str, line: dict[str, Any], *, as_owner: bool = False) -> Any:
        """The command's result, or its refusal code."""
        ledger = self.owner if as_owner else self.ledger_of(name)
        try:
            return ledger.execute(intake.parse_command(line, name, today=TODAY))
        except Refused as refusal:
            return refusal.code

    def ok(self, name: str, line: dict[str, Any], **kw: Any) -> Any:
        result = self.act(name, line, **kw)
        assert isinstance(result, dict), (name, line, result)
        return result

    def log_end(self) -> int:
        return self.owner.recorder.max_notification_id() or 0

    def close(self) -> None:
        for ledger in self._ledgers.values():
            ledger.close()
        self.owner.close()
        if self.pg:
            with self.engine.begin() as conn:
                for role in self.roles:
                    conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            with self.engine.begin() as conn:
                for role in self.roles:
                    conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        self.engine.dispose()


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World(db_url)
    try:
        yield w
    finally:
        w.close()


def enforce(w: World) -> dict[str, str]:
    """Single-user set-up (policy, an enterprise), then the first admin switches on enforced mode and
    registers one operator per role and the set-up operators. Returns short name -> operator name."""
    boss = w.name("boss")
    w.ok("anyone", {"op": "adopt-policy", "effective": "2022-09-01"}, as_owner=True)
    w.ok("anyone", {"op": "register", "uscc": USCC_A, "name": "十堰安盾网络安全服务有限公司", "area": "张湾区"},
         as_owner=True)
    w.ok(boss, {"op": "register-operator", "name": boss, "display_name": "老板", "roles": ["admin"],
                "valid_from": "2022-01-01", "date": "2022-01-01"}, as_owner=True)
    w.grant(boss, ["admin"])
    names = {"boss": boss}
    people = {**{r: [r] for r in ROLES}, "sc": ["clerk"], "sr": ["reviewer"], "sr2": ["reviewer"],
              "st": ["treasurer"], "dual": ["clerk", "reviewer", "treasurer"]}
    for short, roles in people.items():
        names[short] = w.name(short)
        w.ok(boss, {"op": "register-operator", "name": names[short], "display_name": short, "roles": roles,
                    "valid_from": "2022-01-01", "date": "2022-01-01"})
        w.grant(names[short], roles)
    return names


def _uscc(n: int) -> str:
    return make_uscc(f"91420303MA4F{n:05d}")


def target_and_command(w: World, n: dict[str, str], role: str, op: str, k: int) -> dict[str, Any]:
    """Bring a fresh target into the state where ``op`` would be accepted, and return the command."""
    ref = f"{role}-{op}"
    app = {"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": ref,
           "date": "2023-01-10", "facts": FACTS}
    if op in ("amend", "withdraw", "approve", "reject", "pay", "revoke", "reverse-payment", "recover"):
        w.ok(n["sc"], app)
    if op in ("pay", "revoke", "reverse-payment", "recover"):
        w.ok(n["sr"], {"op": "approve", "ref": ref, "date": "2023-02-01"})
    if op in ("reverse-payment", "recover"):
        w.ok(n["st"], {"op": "pay", "ref": ref, "payer": "city", "amount_fen": 1000, "voucher": f"V-{ref}",
                       "date": "2023-03-01"})
    if op == "recover":
        w.ok(n["sr2"], {"op": "revoke", "ref": ref, "date": "2023-04-01", "reason": "材料不实", "document": "1号"})
    if op == "redecide":  # a top-up over a lower award on the project, the lower one since revoked
        low = {**app, "ref": f"{ref}-low", "measure": "M07-base", "facts": {"tier": "provincial"}}
        w.ok(n["sc"], low)
        w.ok(n["sr"], {"op": "approve", "ref": low["ref"], "date": "2023-02-01"})
        w.ok(n["sc"], {**app, "measure": "M07-base", "facts": {"tier": "national"}})
        w.ok(n["sr"], {"op": "approve", "ref": ref, "date": "2023-02-02"})
        w.ok(n["sr2"], {"op": "revoke", "ref": low["ref"], "date": "2023-04-01", "reason": "材料不实",
                        "document": "1号"})
    position = _forge_malformed(w) if op == "set-aside" else 0
    subject = w.name(f"subject-{role}-{op}")
    if op in ("change-roles", "suspend-operator", "reinstate-operator"):
        w.ok(n["boss"], {"op": "register-operator", "name": subject, "display_name": "S", "roles": ["clerk"],
                         "date": "2022-01-01"})
    if op == "reinstate-operator":
        w.ok(n["boss"], {"op": "suspend-operator", "name": subject, "date": "2023-01-01", "reason": "停职"})
    return {
        "register": {"op": "register", "uscc": _uscc(k), "name": f"企业{k}", "area": "茅箭区"},
        "apply": app,
        "amend": {"op": "amend", "ref": ref, "facts": {**FACTS, "contract_yuan": "20万"}, "date": DAY,
                  "reason": "补正"},
        "withdraw": {"op": "withdraw", "ref": ref, "date": DAY, "reason": "撤回"},
        "external-award": {"op": "external-award", "uscc": USCC_A, "project": ref, "policy": "其他政策",
                           "amount_fen": 100, "date": DAY},
        "approve": {"op": "approve", "ref": ref, "date": DAY},
        "reject": {"op": "reject", "ref": ref, "date": DAY, "reason": "不予支持"},
        "revoke": {"op": "revoke", "ref": ref, "date": DAY, "reason": "撤销", "document": "2号"},
        "redecide": {"op": "redecide", "ref": ref, "date": DAY, "reason": "撤销低额奖励后改判"},
        "pay": {"op": "pay", "ref": ref, "payer": "county", "amount_fen": 1000, "voucher": f"P-{ref}", "date": DAY},
        "reverse-payment": {"op": "reverse-payment", "ref": ref, "payer": "city", "voucher": f"V-{ref}",
                            "date": DAY, "reason": "录错"},
        "recover": {"op": "recover", "ref": ref, "payer": "city", "amount_fen": 1000, "voucher": f"R-{ref}",
                    "date": DAY},
        "adopt-policy": {"op": "adopt-policy", "effective": f"2023-0{2 + k % 3}-{1 + k % 28:02d}", "date": DAY},
        "register-operator": {"op": "register-operator", "name": w.name(f"new-{role}"), "display_name": "N",
                              "roles": ["clerk"], "date": DAY},
        "change-roles": {"op": "change-roles", "name": subject, "roles": ["reviewer"], "date": DAY,
                         "reason": "调岗"},
        "suspend-operator": {"op": "suspend-operator", "name": subject, "date": DAY, "reason": "停职"},
        "reinstate-operator": {"op": "reinstate-operator", "name": subject, "date": DAY, "reason": "复职"},
        "set-aside": {"op": "set-aside", "position": position, "reason": "手工写入的支付记录", "date": DAY},
    }[op]


def _forge_malformed(w: World) -> int:
    """A row written past the ledger on a stream of its own (a payment with no enterprise before it): a malformed
    event an admin may set aside. Its position."""
    stream = uuid.uuid4()
    table = w.owner.recorder.events_table_name
    with w.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                          "VALUES (:id, 1, 'grants:Enterprise.PaymentRecorded', :state)"),
                     {"id": stream if w.pg else stream.hex, "state": json.dumps({"ref": "X-1"}).encode()})
    return w.log_end()


def test_every_role_against_every_command(world):
    w = world
    n = enforce(w)
    got, expected, written = {}, {}, {}
    for k, (role, op) in enumerate((r, o) for r in ROLES for o in ROLE_OF_OP):
        line = target_and_command(w, n, role, op, k)
        before = w.log_end()
        result = w.act(n[role], line)
        got[role, op] = "ok" if isinstance(result, dict) else result
        expected[role, op] = "ok" if ROLE_OF_OP[op] == role else "not-authorised"
        written[role, op] = w.log_end() > before
    assert got == expected
    assert written == {key: outcome == "ok" for key, outcome in expected.items()}  # a refusal writes nothing


def test_incompatible_duties_never_fall_to_one_operator(world):
    w = world
    # Single-user mode: one trust-based identity, so the same name may file, approve, pay and revoke.
    w.ok("anyone", {"op": "adopt-policy", "effective": "2022-09-01"}, as_owner=True)
    w.ok("one.person", {"op": "register", "uscc": USCC_A, "name": "十堰安盾", "area": "张湾区"}, as_owner=True)
    w.ok("one.person", {"op": "apply", "ref": "S-1", "uscc": USCC_A, "measure": "M03-security", "project": "S-1",
                        "date": "2023-01-10", "facts": FACTS}, as_owner=True)
    w.ok("one.person", {"op": "approve", "ref": "S-1", "date": "2023-02-01"}, as_owner=True)
    w.ok("one.person", {"op": "pay", "ref": "S-1", "payer": "city", "amount_fen": 100, "voucher": "S-V",
                        "date": "2023-03-01"}, as_owner=True)
    w.ok("one.person", {"op": "revoke", "ref": "S-1", "date": "2023-04-01", "reason": "r", "document": "d"},
         as_owner=True)
    n = {"boss": w.name("boss")}
    w.ok(n["boss"], {"op": "register-operator", "name": n["boss"], "display_name": "老板", "roles": ["admin"],
                     "valid_from": "2022-01-01", "date": "2022-01-01"}, as_owner=True)
    w.grant(n["boss"], ["admin"])
    for short, roles in {"dual": ["clerk", "reviewer", "treasurer"], "sc": ["clerk"], "sr": ["reviewer"],
                         "st": ["treasurer"], "boss2": ["admin"]}.items():
        n[short] = w.name(short)
        w.ok(n["boss"], {"op": "register-operator", "name": n[short], "display_name": short, "roles": roles,
                         "valid_from": "2022-01-01", "date": "2022-01-01"})
        w.grant(n[short], roles)

    def app(ref: str) -> dict[str, Any]:
        return {"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": ref,
                "date": "2023-01-10", "facts": FACTS}

    approve = {"op": "approve", "date": DAY}
    reject = {"op": "reject", "date": DAY, "reason": "r"}
    # 1. never approved or rejected by its filer ...
    w.ok(n["dual"], app("F-1"))
    assert w.act(n["dual"], {**approve, "ref": "F-1"}) == "separation-of-duties"
    assert w.act(n["dual"], {**reject, "ref": "F-1"}) == "separation-of-duties"
    # ... or by one who amended it
    w.ok(n["sc"], app("F-2"))
    w.ok(n["dual"], {"op": "amend", "ref": "F-2", "facts": {**FACTS, "contract_yuan": "20万"}, "date": "2023-01-20",
                     "reason": "补正"})
    assert w.act(n["dual"], {**approve, "ref": "F-2"}) == "separation-of-duties"
    assert w.act(n["dual"], {**reject, "ref": "F-2"}) == "separation-of-duties"
    w.ok(n["sr"], {**approve, "ref": "F-2"})
    # 2. a payment is never recorded by the approver; 3. nor the award revoked by the approver
    w.ok(n["sc"], app("F-3"))
    w.ok(n["dual"], {**approve, "ref": "F-3"})
    pay = {"op": "pay", "ref": "F-3", "payer": "city", "amount_fen": 100, "date": DAY}
    before = w.log_end()
    assert w.act(n["dual"], {**pay, "voucher": "F-V1"}) == "separation-of-duties"
    assert w.act(n["dual"], {"op": "revoke", "ref": "F-3", "date": DAY, "reason": "r", "document": "d"}) \
        == "separation-of-duties"
    assert w.log_end() == before  # nothing written
    w.ok(n["st"], {**pay, "voucher": "F-V2"})
    w.ok(n["sr"], {"op": "revoke", "ref": "F-3", "date": DAY, "reason": "r", "document": "d"})
    # 4. no operator administers itself
    assert w.act(n["boss"], {"op": "change-roles", "name": n["boss"], "roles": ["admin", "reviewer"], "date": DAY,
                             "reason": "r"}) == "separation-of-duties"
    w.ok(n["boss2"], {"op": "change-roles", "name": n["boss"], "roles": ["admin", "reviewer"], "date": DAY,
                      "reason": "r"})


def test_unknown_suspended_or_out_of_dates_operators_are_refused_and_enforcement_is_for_good(world):
    w = world
    n = enforce(w)
    line = {"op": "apply", "ref": "D-1", "uscc": USCC_A, "measure": "M03-security", "project": "D-1",
            "date": "2023-01-10", "facts": FACTS}
    if not w.pg:  # on PostgreSQL an unknown name has no role to connect as at all
        assert w.act("stranger", line) == "not-authorised"
    w.ok(n["boss"], {"op": "suspend-operator", "name": n["sc"], "date": DAY, "reason": "停职"})
    assert w.act(n["sc"], line) == "not-authorised"
    w.ok(n["boss"], {"op": "reinstate-operator", "name": n["sc"], "date": DAY, "reason": "复职"})
    w.ok(n["sc"], line)
    # An operator's days are checked on the day of recording (TODAY, 2024-06-01), so a current
    # operator may key in an act dated earlier, and an expired or future one nothing.
    for short, days in {"expired": ("2022-01-01", "2024-05-31"), "future": ("2024-06-02", None),
                        "current": ("2024-06-01", "2024-06-01")}.items():
        n[short] = w.name(short)
        w.ok(n["boss"], {"op": "register-operator", "name": n[short], "display_name": short, "roles": ["clerk"],
                         "valid_from": days[0], "valid_to": days[1], "date": DAY})
        w.grant(n[short], ["clerk"])
    assert w.act(n["expired"], {**line, "ref": "D-2", "project": "D-2"}) == "not-authorised"
    assert w.act(n["future"], {**line, "ref": "D-3", "project": "D-3"}) == "not-authorised"
    w.ok(n["current"], {**line, "ref": "D-4", "project": "D-4"})  # dated 2023-01-10, recorded 2024-06-01
    # the roster's first event is the switch; nothing switches it off
    topics = [e.topic for e in w.owner.recorder.select_events(ROSTER_ID)]
    assert topics[0] == "grants:OperatorRoster.EnforcementStarted" and topics.count(topics[0]) == 1


def test_an_import_names_who_ran_it_and_only_an_admin_records_lines_in_others_names(world):
    w = world
    n = enforce(w)
    n["old"] = w.name("old")  # a reviewer who left at the end of 2023: its acts before then can be migrated
    w.ok(n["boss"], {"op": "register-operator", "name": n["old"], "display_name": "退休", "roles": ["reviewer"],
                     "valid_from": "2022-01-01", "valid_to": "2023-12-31", "date": DAY})

    def app(ref: str) -> dict[str, Any]:
        return {"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": ref,
                "date": "2023-01-10", "facts": FACTS, "by": n["sc"]}

    lines = [app("I-1"), {"op": "approve", "ref": "I-1", "date": "2023-02-01", "by": n["old"]},
             app("I-2"), {"op": "approve", "ref": "I-2", "date": "2024-02-01", "by": n["old"]}]
    raw = [json.dumps(line, ensure_ascii=False).encode() for line in lines]
    by_clerk = import_lines(w.ledger_of(n["clerk"]), raw, n["clerk"], name="history.jsonl")
    assert [r["code"] for r in by_clerk["refused"]] == ["not-authorised"] * 4
    raw2 = [*raw, b"# migrated by the admin"]  # another file: a file's lines are decided once
    by_admin = import_lines(w.ledger_of(n["boss"]), raw2, n["boss"], name="history.jsonl")
    assert [(r["line"], r["code"]) for r in by_admin["refused"]] == [(4, "not-authorised")]  # after it left
    shown = w.owner.show("I-1")
    assert (shown["status"], shown["decided_by"], shown["applied_on"]) == ("approved", n["old"], "2023-01-10")
    run = w.owner.import_run(digest_of(b"".join(line + b"\n" for line in raw2)), n["boss"])
    assert run is not None and run.by == n["boss"]
    stored = [json.loads(e.state) for e in w.owner.recorder.select_notifications(1, 10_000)
              if e.topic == "grants:Enterprise.ApplicationApproved"]
    assert [(s["by"], s["recorded_by"]) for s in stored] == [(n["old"], n["boss"])]  # both names kept
    assert all(s["os_user"] for s in stored)
    assert run.id == import_run_id(run.digest, n["boss"])


def test_a_command_decided_before_its_operator_was_suspended_is_decided_again_and_refused(world):
    w = world
    n = enforce(w)
    ours = w.ledger_of(n["sc"])
    theirs = w.ledger_of(n["boss"]) if w.pg else GrantsLedger(w.store)  # another process's ledger
    authorise = ours._authorise
    calls = []

    def authorise_then_suspend(command: Any) -> None:
        authorise(command)  # the roster still says sc may act ...
        calls.append(command)
        if len(calls) == 1:  # ... and the admin suspends sc before this command is written
            theirs.execute(intake.parse_command({"op": "suspend-operator", "name": n["sc"], "date": DAY,
                                                 "reason": "停职"}, n["boss"]))

    ours._authorise = authorise_then_suspend  # type: ignore[method-assign]
    before = w.log_end()
    retries = ours.retries
    result = w.act(n["sc"], {"op": "register", "uscc": _uscc(99), "name": "企业", "area": "茅箭区"})
    assert result == "not-authorised"
    assert ours.retries > retries and len(calls) == 1
    assert w.log_end() == before + 1  # only the suspension
    if not w.pg:
        theirs.close()


def test_an_import_refused_to_one_operator_never_decides_the_file_for_another(world):
    """Issue 19, item 3: a clerk imports the treasurer's payment file first (every line not-authorised); the
    treasurer's own import of the same file then pays, and a second import by either decides nothing again.
    Two operators importing one file never both pay a line (the voucher is the payment's key)."""
    w = world
    n = enforce(w)
    for ref in ("F-1", "F-2"):
        w.ok(n["sc"], {"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": ref,
                       "date": "2023-01-10", "facts": FACTS})
        w.ok(n["sr"], {"op": "approve", "ref": ref, "date": "2023-02-01"})
    lines = [{"op": "pay", "ref": ref, "payer": "city", "amount_fen": 1000, "voucher": f"FV-{ref}",
              "date": "2023-03-01"} for ref in ("F-1", "F-2")]
    raw = [json.dumps(line, ensure_ascii=False).encode() for line in lines]
    by_clerk = import_lines(w.ledger_of(n["clerk"]), raw, n["clerk"], name="payments.jsonl")
    assert [r["code"] for r in by_clerk["refused"]] == ["not-authorised"] * 2
    by_treasurer = import_lines(w.ledger_of(n["treasurer"]), raw, n["treasurer"], name="payments.jsonl")
    assert by_treasurer["refused"] == [] and by_treasurer["accepted"] == 2 and by_treasurer["already"] == 0
    assert [w.owner.show(ref)["city_paid_fen"] for ref in ("F-1", "F-2")] == [1000, 1000]
    again = import_lines(w.ledger_of(n["treasurer"]), raw, n["treasurer"], name="payments.jsonl")
    assert again["already"] == 2  # exactly once per operator and file
    other = import_lines(w.ledger_of(n["st"]), raw, n["st"], name="payments.jsonl")
    assert other["refused"] == [] and other["accepted"] == 2  # each line answered "already recorded"...
    assert [w.owner.show(ref)["city_paid_fen"] for ref in ("F-1", "F-2")] == [1000, 1000]  # ...paid once
    digest = digest_of(b"".join(line + b"\n" for line in raw))
    runs = {name: w.owner.import_run(digest, n[name]) for name in ("clerk", "treasurer", "st")}
    assert {k: (r.by, r.decided) for k, r in runs.items() if r is not None} == {
        "clerk": (n["clerk"], 2), "treasurer": (n["treasurer"], 2), "st": (n["st"], 2)}
