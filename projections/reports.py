"""Reports read the view tables only: sums of the entries, cut at a date.

"As of" a date means: the events dated after it are ignored (an approval dated
later is not yet an obligation, a payment dated later not yet paid, a revocation
or reversal dated later not yet made). Every figure is net of corrections: what is
owed counts only awards in force (awards less revocations), what is paid is
payments less reversals less recoveries. Each figure (owed, paid, due, to recover,
gap, an award lagging) is defined once, in ``projections/figures.py``.

`report shares` and `report enterprise` read the totals the projection keeps
(``projections/totals.py``): per area, measure and day, per enterprise and day, and
the applications paid more by one payer than the other; so they cost the same at any
size of the log. "Known at" a moment (``known_at``) they sum the entries recorded by
then (``projections/known_at.py``), with the queries the totals stand for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, not_, or_, select

from ledger.domain.aggregates import APPROVED, REVOKED, SUBMITTED
from ledger.domain.areas import AREAS, CITY, COUNTY
from projections import figures, schema
from projections import known_at as known


def _cut(column: Any, as_of: date | None) -> Any:
    return True if as_of is None else column <= as_of


def _registered_by(as_of: date | None, e: Any = schema.enterprises) -> Any:
    return True if as_of is None else or_(e.c.registered_on.is_(None), e.c.registered_on <= as_of)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _paid_by(payer: str, x: Any = schema.entries) -> Any:
    return and_(x.c.kind.in_(schema.PAID_KINDS), x.c.payer == payer)


def enterprise_report(engine: Engine, as_of: date | None = None, *, known_at: datetime | None = None,
                      limit: int | None = None) -> dict[str, Any]:
    """Per enterprise registered by ``as_of``: awarded (in force) and paid by each payer, net.

    With ``limit``, only the first ``limit`` enterprises, with ``count`` (how many there are) and
    ``total`` (their sums), summed by the database: a page of a long list, without reading it all."""
    if known_at is not None:
        query = _enterprises_summed(as_of, known.enterprises(known_at), known.entries(known_at))
    elif as_of is None:
        e = schema.enterprises
        query = (select(e.c.uscc, e.c.name, e.c.area, e.c.awarded_fen, e.c.city_paid_fen, e.c.county_paid_fen)
                 .order_by(e.c.uscc))
    else:
        query = _enterprises_running(as_of)
    sums = ("awarded_fen", "city_paid_fen", "county_paid_fen")
    data: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None}
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query if limit is None else query.limit(limit))]
        if limit is not None:
            every = query.subquery()
            found = conn.execute(select(func.count(), *[func.coalesce(func.sum(every.c[k]), 0) for k in sums])).one()
            data["count"], data["total"] = int(found[0]), {k: int(v) for k, v in zip(sums, found[1:], strict=True)}
    for row in rows:
        for key in sums:
            row[key] = int(row[key])
    data["enterprises"] = rows
    return data


def _enterprises_running(as_of: date) -> Any:
    """Each enterprise registered by ``as_of`` with its running totals of the last day it had a movement
    on or before ``as_of`` (one indexed read per enterprise), zeros if none."""
    e, d = schema.enterprises, schema.enterprise_days
    days = d.alias("days")
    last = (select(func.max(days.c.date)).where(days.c.uscc == e.c.uscc, days.c.date <= as_of)
            .correlate(e).scalar_subquery())
    return (select(e.c.uscc, e.c.name, e.c.area,
                   *[func.coalesce(d.c[n], 0).label(n) for n in ("awarded_fen", "city_paid_fen", "county_paid_fen")])
            .select_from(e.outerjoin(d, and_(d.c.uscc == e.c.uscc, d.c.date == last)))
            .where(_registered_by(as_of))
            .order_by(e.c.uscc))


def _enterprises_summed(as_of: date | None, e: Any, x: Any) -> Any:
    """What the totals stand for: each enterprise's entries summed (read for --known-at)."""
    awarded = func.coalesce(func.sum(case((x.c.kind.in_(schema.OWED_KINDS), x.c.amount_fen), else_=0)), 0)
    city_paid = func.coalesce(func.sum(case((_paid_by(CITY, x), x.c.amount_fen), else_=0)), 0)
    county_paid = func.coalesce(func.sum(case((_paid_by(COUNTY, x), x.c.amount_fen), else_=0)), 0)
    return (
        select(e.c.uscc, e.c.name, e.c.area, awarded.label("awarded_fen"), city_paid.label("city_paid_fen"),
               county_paid.label("county_paid_fen"))
        .select_from(e.outerjoin(x, and_(x.c.uscc == e.c.uscc, _cut(x.c.date, as_of))))
        .where(_registered_by(as_of, e))
        .group_by(e.c.uscc, e.c.name, e.c.area)
        .order_by(e.c.uscc)
    )


