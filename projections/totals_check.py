"""The totals the reports read, recomputed from the entries they sum (issue 19: `audit verify` sees everything
a report reads).

``check_views`` (``projections/audit_checks.py``) compares every entry's owed and paid sums, application by
application, with the log; this compares every summary table with those entries: each enterprise's totals
(``rm_enterprises``), its running totals per day (``rm_enterprise_days``), and what each area's and measure's
days add (``rm_day_totals``: owed and paid per payer, the payments, reversals and recoveries, the moves, and
the money to recover). A row changed, added or removed behind the ledger is a finding naming the table, its
key and both values. The recomputation is written apart from ``projections/totals.py`` (from the entries
table, by grouped reads), so a fault in one is not repeated in the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, select

from ledger.domain.areas import CITY, COUNTY
from ledger.domain.money import amount
from ledger.domain.validation import VIEWS_DISAGREE, Finding
from ledger.i18n import _
from projections import schema

ENTERPRISE_AMOUNTS = ("awarded_fen", "city_paid_fen", "county_paid_fen")
DAY_COLUMNS = (*schema.SUMS, *schema.MOVES)
KIND_SUMS = {schema.PAYMENT: "payments_fen", schema.REVERSAL: "reversals_fen", schema.RECOVERY: "recoveries_fen"}


def check_totals(engine: Engine) -> list[Finding]:
    with engine.connect() as conn:
        return [*_enterprises(conn), *_enterprise_days(conn), *_day_totals(conn)]


def _sum(condition: Any, value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _per_enterprise_columns() -> list[Any]:
    x = schema.entries
    paid = x.c.kind.in_(schema.PAID_KINDS)
    return [_sum(x.c.kind.in_(schema.OWED_KINDS), x.c.amount_fen), _sum(and_(paid, x.c.payer == CITY), x.c.amount_fen),
            _sum(and_(paid, x.c.payer == COUNTY), x.c.amount_fen)]


def _enterprises(conn: Connection) -> list[Finding]:
    e, x = schema.enterprises, schema.entries
    expected = {row[0]: tuple(int(v) for v in row[1:])
                for row in conn.execute(select(x.c.uscc, *_per_enterprise_columns()).group_by(x.c.uscc))}
    found = []
    for row in conn.execute(select(e.c.uscc, *(e.c[n] for n in ENTERPRISE_AMOUNTS)).order_by(e.c.uscc)):
        stored = tuple(int(v) for v in row[1:])
        sums = expected.get(row[0], (0, 0, 0))
        if stored != sums:
            found.append(_differs(e.name, row[0], row[0], ENTERPRISE_AMOUNTS, stored, sums))
    return found


def _enterprise_days(conn: Connection) -> list[Finding]:
    """Each enterprise's running totals on each day one of its entries moved an amount."""
    d, x = schema.enterprise_days, schema.entries
    moved = _sum(and_(x.c.amount_fen != 0, x.c.kind.in_((*schema.OWED_KINDS, *schema.PAID_KINDS))), 1)
    query = (select(x.c.uscc, x.c.date, *_per_enterprise_columns(), moved).group_by(x.c.uscc, x.c.date)
             .order_by(x.c.uscc, x.c.date))
    expected: dict[tuple[str, date], tuple[int, ...]] = {}
    running: dict[str, list[int]] = {}
    for uscc, day, awarded, city, county, moves in conn.execute(query):
        totals = running.setdefault(uscc, [0, 0, 0])
        for i, fen in enumerate((awarded, city, county)):
            totals[i] += int(fen)
        if int(moves):
            expected[(uscc, _day(day))] = tuple(totals)
    stored = {(row[0], _day(row[1])): tuple(int(v) for v in row[2:])
              for row in conn.execute(select(d.c.uscc, d.c.date, *(d.c[n] for n in ENTERPRISE_AMOUNTS)))}
    return _compare(d.name, stored, expected, ENTERPRISE_AMOUNTS, lambda k: k[0],
                    lambda k: f"{k[0]} {k[1].isoformat()}")


