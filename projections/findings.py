"""就高不重复 after the fact, for the whole ledger: projects that hold more than their highest single award on
some day (an overlap with an award under another policy) and top-ups owed a re-decision since a lower award
under them was revoked (``rules.project_findings``, ADR 0003 "Every day, not just today").

The read models pick the enterprises that can have one (an award under another policy, or two awards of this
policy on one project); only those are replayed from the log, so the cost follows them, not the ledger.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select, union

from ledger.domain import rules
from ledger.domain.aggregates import APPROVED, REVOKED
from ledger.service import trail
from ledger.service.application import GrantsLedger
from projections import schema


def _candidates(engine: Engine) -> list[str]:
    a, x = schema.applications, schema.entries
    query = union(
        select(x.c.uscc).where(x.c.kind == schema.EXTERNAL),
        select(a.c.uscc).where(a.c.status.in_((APPROVED, REVOKED))).group_by(a.c.uscc, a.c.project)
        .having(func.count() > 1))
    with engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(query))


def project_findings(ledger: GrantsLedger, engine: Engine, as_of: date | None = None,
                     known_at: datetime | None = None) -> list[dict[str, Any]]:
    """Every overlap and every top-up owed a re-decision, as the ledger knew it at ``known_at`` (all of it when
    None), that holds on or before ``as_of`` (when given); each as plain data with its message."""
    unit = rules.unit_of_book(ledger.policy_book())
    found: list[dict[str, Any]] = []
    for uscc in _candidates(engine):
        enterprise = trail.known_at(ledger.enterprise_events(uscc), known_at)
        if enterprise is None:
            continue
        for f in rules.project_findings(enterprise, unit):
            if as_of is None or f.day <= as_of:
                found.append(f.as_dict() | {"name": enterprise.name})
    return found