def _share_sums(as_of: date | None, x: Any = schema.entries) -> dict[str, Any]:
    is_owed = x.c.kind.in_(schema.OWED_KINDS)
    revoked = x.c.ref.in_(select(x.c.ref).where(x.c.kind == schema.REVOCATION, _cut(x.c.date, as_of)))
    return {
        "city_owed_fen": func.sum(case((is_owed, x.c.city_fen), else_=0)),
        "county_owed_fen": func.sum(case((is_owed, x.c.county_fen), else_=0)),
        "city_paid_fen": func.sum(case((_paid_by(CITY, x), x.c.amount_fen), else_=0)),
        "county_paid_fen": func.sum(case((_paid_by(COUNTY, x), x.c.amount_fen), else_=0)),
        # paid net on awards revoked by then: money to come back (追回), not paid on what is owed
        "city_to_recover_fen": func.sum(case((and_(_paid_by(CITY, x), revoked), x.c.amount_fen), else_=0)),
        "county_to_recover_fen": func.sum(case((and_(_paid_by(COUNTY, x), revoked), x.c.amount_fen), else_=0)),
    }


def shares_report(engine: Engine, as_of: date | None = None, *, report_date: date | None = None,
                  period: tuple[date, date] | None = None, known_at: datetime | None = None,
                  limit: int | None = None) -> dict[str, Any]:
    """Per area and per measure: what the city and the area's treasury owe (their halves of every award
    in force, the whole obligation), what each has paid net of reversals and recoveries (on every award,
    revoked ones included), what of that is to recover, what is still due and the gap between the two
    halves paid (``figures.completed``); the applications one payer has paid and the other not,
    with the days since (as of ``report_date``, default the as-of day); with ``period``, the payments
    per treasury between two dates. With ``limit``, only the first ``limit`` of those applications, and
    ``half_paid_count``: how many there are."""
    if known_at is None:
        t = schema.day_totals
        labelled = [func.coalesce(func.sum(t.c[k]), 0).label(k) for k in schema.SUMS]
        query = (select(t.c.key.label("area"), *labelled)
                 .where(t.c.scope == schema.AREA_SCOPE, _cut(t.c.date, as_of)).group_by(t.c.key))
        by_measure = (select(t.c.key.label("measure"), *labelled)
                      .where(t.c.scope == schema.MEASURE_SCOPE, _cut(t.c.date, as_of))
                      .group_by(t.c.key).order_by(t.c.key))
        areas_query = None  # an area's day totals start on the day its first enterprise registered
    else:
        e, x = known.enterprises(known_at), known.entries(known_at)
        sums = _share_sums(as_of, x)
        labelled = [func.coalesce(v, 0).label(k) for k, v in sums.items()]
        query = select(x.c.area, *labelled).where(_cut(x.c.date, as_of)).group_by(x.c.area)
        by_measure = (select(x.c.measure, *labelled).where(_cut(x.c.date, as_of), x.c.measure.is_not(None))
                      .group_by(x.c.measure).order_by(x.c.measure))
        areas_query = select(e.c.area).where(_registered_by(as_of, e)).distinct()
    sums = dict.fromkeys(schema.SUMS)
    with engine.connect() as conn:
        by_area = {row.area: dict(row._mapping) for row in conn.execute(query)}
        present = set(by_area) if areas_query is None else {row.area for row in conn.execute(areas_query)} | set(by_area)
        measures = [figures.completed({"measure": row.measure, **{k: int(row._mapping[k] or 0) for k in sums}})
                    for row in conn.execute(by_measure)]
        half_paid, half_paid_count = _half_paid(conn, as_of, report_date or as_of, known_at, limit)
        payments = _payments_between(conn, *period, known_at) if period else None
    order = {area: i for i, area in enumerate(AREAS)}
    rows = []
    for area in sorted(present, key=lambda a: order.get(a, len(order))):
        found: Mapping[str, Any] = by_area.get(area, {})
        rows.append(figures.completed({"area": area, **{k: int(found.get(k, 0) or 0) for k in sums}}))
    totals = figures.completed({k: sum(r[k] for r in rows) for k in sums})
    data: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, "areas": rows, "total": totals,
            "report_date": _iso(report_date or as_of),
            "measures": measures, "half_paid": half_paid}
    if limit is not None:
        data["half_paid_count"] = half_paid_count
    if period:
        data["period"] = {"from": period[0].isoformat(), "to": period[1].isoformat(), "treasuries": payments}
    return data


