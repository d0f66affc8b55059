"""Reports read the view tables only: sums of the entries, cut at a date.

"As of" a date means: the events dated after it are ignored (an approval dated
later is not yet an obligation, a payment dated later not yet paid).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from ledger.areas import AREAS
from projections import schema


def _cut(column: Any, as_of: date | None) -> Any:
    return True if as_of is None else column <= as_of


def _registered_by(as_of: date | None) -> Any:
    e = schema.enterprises
    return True if as_of is None else or_(e.c.registered_on.is_(None), e.c.registered_on <= as_of)


def enterprise_report(engine: Engine, as_of: date | None = None) -> dict[str, Any]:
    e, x = schema.enterprises, schema.entries
    awarded = func.coalesce(func.sum(case((x.c.kind == "award", x.c.amount_fen), else_=0)), 0)
    city_paid = func.coalesce(func.sum(case((and_(x.c.kind == "payment", x.c.payer == "city"), x.c.amount_fen),
                                            else_=0)), 0)
    county_paid = func.coalesce(func.sum(case((and_(x.c.kind == "payment", x.c.payer == "county"), x.c.amount_fen),
                                              else_=0)), 0)
    query = (
        select(e.c.uscc, e.c.name, e.c.area, awarded.label("awarded_fen"), city_paid.label("city_paid_fen"),
               county_paid.label("county_paid_fen"))
        .select_from(e.outerjoin(x, and_(x.c.uscc == e.c.uscc, _cut(x.c.date, as_of))))
        .where(_registered_by(as_of))
        .group_by(e.c.uscc, e.c.name, e.c.area)
        .order_by(e.c.uscc)
    )
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        for key in ("awarded_fen", "city_paid_fen", "county_paid_fen"):
            row[key] = int(row[key])
    return {"as_of": as_of.isoformat() if as_of else None, "enterprises": rows}


def shares_report(engine: Engine, as_of: date | None = None) -> dict[str, Any]:
    """Per area: what the city and the area's treasury owe (their halves of every approved
    award, the whole obligation) and what each has paid."""
    e, x = schema.enterprises, schema.entries
    is_award = x.c.kind == "award"
    sums = {
        "city_owed_fen": func.sum(case((is_award, x.c.city_fen), else_=0)),
        "county_owed_fen": func.sum(case((is_award, x.c.county_fen), else_=0)),
        "city_paid_fen": func.sum(case((and_(x.c.kind == "payment", x.c.payer == "city"), x.c.amount_fen), else_=0)),
        "county_paid_fen": func.sum(case((and_(x.c.kind == "payment", x.c.payer == "county"), x.c.amount_fen),
                                         else_=0)),
    }
    query = (select(x.c.area, *[func.coalesce(v, 0).label(k) for k, v in sums.items()])
             .where(_cut(x.c.date, as_of)).group_by(x.c.area))
    areas_query = select(e.c.area).where(_registered_by(as_of)).distinct()
    with engine.connect() as conn:
        figures = {row.area: row._mapping for row in conn.execute(query)}
        present = {row.area for row in conn.execute(areas_query)} | set(figures)
    order = {area: i for i, area in enumerate(AREAS)}
    rows = []
    for area in sorted(present, key=lambda a: order.get(a, len(order))):
        found = figures.get(area, {})
        rows.append({"area": area, **{k: int(found.get(k, 0) or 0) for k in sums}})
    totals = {k: sum(r[k] for r in rows) for k in sums}
    return {"as_of": as_of.isoformat() if as_of else None, "areas": rows, "total": totals}


def applications_report(engine: Engine, as_of: date | None = None, status: str | None = None) -> dict[str, Any]:
    """Every application with its status, award and what each payer still owes, as of a date."""
    a, x = schema.applications, schema.entries
    decided = True if as_of is None else a.c.decided_on <= as_of
    paid = (select(x.c.ref,
                   func.sum(case((x.c.payer == "city", x.c.amount_fen), else_=0)).label("city_paid_fen"),
                   func.sum(case((x.c.payer == "county", x.c.amount_fen), else_=0)).label("county_paid_fen"))
            .where(x.c.kind == "payment", _cut(x.c.date, as_of)).group_by(x.c.ref).subquery())
    is_decided = and_(a.c.decided_on.is_not(None), decided)
    approved = and_(a.c.status == "approved", is_decided)
    query = (
        select(a.c.ref, a.c.uscc, a.c.measure, a.c.project, a.c.applied_on,
               case((is_decided, a.c.status), else_="submitted").label("status"),
               case((is_decided, a.c.decided_on), else_=None).label("decided_on"),
               case((approved, a.c.awarded_fen), else_=0).label("awarded_fen"),
               case((approved, a.c.city_share_fen), else_=0).label("city_share_fen"),
               case((approved, a.c.county_share_fen), else_=0).label("county_share_fen"),
               func.coalesce(paid.c.city_paid_fen, 0).label("city_paid_fen"),
               func.coalesce(paid.c.county_paid_fen, 0).label("county_paid_fen"))
        .select_from(a.outerjoin(paid, paid.c.ref == a.c.ref))
        .where(_cut(a.c.applied_on, as_of))
        .order_by(a.c.applied_on, a.c.ref)
    )
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        for key in ("awarded_fen", "city_share_fen", "county_share_fen", "city_paid_fen", "county_paid_fen"):
            row[key] = int(row[key] or 0)
        row["applied_on"] = row["applied_on"].isoformat()
        row["decided_on"] = row["decided_on"].isoformat() if row["decided_on"] else None
        row["city_outstanding_fen"] = row["city_share_fen"] - row["city_paid_fen"]
        row["county_outstanding_fen"] = row["county_share_fen"] - row["county_paid_fen"]
    if status is not None:
        rows = [row for row in rows if row["status"] == status]
    return {"as_of": as_of.isoformat() if as_of else None, "applications": rows}
