"""Every read-model row against the log (issue 19: `audit verify` sees everything a report reads).

While `audit verify` replays the log, the events up to the read models' position go through the runner's own
handlers (``ViewUpdater.apply_events``, as a rebuild applies them) into a scratch database in memory; at that
position every view table is compared with it row by row and column by column: the enterprises, applications
and entries (each entry's kind, day, payer, voucher and amounts, not only their sums), the running totals per
enterprise and day, the area and measure days, the policy versions and the events the views passed over. A row
changed, added or removed behind the ledger is a ``views-disagree`` finding naming the table, the row's key
and both values. Nothing here projects an event a second way: a handler's fault is in both sides alike, which
``check_views`` (against the replayed aggregates) and ``check_totals`` (the totals from the entries) catch.

``rm_tracking`` holds no row a report shows: a position past the log's end is ``events-removed-at-end``
(``audit_checks.cut_tail``); a position behind the rows is named here (and the rows past it), one ahead of
them shows as the rows the views lack up to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, Engine, Table, create_engine, func, select
from sqlalchemy.pool import StaticPool

from ledger.domain.money import amount
from ledger.domain.validation import VIEWS_DISAGREE, Finding, Unreadable
from ledger.i18n import _
from ledger.text import shown
from projections import runner, schema

PAGE = runner.PAGE
SHOWN_PER_TABLE = 20  # rows named per table; the rest are counted in one more finding


class Projected:
    """The read models the log gives, up to a position: fed (position, topic, event) in log order."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://", poolclass=StaticPool)
        self.conn: Connection = self.engine.connect()
        self.transaction = self.conn.begin()
        schema.metadata.create_all(self.conn)
        self.updater = runner.ViewUpdater(self.conn, rebuild=True)
        self.page: list[tuple[int, str, Any]] = []

    def add(self, position: int, topic: str, ev: Any) -> None:
        if topic in runner.HANDLERS or isinstance(ev, Unreadable):
            self.page.append((position, topic, ev))
            if len(self.page) >= PAGE:
                self._flush()

    def _flush(self) -> None:
        self.updater.apply_events(self.page)
        self.updater.flush()
        self.page = []

    def finish(self) -> None:
        """The last page, and the totals a rebuild writes at its end; committed, so that ``engine`` reads them."""
        self._flush()
        self.updater.totals.finish()
        self.transaction.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def compare(projected: Projected, engine: Engine, upto: int) -> list[Finding]:
    """The stored view tables against the projection up to ``upto`` (the views' tracking position;
    ``projected.finish()`` first): each table's rows read from both, as sets (a primary key makes each row one
    of a kind), and only the rows in one and not the other looked at. Rows of events past the tracking position
    are named on ``rm_tracking`` too: a catch-up would apply those events again."""
    found: list[Finding] = []
    with engine.connect() as conn:
        reached = max(int(conn.execute(select(func.max(t.c.position))).scalar() or 0)
                      for t in (schema.entries, schema.policy_versions, schema.malformed))
        if reached > upto:
            found.append(Finding(VIEWS_DISAGREE, None, None, None, _(
                "{table} {key}: position {position}, but the views hold rows of events up to {reached} (grants "
                "projections rebuild puts the views right)").format(
                    table=schema.tracking.name, key=shown(runner.TRACKING_NAME), position=upto, reached=reached)))
        for table in schema.VIEW_TABLES:
            columns = ", ".join(f'"{c.name}"' for c in table.c)
            stored = set(_rows(conn, table, columns))
            expected = set(_rows(projected.conn, table, columns))
            if stored != expected:
                found.extend(_differences(table, [c.name for c in table.c], list(expected - stored),
                                          list(stored - expected)))
    return found


def _rows(conn: Connection, table: Table, columns: str) -> Iterator[tuple[Any, ...]]:
    """The table's rows as stored, days as ISO text (as SQLite keeps them), read without the column types'
    processing, so a value forged into a form the type cannot read (a day that is no date) is compared, not a
    crash."""
    dates = [i for i, c in enumerate(table.c) if isinstance(c.type, Date)] if conn.dialect.name != "sqlite" else []
    for row in conn.exec_driver_sql(f"SELECT {columns} FROM {table.name}"):  # noqa: S608 - the schema's own names
        if dates:
            values = list(row)
            for i in dates:
                if isinstance(values[i], date):
                    values[i] = values[i].isoformat()
            yield tuple(values)
        else:
            yield tuple(row)


def _differences(table: Table, names: list[str], expected_rows: list[tuple[Any, ...]],
                 stored_rows: list[tuple[Any, ...]]) -> list[Finding]:
    """Findings for the rows the log gives and the views do not hold as they are (``expected_rows``), and the
    rows the views hold that the log does not give (``stored_rows``): paired by key, a changed row."""
    key_at = [names.index(c.name) for c in table.primary_key.columns]
    expected = {tuple(row[i] for i in key_at): row for row in expected_rows}
    found: list[Finding] = []
    for row in sorted(stored_rows, key=lambda r: tuple(str(r[i]) for i in key_at)):
        want = expected.pop(tuple(row[i] for i in key_at), None)
        if want is None:
            found.append(_finding(table, names, row, _("{table} {key}: in the read models but not in the log")))
        else:
            differs = "; ".join(_("{name} {views} in the views, {log} in the log").format(
                name=name, views=_value(name, have), log=_value(name, log))
                for name, have, log in zip(names, row, want, strict=True) if have != log or type(have) is not type(log))
            found.append(_finding(table, names, row, _("{table} {key}: {differences}"), differences=differs))
    for key in sorted(expected, key=lambda k: tuple(str(p) for p in k)):
        row = expected[key]
        if table is schema.malformed and row[1] not in runner.HANDLERS:
            continue  # a row of another topic it cannot read: a rebuild reads only the handled topics
        found.append(_finding(table, names, row, _("{table} {key}: in the log but not in the read models")))
    if len(found) > SHOWN_PER_TABLE:
        more = len(found) - SHOWN_PER_TABLE
        found = found[:SHOWN_PER_TABLE] + [Finding(VIEWS_DISAGREE, None, None, None, _(
            "{table}: {count} more rows disagree with the log").format(table=table.name, count=more))]
    return found


def _finding(table: Table, names: list[str], row: tuple[Any, ...], message: str, **more: str) -> Finding:
    values = dict(zip(names, row, strict=True))
    key = " ".join(str(values[c.name]) for c in table.primary_key.columns)
    position = values.get("position") if table is not schema.tracking else None
    ref, uscc = values.get("ref"), values.get("uscc")
    text = message.format(table=table.name, key=shown(key), **more)
    text = _("{finding} (grants projections rebuild puts the views right)").format(finding=text)
    return Finding(VIEWS_DISAGREE, position if isinstance(position, int) else None,
                   ref if isinstance(ref, str) else None, uscc if isinstance(uscc, str) else None, text)


def _value(name: str, value: Any) -> str:
    if name.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return amount(value)
    return shown(value)