def _half_paid(conn: Any, as_of: date | None, report_date: date | None, known_at: datetime | None = None,
               limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Awards in force on which one payer has paid (net) a smaller part of its own half than the other has of
    its own (``figures.behind``): ``paid_by`` is the payer ahead, ``behind_fen`` how far the other is behind,
    ``since`` the first payment of the payer ahead;
    oldest first (no first payment first, then by ref); the first ``limit`` of them (all when None), and
    how many there are. Only the entries of the applications whose span of such days (``rm_applications``,
    kept by the projection) holds the as-of day are summed; known at a moment, every entry recorded by then.
    The database filters, orders and cuts them, so a page of a long list reads no more rows than it shows."""
    x = known.entries(known_at)
    a = schema.applications
    count = None
    if known_at is None and as_of is None and limit is not None:
        # As things stand, the projection keeps which awards are half paid and since when (the same test
        # and day as below): the page is an ordered read of those, summed like the rest.
        still = a.c.half_paid_until == schema.OPEN
        page = select(a.c.ref).where(still).order_by(*_oldest_first(a.c.half_paid_since, a.c.ref)).limit(limit)
        candidates = x.c.ref.in_(page.scalar_subquery())
        count = int(conn.execute(select(func.count()).select_from(a).where(still)).scalar_one())
        limit = None
    elif known_at is not None:
        candidates = x.c.ref.is_not(None)
    elif as_of is None:
        candidates = x.c.ref.in_(select(a.c.ref).where(a.c.half_paid_until == schema.OPEN))
    else:
        candidates = x.c.ref.in_(select(a.c.ref).where(a.c.half_paid_until > as_of, a.c.half_paid_from <= as_of))
    is_owed = x.c.kind.in_(schema.OWED_KINDS)
    first_paid = {payer: func.min(case((and_(x.c.kind == schema.PAYMENT, x.c.payer == payer), x.c.date), else_=None))
                  for payer in (CITY, COUNTY)}
    g = (select(x.c.ref, x.c.uscc, x.c.area, x.c.measure,
                func.sum(case((is_owed, x.c.city_fen), else_=0)).label("city_owed"),
                func.sum(case((is_owed, x.c.county_fen), else_=0)).label("county_owed"),
                func.sum(case((_paid_by(CITY, x), x.c.amount_fen), else_=0)).label("city_paid"),
                func.sum(case((_paid_by(COUNTY, x), x.c.amount_fen), else_=0)).label("county_paid"),
                first_paid[CITY].label("city_first"), first_paid[COUNTY].label("county_first"))
         .where(_cut(x.c.date, as_of), candidates)
         .group_by(x.c.ref, x.c.uscc, x.c.area, x.c.measure)).subquery()
    lagging, city_behind = figures.behind_sql(g.c.city_owed, g.c.county_owed, g.c.city_paid, g.c.county_paid)
    since = figures.ahead_first(city_behind, g.c.city_first, g.c.county_first)
    query = (select(g, since.label("since"), func.count().over().label("found"))
             .where(lagging)  # in force, one half paid in a smaller part than the other
             .order_by(*_oldest_first(since, g.c.ref)))
    found, found_count = [], 0
    for row in conn.execute(query if limit is None else query.limit(limit)):
        found_count = int(row.found)
        city_owed, county_owed = int(row.city_owed), int(row.county_owed)
        city_paid, county_paid = int(row.city_paid), int(row.county_paid)
        lag = figures.behind(city_owed, county_owed, city_paid, county_paid)
        if lag is None:  # the query's condition is the same test (exact on SQLite up to 3,000万 yuan a half)
            continue
        not_paid_by, behind_fen = lag
        day = date.fromisoformat(row.since) if isinstance(row.since, str) else row.since
        found.append({"ref": row.ref, "uscc": row.uscc, "area": row.area, "measure": row.measure,
                      "paid_by": figures.other(not_paid_by), "not_paid_by": not_paid_by,
                      "city_paid_fen": city_paid, "county_paid_fen": county_paid,
                      "city_outstanding_fen": city_owed - city_paid, "county_outstanding_fen": county_owed - county_paid,
                      "behind_fen": behind_fen,
                      "since": day.isoformat() if day else None,
                      "days_outstanding": (report_date - day).days if report_date and day else None})
    return found, found_count if count is None else count


def _oldest_first(since: Any, ref: Any) -> tuple[Any, ...]:
    """The order of the half-paid awards: those without a first payment first, then by its day, then by ref
    (the same whether read from the projection's page or summed from the entries)."""
    return case((since.is_(None), 0), else_=1), since, ref


def _payments_between(conn: Any, start: date, end: date, known_at: datetime | None = None) -> list[dict[str, Any]]:
    """Per treasury (the city's, or an area's for the county half): payments, reversals and recoveries
    dated from ``start`` to ``end`` inclusive, and the net."""
    kinds = {"payments_fen": schema.PAYMENT, "reversals_fen": schema.REVERSAL, "recoveries_fen": schema.RECOVERY}
    if known_at is None:
        found = _treasury_totals(conn, start, end)
    else:
        x = known.entries(known_at)
        treasury = case((x.c.payer == CITY, CITY), else_=x.c.area)
        query = (select(treasury.label("treasury"),
                        *[func.sum(case((x.c.kind == kind, x.c.amount_fen), else_=0)).label(k)
                          for k, kind in kinds.items()],
                        func.sum(case((x.c.kind == schema.PAYMENT, 1), else_=0)).label("count"))
                 .where(x.c.kind.in_(schema.PAID_KINDS), x.c.date >= start, x.c.date <= end)
                 .group_by(treasury))
        found = [dict(row._mapping) for row in conn.execute(query)]
    order = {CITY: -1, **{area: i for i, area in enumerate(AREAS)}}
    rows = []
    for row in found:
        r = {"treasury": row["treasury"], "payments": int(row["count"]), **{k: abs(int(row[k] or 0)) for k in kinds}}
        r["net_fen"] = r["payments_fen"] - r["reversals_fen"] - r["recoveries_fen"]
        rows.append(r)
    rows.sort(key=lambda r: order.get(r["treasury"], len(order)))
    return rows


def _treasury_totals(conn: Any, start: date, end: date) -> list[dict[str, Any]]:
    """``_payments_between``'s sums from the areas' day totals: the city's treasury is the city half of
    every area, an area's treasury its county half; a treasury is listed if money moved in the period."""
    t = schema.day_totals
    names = ("payments", "payments_fen", "reversals_fen", "recoveries_fen", "moves")
    query = (select(t.c.key, *[func.sum(t.c[f"{p}_{n}"]).label(f"{p}_{n}") for p in (CITY, COUNTY) for n in names])
             .where(t.c.scope == schema.AREA_SCOPE, t.c.date >= start, t.c.date <= end).group_by(t.c.key))
    city = dict.fromkeys(names, 0)
    found = []
    for row in conn.execute(query):
        sums = {f"{p}_{n}": int(row._mapping[f"{p}_{n}"] or 0) for p in (CITY, COUNTY) for n in names}
        for n in names:
            city[n] += sums[f"{CITY}_{n}"]
        if sums[f"{COUNTY}_moves"]:
            found.append({"treasury": row.key, "count": sums[f"{COUNTY}_payments"],
                          **{n: sums[f"{COUNTY}_{n}"] for n in ("payments_fen", "reversals_fen", "recoveries_fen")}})
    if city["moves"]:
        found.append({"treasury": CITY, "count": city["payments"],
                      **{n: city[n] for n in ("payments_fen", "reversals_fen", "recoveries_fen")}})
    return found


def applications_report(engine: Engine, as_of: date | None = None, status: str | None = None, *,
                        known_at: datetime | None = None) -> dict[str, Any]:
    """Every application with its status, award in force and what each payer still owes, as of a date."""
    a, x = known.applications(known_at), known.entries(known_at)
    paid = (select(x.c.ref,
                   func.sum(case((x.c.payer == CITY, x.c.amount_fen), else_=0)).label("city_paid_fen"),
                   func.sum(case((x.c.payer == COUNTY, x.c.amount_fen), else_=0)).label("county_paid_fen"))
            .where(x.c.kind.in_(schema.PAID_KINDS), _cut(x.c.date, as_of)).group_by(x.c.ref).subquery())
    # The award and its halves as decided by then (its approval and any re-decision dated and known by then),
    # from the entries: the application's row holds only the latest.
    owed = (select(x.c.ref, func.sum(x.c.amount_fen).label("awarded_fen"), func.sum(x.c.city_fen).label("city_fen"),
                   func.sum(x.c.county_fen).label("county_fen"))
            .where(x.c.kind.in_(schema.OWED_KINDS), _cut(x.c.date, as_of)).group_by(x.c.ref).subquery())
    is_decided = and_(a.c.decided_on.is_not(None), _cut(a.c.decided_on, as_of))
    is_revoked = and_(a.c.revoked_on.is_not(None), _cut(a.c.revoked_on, as_of))
    in_force = and_(a.c.status.in_((APPROVED, REVOKED)), is_decided, not_(is_revoked))
    status_then = case((is_revoked, REVOKED), (and_(is_decided, a.c.status == REVOKED), APPROVED),
                       (is_decided, a.c.status), else_=SUBMITTED)
    query = (
        select(a.c.ref, a.c.uscc, a.c.measure, a.c.project, a.c.applied_on,
               status_then.label("status"),
               case((is_decided, a.c.decided_on), else_=None).label("decided_on"),
               case((is_revoked, a.c.revoked_on), else_=None).label("revoked_on"),
               case((in_force, owed.c.awarded_fen), else_=0).label("awarded_fen"),
               case((in_force, owed.c.city_fen), else_=0).label("city_share_fen"),
               case((in_force, owed.c.county_fen), else_=0).label("county_share_fen"),
               func.coalesce(paid.c.city_paid_fen, 0).label("city_paid_fen"),
               func.coalesce(paid.c.county_paid_fen, 0).label("county_paid_fen"))
        .select_from(a.outerjoin(paid, paid.c.ref == a.c.ref).outerjoin(owed, owed.c.ref == a.c.ref))
        .where(_cut(a.c.applied_on, as_of))
        .order_by(a.c.applied_on, a.c.ref)
    )
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        for key in ("awarded_fen", "city_share_fen", "county_share_fen", "city_paid_fen", "county_paid_fen"):
            row[key] = int(row[key] or 0)
        for key in ("applied_on", "decided_on", "revoked_on"):
            row[key] = row[key].isoformat() if row[key] else None
        row |= figures.per_application({p: row[f"{p}_share_fen"] for p in figures.PAYERS},
                                       {p: row[f"{p}_paid_fen"] for p in figures.PAYERS}, row["status"] == REVOKED)
    if status is not None:
        rows = [row for row in rows if row["status"] == status]
    return {"as_of": as_of.isoformat() if as_of else None, "applications": rows}


def payments_by_month(engine: Engine, as_of: date | None = None, *,
                      known_at: datetime | None = None) -> list[dict[str, Any]]:
    """Per calendar month (``YYYY-MM``) of the entries' dates, per payer: payments, reversals and
    recoveries (as positive amounts) and the net; every month from the first to the last with money
    moved, oldest first, a quiet month with zeros. Summed over the months, each payer's net is its
    ``paid_fen`` in ``shares_report`` for the same as-of day."""
    x = known.entries(known_at)
    year, month = func.extract("year", x.c.date), func.extract("month", x.c.date)
    query = (select(year.label("year"), month.label("month"), x.c.payer, x.c.kind,
                    func.sum(x.c.amount_fen).label("fen"), func.count().label("n"))
             .where(x.c.kind.in_(schema.PAID_KINDS), _cut(x.c.date, as_of))
             .group_by(year, month, x.c.payer, x.c.kind))
    names = {schema.PAYMENT: "payments", schema.REVERSAL: "reversals", schema.RECOVERY: "recoveries"}
    fields = [f"{p}_{k}" for p in (CITY, COUNTY) for k in ("payments", "payments_fen", "reversals_fen",
                                                            "recoveries_fen", "net_fen")]
    months: dict[tuple[int, int], dict[str, Any]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            key = (int(row.year), int(row.month))
            sums = months.setdefault(key, {"month": f"{key[0]:04d}-{key[1]:02d}", **dict.fromkeys(fields, 0)})
            sums[f"{row.payer}_{names[row.kind]}_fen"] += abs(int(row.fen))
            sums[f"{row.payer}_net_fen"] += int(row.fen)
            if row.kind == schema.PAYMENT:
                sums[f"{row.payer}_payments"] += int(row.n)
    if not months:
        return []
    (y, m), last = min(months), max(months)
    found = []
    while (y, m) <= last:
        found.append(months.get((y, m), {"month": f"{y:04d}-{m:02d}", **dict.fromkeys(fields, 0)}))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return found
