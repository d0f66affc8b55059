"""The policy's rules as they must hold on every day, read off what ``show(ref, as_of=day)`` reports.

Shared by the keying-order property test (tests/integration/test_keying_order.py) and the stateful
machine (tests/stateful/test_ledger_machine.py). Written from the words of the policy, not from
``ledger.domain.rules``:

- 一次性奖励: at most one one-time award in force per unit on any day: the enterprise (clause 7's
  示范企业, clause 12's 双软, clause 3's platform), or the project (clause 7's 示范基地: a base;
  clause 3's security award, clause 10's racks, clause 18's park). A higher tier of a tiered
  measure on the same project is not a second award but a top-up (就高补差): the awards of a tiered
  measure in force together are all on one project, each at another tier.
- 同一企业、同一项目 ... 就高不重复: on any day, the awards of this policy in force on one
  enterprise's project (clause 16: on one task of it) add up to at most the highest single one
  (awards under other policies are facts, not decisions; an overlap with them is flagged, not
  refused, and is left out here).
- 每年发布10个重点创新任务, 每个奖励50万元 (clause 16): on any day, at most 10 distinct tasks of a
  task year in force, each task in force for one award only.
- 各50%: on any day, a payer has paid net at most its share of an award in force, never below zero;
  what was recovered from a payer never exceeds what it paid (net of reversals).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

PAYERS = ("city", "county")

# The one-time unit of each one-time measure, as the clause names it.
ONE_TIME_UNIT = {
    "M03-platform": "enterprise",
    "M07-enterprise": "enterprise",
    "M07-digital-commerce": "enterprise",
    "M12-dual-software": "enterprise",
    "M07-base": "project",
    "M03-security": "project",
    "M10-edge": "project",
    "M18-park": "project",
}
TIERED = {"M07-base", "M07-enterprise"}
TASK = "M16-task"
TASKS_A_YEAR = 10


@dataclass(frozen=True)
class Seen:
    """One application as ``show(ref, as_of=day)`` reports it: what the day rules read."""

    ref: str
    uscc: str
    measure: str
    project: str
    facts: dict[str, Any]
    status: str
    entitlement: int | None
    awarded: int
    share: dict[str, int]
    paid: dict[str, int]  # net: payments less reversals less recoveries
    paid_gross: dict[str, int]  # payments less reversals
    recovered: dict[str, int]
    overlap: bool = False  # show flags an overlap with another policy's award on the project (就高不重复)
    owed: bool = False  # show flags an award on the project owed a re-decision (a lower award revoked under it)

    @classmethod
    def of(cls, shown: dict[str, Any]) -> Seen:
        gross = {p: sum(x["amount_fen"] for x in shown["payments"] if x["payer"] == p and not x["reversed"])
                 for p in PAYERS}
        recovered = {p: sum(x["amount_fen"] for x in shown["recoveries"] if x["payer"] == p) for p in PAYERS}
        return cls(shown["ref"], shown["uscc"], shown["measure"], shown["project"], dict(shown["facts"]),
                   str(shown["status"]), shown["entitlement_fen"], shown["awarded_fen"],
                   {"city": shown["city_share_fen"], "county": shown["county_share_fen"]},
                   {"city": shown["city_paid_fen"], "county": shown["county_paid_fen"]}, gross, recovered,
                   any(f["kind"] == "overlap" for f in shown.get("findings", ())),
                   any(f["kind"] == "redecide" for f in shown.get("findings", ())))

    @property
    def in_force(self) -> bool:
        return self.status == "approved"

    def state(self) -> tuple[Any, ...]:
        """What must not depend on the order records were keyed in: status, award, halves, paid net per payer."""
        return (self.status, self.awarded, self.share["city"], self.share["county"], self.paid["city"],
                self.paid["county"])


def seen_on(ledger: Any, refs: Iterable[str], days: Iterable[date]) -> dict[date, dict[str, Seen]]:
    """``show(ref, as_of=day)`` of every ref filed by then, for every day."""
    out: dict[date, dict[str, Seen]] = {}
    refs = list(refs)
    for day in sorted(set(days)):
        on: dict[str, Seen] = {}
        for ref in refs:
            try:
                shown = ledger.show(ref, as_of=day)
            except Exception as exc:  # noqa: BLE001 - filed after the day, or never filed
                if getattr(exc, "code", None) == "unknown-application":
                    continue
                raise
            on[ref] = Seen.of(shown)
        out[day] = on
    return out


def broken_on(day: date, apps: Iterable[Seen]) -> list[str]:
    """Every rule broken on ``day`` by the applications as they stood then (empty: none)."""
    apps = list(apps)
    broken: list[str] = []
    in_force = [a for a in apps if a.in_force]

    once: dict[tuple[str, str, str], list[Seen]] = defaultdict(list)
    for a in in_force:
        unit = ONE_TIME_UNIT.get(a.measure)
        if unit is not None:
            once[(a.uscc, a.measure, a.uscc if unit == "enterprise" else a.project)].append(a)
    for key, given in once.items():
        if len(given) < 2:
            continue
        if key[1] in TIERED:
            tiers = [a.entitlement for a in given]
            if len({a.project for a in given}) > 1 or len(set(tiers)) != len(tiers):
                broken.append(f"{day}: one-time {key} in force {len(given)} times: {[a.ref for a in given]}")
        else:
            broken.append(f"{day}: one-time {key} in force {len(given)} times: {[a.ref for a in given]}")

    on_unit: dict[tuple[str, str, Any], list[Seen]] = defaultdict(list)
    for a in in_force:
        on_unit[(a.uscc, a.project, a.facts.get("task") if a.measure == TASK else None)].append(a)
    for key, given in on_unit.items():
        total = sum(a.awarded for a in given)
        highest = max(a.entitlement or 0 for a in given)
        if total > highest:
            broken.append(f"{day}: 就高不重复 {key}: {total} in force above the highest single award {highest}: "
                          f"{[(a.ref, a.awarded, a.entitlement) for a in given]}")

    tasks: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    for a in in_force:
        if a.measure == TASK:
            tasks[a.facts.get("task_year")].append((a.facts.get("task"), a.ref))
    for year, given in tasks.items():
        names = [task for task, _ in given]
        if len(set(names)) > TASKS_A_YEAR:
            broken.append(f"{day}: {len(set(names))} tasks of {year} in force: {sorted(given)}")
        if len(names) != len(set(names)):
            broken.append(f"{day}: a task of {year} in force for two awards: {sorted(given)}")

    for a in apps:
        for payer in PAYERS:
            if a.paid[payer] < 0:
                broken.append(f"{day}: {a.ref} {payer} paid net {a.paid[payer]} below zero")
            if a.in_force and a.paid[payer] > a.share[payer]:
                broken.append(f"{day}: {a.ref} {payer} paid net {a.paid[payer]} above its share {a.share[payer]}")
            if a.recovered[payer] > a.paid_gross[payer]:
                broken.append(f"{day}: {a.ref} {payer} recovered {a.recovered[payer]} above paid "
                              f"{a.paid_gross[payer]}")
        if a.in_force and a.share["city"] + a.share["county"] != a.awarded:
            broken.append(f"{day}: {a.ref} halves {a.share} do not make the award {a.awarded}")
    return broken


def broken_on_every_day(seen: dict[date, dict[str, Seen]]) -> list[str]:
    return [b for day, apps in sorted(seen.items()) for b in broken_on(day, apps.values())]


def seen_from_events(events: Iterable[Any], days: Iterable[date]) -> dict[date, dict[str, Seen]]:
    """The applications of enterprise streams as they stood at the end of each day, worked out here from the
    recorded events and their dates (not from the ledger's views): what the day rules read, cheaply enough
    to check after every step of a state machine."""
    filed: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = type(e).__name__
        if kind == "Registered":
            uscc = e.uscc
        elif kind == "ApplicationSubmitted":
            filed[e.ref] = {"uscc": uscc, "measure": e.measure, "project": e.project, "applied_on": e.date,
                            "facts": [(e.date, dict(e.facts))], "decided": None, "approved": None, "revoked": None,
                            "award": [], "entitlement": None, "money": []}
        elif kind == "ApplicationAmended":
            filed[e.ref]["facts"].append((e.date, dict(e.facts)))
        elif kind in ("ApplicationRejected", "ApplicationWithdrawn"):
            filed[e.ref]["decided"] = (e.date, "rejected" if kind == "ApplicationRejected" else "withdrawn")
        elif kind == "ApplicationApproved":
            f = filed[e.ref]
            f["approved"], f["entitlement"] = e.date, e.entitlement_fen
            f["award"].append((e.date, e.awarded_fen, e.city_share_fen, e.county_share_fen))
        elif kind == "AwardRedecided":
            filed[e.ref]["award"].append((e.date, e.awarded_fen, e.city_share_fen, e.county_share_fen))
        elif kind == "AwardRevoked":
            filed[e.ref]["revoked"] = e.date
        elif kind == "PaymentRecorded":
            filed[e.ref]["money"].append((e.date, e.payer, "paid", e.amount_fen))
        elif kind == "PaymentReversed":
            filed[e.ref]["money"].append((e.date, e.payer, "reversed", e.amount_fen))
        elif kind == "RecoveryRecorded":
            filed[e.ref]["money"].append((e.date, e.payer, "recovered", e.amount_fen))
    out: dict[date, dict[str, Seen]] = {}
    for day in sorted(set(days)):
        on: dict[str, Seen] = {}
        for ref, f in filed.items():
            if f["applied_on"] > day:
                continue
            facts = [x for d, x in f["facts"] if d <= day][-1]
            if f["revoked"] is not None and f["revoked"] <= day:
                status = "revoked"
            elif f["approved"] is not None and f["approved"] <= day:
                status = "approved"
            elif f["decided"] is not None and f["decided"][0] <= day:
                status = f["decided"][1]
            else:
                status = "submitted"
            decided = [a for a in sorted(f["award"], key=lambda a: a[0]) if a[0] <= day]
            _d, awarded, city, county = decided[-1] if decided and status == "approved" else (None, 0, 0, 0)
            moved = {(payer, how): sum(a for d, p, h, a in f["money"] if d <= day and p == payer and h == how)
                     for payer in PAYERS for how in ("paid", "reversed", "recovered")}
            gross = {p: moved[(p, "paid")] - moved[(p, "reversed")] for p in PAYERS}
            recovered = {p: moved[(p, "recovered")] for p in PAYERS}
            on[ref] = Seen(ref, f["uscc"], f["measure"], f["project"], facts, status, f["entitlement"], awarded,
                           {"city": city, "county": county}, {p: gross[p] - recovered[p] for p in PAYERS}, gross,
                           recovered)
        out[day] = on
    return out
