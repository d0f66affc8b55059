"""The read models as the ledger knew them at a moment (``--known-at``): only what was recorded by
then, read from the live view tables, with no replay of the log.

An event's recording time is the ``timestamp`` the library stamps on it when it is created
(UTC), stored inside the event; the projection copies it onto the rows it writes, in
microseconds since 1970-01-01 UTC (``*_us`` columns, ``schema.py``):

- an enterprise, or an entry (approval, payment, correction, external award), is known at a
  moment if it was recorded by then;
- an application goes through at most three recorded steps: filed (``submitted_us``),
  decided (``decided_us``: approved, rejected or withdrawn) and revoked (``revoked_us``). As
  known at a moment it is the step reached by then: a decision recorded later leaves it
  submitted (no decision day, no amounts), a revocation recorded later leaves it approved.

So ``enterprises(m)``, ``entries(m)`` and ``applications(m)`` are the three tables cut at the
moment, with the tables' own column names: the reports run their very queries on them, and a
report known at a moment equals what it printed then (``tests/integration/test_known_at.py``).
These read every row recorded by then; the totals the plain reports read are of the present.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, literal, select

from ledger.domain.aggregates import APPROVED, REVOKED, SUBMITTED
from projections import schema

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A recording time as the view tables keep it: whole microseconds since 1970-01-01 UTC."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def enterprises(moment: datetime | None) -> Any:
    e = schema.enterprises
    if moment is None:
        return e
    return select(e).where(e.c.recorded_us <= micros(moment)).subquery("rm_enterprises_known")


def entries(moment: datetime | None) -> Any:
    x = schema.entries
    if moment is None:
        return x
    return select(x).where(x.c.recorded_us <= micros(moment)).subquery("rm_entries_known")


def applications(moment: datetime | None) -> Any:
    a = schema.applications
    if moment is None:
        return a
    at = micros(moment)
    decided = a.c.decided_us <= at
    revoked = a.c.revoked_us <= at

    def if_decided(column: Any, otherwise: Any) -> Any:
        return case((decided, column), else_=otherwise).label(column.name)

    status = case((revoked, literal(REVOKED)), (decided & (a.c.status == REVOKED), literal(APPROVED)),
                  (decided, a.c.status), else_=literal(SUBMITTED)).label("status")
    amounts = [if_decided(a.c[name], literal(0)) for name in ("entitlement_fen", "awarded_fen", "city_share_fen",
                                                              "county_share_fen")]
    return (select(a.c.ref, a.c.uscc, a.c.measure, a.c.project, a.c.applied_on, a.c.policy_version, status,
                   if_decided(a.c.decided_on, None),
                   case((revoked, a.c.revoked_on), else_=None).label("revoked_on"), *amounts)
            .where(a.c.submitted_us <= at).subquery("rm_applications_known"))