def _day_totals(conn: Connection) -> list[Finding]:
    """What each area's and each measure's days add, from the entries (and the applications' revocation days,
    for the money to recover: counted on the later of the payment's and the revocation's day)."""
    x, a, t = schema.entries, schema.applications, schema.day_totals
    index = {name: i for i, name in enumerate(DAY_COLUMNS)}
    expected: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0] * len(DAY_COLUMNS))

    def add(keys: Iterable[tuple[str, str]], day: date, column: str, fen: int) -> None:
        for scope, key in keys:
            expected[(scope, key, day)][index[column]] += fen

    query = (select(x.c.area, x.c.measure, x.c.date, x.c.kind, x.c.payer, func.sum(x.c.amount_fen),
                    func.sum(x.c.city_fen), func.sum(x.c.county_fen), func.count())
             .where(x.c.kind.in_((*schema.OWED_KINDS, *schema.PAID_KINDS)))
             .group_by(x.c.area, x.c.measure, x.c.date, x.c.kind, x.c.payer))
    for area, measure, day, kind, payer, fen, city, county, count in conn.execute(query):
        keys = [(schema.AREA_SCOPE, area)] + ([(schema.MEASURE_SCOPE, measure)] if measure is not None else [])
        day = _day(day)
        if kind in schema.OWED_KINDS:
            add(keys, day, "city_owed_fen", int(city))
            add(keys, day, "county_owed_fen", int(county))
            continue
        add(keys, day, f"{payer}_paid_fen", int(fen))
        add(keys, day, f"{payer}_{KIND_SUMS[kind]}", int(fen))
        add(keys, day, f"{payer}_moves", int(count))
        if kind == schema.PAYMENT:
            add(keys, day, f"{payer}_payments", int(count))
    revoked = (select(x.c.area, x.c.measure, x.c.date, a.c.revoked_on, x.c.payer, func.sum(x.c.amount_fen))
               .select_from(x.join(a, a.c.ref == x.c.ref))
               .where(x.c.kind.in_(schema.PAID_KINDS), a.c.revoked_on.is_not(None))
               .group_by(x.c.area, x.c.measure, x.c.date, a.c.revoked_on, x.c.payer))
    for area, measure, day, revoked_on, payer, fen in conn.execute(revoked):
        keys = [(schema.AREA_SCOPE, area)] + ([(schema.MEASURE_SCOPE, measure)] if measure is not None else [])
        add(keys, max(_day(day), _day(revoked_on)), f"{payer}_to_recover_fen", int(fen))
    stored = {(row[0], row[1], _day(row[2])): tuple(int(v) for v in row[3:])
              for row in conn.execute(select(t.c.scope, t.c.key, t.c.date, *(t.c[n] for n in DAY_COLUMNS)))}
    return _compare(t.name, stored, {k: tuple(v) for k, v in expected.items()}, DAY_COLUMNS, lambda k: None,
                    lambda k: f"{k[0]} {k[1]} {k[2].isoformat()}")


def _compare(table: str, stored: dict[Any, tuple[int, ...]], expected: dict[Any, tuple[int, ...]],
             columns: tuple[str, ...], uscc_of: Any, key_of: Any) -> list[Finding]:
    """Rows of all zeros count as absent (an area's registration day is such a row)."""
    zero = (0,) * len(columns)
    found = []
    for key in sorted(set(stored) | set(expected), key=lambda k: tuple(str(p) for p in k)):
        have, want = stored.get(key, zero), expected.get(key, zero)
        if have != want:
            found.append(_differs(table, key_of(key), uscc_of(key), columns, have, want))
    return found


def _differs(table: str, key: str, uscc: str | None, columns: tuple[str, ...], stored: tuple[int, ...],
             expected: tuple[int, ...]) -> Finding:
    differs = "; ".join(_("{name} {views} in the views, {log} from the entries").format(
        name=name, views=amount(s), log=amount(e)) for name, s, e in zip(columns, stored, expected, strict=True)
        if s != e)
    return Finding(VIEWS_DISAGREE, None, None, uscc, _("{table} {key}: {differences} (grants projections rebuild puts "
                                                       "the views right)").format(table=table, key=key,
                                                                                  differences=differs))


def _day(value: Any) -> date:
    """A day as the driver hands it back (SQLite keeps ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
