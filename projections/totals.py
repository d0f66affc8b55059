"""The totals the reports read, kept by the projection in the transaction that writes the rows
they sum (``ViewUpdater`` collects, ``Totals.flush`` writes once per page):

- per enterprise: its totals on its ``rm_enterprises`` row, and its running totals per day it
  had a movement (``rm_enterprise_days``), for ``report enterprise`` with and without ``--as-of``;
- per area and per measure and day: what that day's entries add (``rm_day_totals``), for
  ``report shares``, its ``--from``/``--to`` period and the payments per month;
- per application: the span of days on which one payer had paid (net) a larger part of its half
  than the other of its own (``figures.behind``; ``half_paid_from``/``half_paid_until`` on
  ``rm_applications``), so ``report shares`` sums the entries of those applications only.

Every total is a sum, so the same events give the same totals whatever the pages they come in:
a rebuild equals the catch-up (``tests/integration/test_corrections.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ledger.domain.areas import CITY, COUNTY
from projections import figures, schema
from projections.bulk import copy_rows

E, D, T, A, X = schema.enterprises, schema.enterprise_days, schema.day_totals, schema.applications, schema.entries
AMOUNTS = ("awarded_fen", "city_paid_fen", "county_paid_fen")
KIND_SUMS = {schema.PAYMENT: "payments_fen", schema.REVERSAL: "reversals_fen", schema.RECOVERY: "recoveries_fen"}
CHUNK = 500  # applications per query of their entries
BATCH = 5000  # rows per read and per write of a rebuild's last step


def half_paid_span(entries: Iterable[tuple[date, str, str | None, int, int, int]]) -> tuple[Any, Any, Any]:
    """From an application's entries (date, kind, payer, amount, city, county): the first day on which
    one payer had paid (net) a larger part of its half than the other of its own (``figures.behind``),
    the first day after the last such day on which it no longer had (``schema.OPEN`` if it still has),
    and, if it still has, the day of the first payment of the payer ahead (``since``); Nones if never. The test is ``reports._half_paid``'s, on the
    sums up to each day."""
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for day, kind, payer, amount, city, county in entries:
        sums = days[day]
        if kind in schema.OWED_KINDS:
            sums[0] += city
            sums[1] += county
        elif kind in schema.PAID_KINDS:
            sums[2 if payer == CITY else 3] += amount
            if kind == schema.PAYMENT:
                sums[4 if payer == CITY else 5] += 1
    return span_of_days(((day, s[0], s[1], s[2], s[3], s[4], s[5]) for day, s in sorted(days.items())), schema.OPEN)


def span_of_days(days: Iterable[tuple[Any, int, int, int, int, int, int]], open_day: Any) -> tuple[Any, Any, Any]:
    """``half_paid_span`` of an application's days in order, each (day, city owed, county owed, city
    paid, county paid, city payments, county payments) that day; ``open_day`` stands for "still" (a day
    in the caller's form: a date, or on SQLite its ISO text)."""
    first = until = None
    lag: tuple[str, int] | None = None
    first_paid: dict[str, Any] = {}
    city_owed = county_owed = city_paid = county_paid = 0
    was = False
    for day, d_city_owed, d_county_owed, d_city_paid, d_county_paid, city_pays, county_pays in days:
        city_owed, county_owed = city_owed + d_city_owed, county_owed + d_county_owed
        city_paid, county_paid = city_paid + d_city_paid, county_paid + d_county_paid
        if city_pays:
            first_paid.setdefault(CITY, day)
        if county_pays:
            first_paid.setdefault(COUNTY, day)
        lag = figures.behind(city_owed, county_owed, city_paid, county_paid)
        now = lag is not None
        if now:
            first = first or day
            until = open_day
        elif was:
            until = day
        was = now
    since = first_paid.get(figures.other(lag[0])) if lag is not None else None
    return first, until, since


class Totals:
    """Collects what a page's entries add to the totals; ``flush`` writes it after the page's rows."""

    def __init__(self, conn: Connection, *, rebuild: bool = False) -> None:
        self.conn = conn
        # A rebuild writes the per-day running totals and the half-paid spans once, at the end, from
        # the entries it wrote (``finish``); a catch-up adds to them page by page.
        self.rebuild = rebuild
        self._enterprises: dict[str, list[int]] = {}  # uscc -> amounts to add to a row already written
        self._days: dict[tuple[str, date], list[int]] = {}  # (uscc, day) -> amounts the day adds
        self._totals: dict[tuple[str, str, date], list[int]] = {}  # (scope, key, day) -> sums to add (_TOTAL_COLUMNS)
        self._paid: dict[str, list[tuple[date, str, int]]] = {}  # ref -> its money entries not yet written
        self._touched: set[str] = set()  # applications with a new entry

    def registered(self, area: str, day: date | None) -> None:
        """An area is listed from the day its first enterprise registered (an undated one: always)."""
        self._add(schema.AREA_SCOPE, area, day or schema.UNDATED, {})

    def entry(self, row: dict[str, Any], *, revoked_on: date | None, enterprise: dict[str, Any] | None) -> None:
        """One ``rm_entries`` row; ``revoked_on`` the day its application's award was revoked (if it was,
        before this entry in the log), ``enterprise`` the enterprise's row when it is still to be inserted."""
        kind, ref, payer, day, amount = row["kind"], row["ref"], row["payer"], row["date"], row["amount_fen"]
        owed, paid = kind in schema.OWED_KINDS, kind in schema.PAID_KINDS
        add = (amount if owed else 0, amount if paid and payer == CITY else 0,
               amount if paid and payer == COUNTY else 0)
        if any(add) and not self.rebuild:  # a rebuild sums each enterprise's entries once, at the end
            if enterprise is not None:
                for name, fen in zip(AMOUNTS, add, strict=True):
                    enterprise[name] += fen
            else:
                totals = self._enterprises.setdefault(row["uscc"], [0, 0, 0])
                for i, fen in enumerate(add):
                    totals[i] += fen
            days = self._days.setdefault((row["uscc"], day), [0, 0, 0])
            for i, fen in enumerate(add):
                days[i] += fen
        sums: dict[str, int] = {}
        if owed:
            sums = {"city_owed_fen": row["city_fen"], "county_owed_fen": row["county_fen"]}
        elif paid:
            sums = {f"{payer}_paid_fen": amount, f"{payer}_{KIND_SUMS[kind]}": amount, f"{payer}_moves": 1,
                    f"{payer}_payments": 1 if kind == schema.PAYMENT else 0}
        keys = [(schema.AREA_SCOPE, row["area"])]
        if row["measure"] is not None:
            keys.append((schema.MEASURE_SCOPE, row["measure"]))
        for scope, key in keys:
            self._add(scope, key, day, sums)
        if ref is None:
            return
        if not self.rebuild:
            self._touched.add(ref)
        if paid:
            self._paid.setdefault(ref, []).append((day, payer, amount))
            if revoked_on is not None:
                self._recover(keys, max(day, revoked_on), payer, amount)
        elif kind == schema.REVOCATION:
            for paid_on, by, fen in self._paid_entries(ref):
                self._recover(keys, max(paid_on, day), by, fen)

    def _recover(self, keys: list[tuple[str, str]], day: date, payer: str, amount: int) -> None:
        """Money paid on a revoked award is to be recovered from the later of the two days on."""
        for scope, key in keys:
            self._add(scope, key, day, {f"{payer}_to_recover_fen": amount})

    def _paid_entries(self, ref: str) -> list[tuple[date, str, int]]:
        written = self.conn.execute(_PAID_OF, {"b_ref": ref}).all()
        return [(row.date, row.payer, row.amount_fen) for row in written] + self._paid.get(ref, [])

    def _add(self, scope: str, key: str, day: date, sums: dict[str, int]) -> None:
        found = self._totals.get((scope, key, day))
        if found is None:
            found = self._totals[(scope, key, day)] = [0] * len(_TOTAL_COLUMNS)
        for name, fen in sums.items():
            found[_INDEX[name]] += fen

    def flush(self) -> None:
        """Write the page's totals; the page's rows (entries, new enterprises) are already written.

        Plain SQL with positional parameters, run by the driver's ``executemany``: a page writes a
        few thousand of these rows, and SQLAlchemy's processing of each row's parameters cost more
        than the database's work (a rebuild 3x slower)."""
        sql = _statements(self.conn)
        day = _day_value(self.conn)
        run = self.conn.exec_driver_sql
        if self._enterprises:
            run(sql["add_enterprise"], [(*sums, uscc) for uscc, sums in self._enterprises.items()])
        if self._days:
            # First a row for each new day, holding the running totals of the day before it; then every
            # row from the day on gets the day's amounts. New rows hold the totals before this page, so
            # the order among them does not matter.
            run(sql["new_day"], [(uscc, day(d)) * 5 for uscc, d in self._days])
            run(sql["add_days"], [(*sums, uscc, day(d)) for (uscc, d), sums in self._days.items()])
        if self._totals:
            run(sql["add_total"], [(scope, key, day(d), *sums) for (scope, key, d), sums in self._totals.items()])
        if self._touched:
            self._write_half_paid(sorted(self._touched), sql["set_half_paid"], day)
        self._enterprises.clear()
        self._days.clear()
        self._totals.clear()
        self._paid.clear()
        self._touched.clear()

    def _write_half_paid(self, refs: list[str], statement: str, day: Any) -> None:
        spans = []
        for i in range(0, len(refs), CHUNK):
            chunk = refs[i:i + CHUNK]
            found: dict[str, list[tuple[Any, ...]]] = {ref: [] for ref in chunk}
            for row in self.conn.execute(_ENTRIES_OF, {"b_refs": chunk}):
                found[row.ref].append((row.date, row.kind, row.payer, row.amount_fen, row.city_fen, row.county_fen))
            for ref, entries in found.items():
                first, until, since = half_paid_span(entries)
                spans.append((day(first), day(until), day(since), ref))
        self.conn.exec_driver_sql(statement, spans)

    def finish(self) -> None:
        """At the end of a rebuild, after the last page: each enterprise's totals (one statement summing its
        entries), its running totals per day and each application's half-paid span, from the entries the
        rebuild wrote, read once in order (grouped by day) and written in batches. The same rows as a
        catch-up's, page after page: the day rows of days whose entries add something, the spans of the
        applications that have one."""
        if not self.rebuild:
            return
        self.conn.exec_driver_sql(_ENTERPRISE_SUMS)
        sql = _statements(self.conn)
        stream = {"stream_results": True, "yield_per": BATCH}  # a server-side cursor on PostgreSQL
        rows: list[tuple[Any, ...]] = []

        def insert_days(rows: list[tuple[Any, ...]]) -> None:
            if self.conn.dialect.name == "postgresql":
                copy_rows(self.conn, D.name, ("uscc", "date", *AMOUNTS), rows)
            else:
                self.conn.exec_driver_sql(sql["insert_day"], rows)
        uscc = None
        running = [0, 0, 0]
        for row in self.conn.exec_driver_sql(_ENTERPRISE_DAYS, execution_options=stream):
            if row[0] != uscc:
                uscc, running = row[0], [0, 0, 0]
            running = [running[0] + row[2], running[1] + row[3], running[2] + row[4]]
            if row[5]:
                rows.append((uscc, row[1], *running))
            if len(rows) >= BATCH:
                insert_days(rows)
                rows = []
        if rows:
            insert_days(rows)
        open_day = _day_value(self.conn)(schema.OPEN)
        spans: list[tuple[Any, Any, Any, str]] = []
        ref: str | None = None
        days: list[Any] = []
        for row in self.conn.exec_driver_sql(_APPLICATION_DAYS, execution_options=stream):
            if row[0] != ref:
                self._add_span(spans, ref, days, open_day)
                ref, days = row[0], []
            days.append(row[1:])
            if len(spans) >= BATCH:
                self.conn.exec_driver_sql(sql["set_half_paid"], spans)
                spans = []
        self._add_span(spans, ref, days, open_day)
        if spans:
            self.conn.exec_driver_sql(sql["set_half_paid"], spans)

    @staticmethod
    def _add_span(spans: list[tuple[Any, Any, Any, str]], ref: str | None, days: list[Any], open_day: Any) -> None:
        if ref is not None:
            first, until, since = span_of_days(days, open_day)
            if first is not None:
                spans.append((first, until, since, ref))


_TOTAL_COLUMNS = (*schema.SUMS, *schema.MOVES)
_INDEX = {name: i for i, name in enumerate(_TOTAL_COLUMNS)}
_PAID_OF = select(X.c.date, X.c.payer, X.c.amount_fen).where(X.c.ref == bindparam("b_ref"),
                                                              X.c.kind.in_(schema.PAID_KINDS))
_ENTRIES_OF = (select(X.c.ref, X.c.date, X.c.kind, X.c.payer, X.c.amount_fen, X.c.city_fen, X.c.county_fen)
               .where(X.c.ref.in_(bindparam("b_refs", expanding=True))))


def _case(kinds: tuple[str, ...], value: str, condition: str = "") -> str:
    """The sum of ``value`` over the entries of ``kinds`` (and ``condition``), as a BIGINT on both stores."""
    listed = ", ".join(f"'{kind}'" for kind in kinds)  # the kinds are the schema's own constants
    also = f" AND {condition}" if condition else ""
    return f"CAST(SUM(CASE WHEN kind IN ({listed}){also} THEN {value} ELSE 0 END) AS BIGINT)"


_CITY, _NOT_CITY, _COUNTY = f"payer = '{CITY}'", f"payer <> '{CITY}'", f"payer = '{COUNTY}'"


# A rebuild's running totals per enterprise and day (``Totals.entry``: an owed entry adds its amount
# to the award, a paid one to its payer's; a day has a row when one of its entries adds something),
# and its applications' days for their spans (``half_paid_span``'s sums).
_ENTERPRISE_DAYS = (f'SELECT uscc, "date", {_case(schema.OWED_KINDS, "amount_fen")}, '
                    f'{_case(schema.PAID_KINDS, "amount_fen", _CITY)}, {_case(schema.PAID_KINDS, "amount_fen", _COUNTY)}, '
                    f'{_case((*schema.OWED_KINDS, *schema.PAID_KINDS), "CASE WHEN amount_fen <> 0 THEN 1 ELSE 0 END")} '
                    f'FROM {X.name} GROUP BY uscc, "date" ORDER BY uscc, "date"')
_ENTERPRISE_SUMS = (f'UPDATE {E.name} SET {", ".join(f"{c} = s.{c}" for c in AMOUNTS)} FROM '
                    f'(SELECT uscc, {_case(schema.OWED_KINDS, "amount_fen")} AS {AMOUNTS[0]}, '
                    f'{_case(schema.PAID_KINDS, "amount_fen", _CITY)} AS {AMOUNTS[1]}, '
                    f'{_case(schema.PAID_KINDS, "amount_fen", _COUNTY)} AS {AMOUNTS[2]} '
                    f'FROM {X.name} GROUP BY uscc) AS s WHERE {E.name}.uscc = s.uscc')
_APPLICATION_DAYS = (f'SELECT ref, "date", {_case(schema.OWED_KINDS, "city_fen")}, '
                     f'{_case(schema.OWED_KINDS, "county_fen")}, {_case(schema.PAID_KINDS, "amount_fen", _CITY)}, '
                     f'{_case(schema.PAID_KINDS, "amount_fen", _NOT_CITY)}, '
                     f'{_case((schema.PAYMENT,), "1", _CITY)}, {_case((schema.PAYMENT,), "1", _NOT_CITY)} '
                     f'FROM {X.name} WHERE ref IS NOT NULL GROUP BY ref, "date" ORDER BY ref, "date"')


def _sets(table: str, columns: tuple[str, ...], how: str) -> str:
    return ", ".join(f"{c} = {how.format(table=table, c=c)}" for c in columns)


_SQL = {
    "add_enterprise": f"UPDATE {E.name} SET {_sets(E.name, AMOUNTS, '{c} + ?')} WHERE uscc = ?",
    "new_day": (f'INSERT INTO {D.name} (uscc, "date", {", ".join(AMOUNTS)}) SELECT ?, ?, '
                + ", ".join(f'COALESCE((SELECT p.{c} FROM {D.name} p WHERE p.uscc = ? AND p."date" < ? '
                            'ORDER BY p."date" DESC LIMIT 1), 0)' for c in AMOUNTS)
                + f' WHERE NOT EXISTS (SELECT 1 FROM {D.name} e WHERE e.uscc = ? AND e."date" = ?)'),
    "insert_day": f'INSERT INTO {D.name} (uscc, "date", {", ".join(AMOUNTS)}) VALUES (?, ?, ?, ?, ?)',
    "add_days": f'UPDATE {D.name} SET {_sets(D.name, AMOUNTS, "{c} + ?")} WHERE uscc = ? AND "date" >= ?',
    "add_total": (f'INSERT INTO {T.name} (scope, "key", "date", {", ".join(_TOTAL_COLUMNS)}) '
                  f'VALUES (?, ?, ?, {", ".join("?" for _ in _TOTAL_COLUMNS)}) '
                  f'ON CONFLICT (scope, "key", "date") DO UPDATE SET '
                  + _sets(T.name, _TOTAL_COLUMNS, "{table}.{c} + excluded.{c}")),
    "set_half_paid": f"UPDATE {A.name} SET half_paid_from = ?, half_paid_until = ?, half_paid_since = ? WHERE ref = ?",
}
_BY_STYLE: dict[str, dict[str, str]] = {}


def _statements(conn: Connection) -> dict[str, str]:
    """The statements in the driver's own placeholders (sqlite3: ``?``; psycopg: ``%s``)."""
    style = conn.dialect.paramstyle
    if style not in _BY_STYLE:
        mark = "?" if style == "qmark" else "%s"
        _BY_STYLE[style] = {name: sql.replace("?", mark) for name, sql in _SQL.items()}
    return _BY_STYLE[style]


def _day_value(conn: Connection) -> Any:
    """How the driver is handed a day: SQLite keeps dates as ISO text (as SQLAlchemy's ``Date`` writes
    them), psycopg takes ``date`` itself."""
    if conn.dialect.name == "sqlite":
        return lambda d: d.isoformat() if d is not None else None
    return lambda d: d
