"""The whole-ledger checks of ``grants audit verify``: replay the log into the aggregates
(``ledger.validation``) and compare the read models with it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from ledger.areas import CITY, COUNTY
from ledger.i18n import _
from ledger.labels import label
from ledger.money import amount
from ledger.service import GrantsLedger
from ledger.validation import VIEWS_DISAGREE, Finding, History, Unreadable, replay
from projections import runner, schema

PAGE = 5000


def _events(ledger: GrantsLedger, stop: int, progress: Callable[[int], None] | None = None
            ) -> Iterator[tuple[int, Any]]:
    start = 1
    while start <= stop:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE, stop=stop)
        if not page:
            return
        for n in page:
            try:
                yield n.id, ledger.mapper.to_domain_event(n)
            except Exception as exc:  # noqa: BLE001 - an event that cannot be read is a finding, not a crash
                yield n.id, Unreadable(n.topic, exc)
        start = page[-1].id + 1
        if progress is not None:
            progress(page[-1].id)


def run_checks(ledger: GrantsLedger, engine: Engine, progress: Callable[[int], None] | None = None
               ) -> tuple[int, list[Finding]]:
    """Replay the whole log, run every check, and compare the read models with the log as it stood at their
    position (a reader who may not bring them up to date still has every event checked); (events replayed,
    findings).

    ``progress(position)`` is told the position replayed up to after each page."""
    upto = runner.position(engine)
    end = ledger.recorder.max_notification_id() or 0
    history, found = replay(_events(ledger, end, progress), checkpoint=upto,
                            at_checkpoint=lambda h: check_views(h, engine))
    return history.events, found


def check_views(h: History, engine: Engine) -> list[Finding]:
    """Read models that disagree with the log: each enterprise (name, area, awards under other policies),
    each application's status, award and halves, and what each payer has paid on it net, recomputed from
    the replayed aggregates."""
    a, x = schema.applications, schema.entries
    with engine.connect() as conn:
        stored = {r.ref: r for r in conn.execute(select(a.c.ref, a.c.uscc, a.c.status, a.c.awarded_fen,
                                                        a.c.city_share_fen, a.c.county_share_fen))}
        paid: dict[tuple[str, str], int] = defaultdict(int)
        for ref, payer, total in conn.execute(
                select(x.c.ref, x.c.payer, func.sum(x.c.amount_fen)).where(x.c.kind.in_(schema.PAID_KINDS))
                .group_by(x.c.ref, x.c.payer)):
            paid[(ref, payer)] = int(total)
        owed: dict[str, int] = {ref: int(total) for ref, total in conn.execute(
            select(x.c.ref, func.sum(x.c.amount_fen)).where(x.c.kind.in_(schema.OWED_KINDS)).group_by(x.c.ref))}
        external: dict[str, int] = {uscc: int(total) for uscc, total in conn.execute(
            select(x.c.uscc, func.sum(x.c.amount_fen)).where(x.c.kind == schema.EXTERNAL).group_by(x.c.uscc))}
        e = schema.enterprises
        registered = {r.uscc: (r.name, r.area) for r in conn.execute(select(e.c.uscc, e.c.name, e.c.area))}
    found: list[Finding] = []
    seen = set()
    for enterprise in h.enterprises.values():
        if registered.pop(enterprise.uscc, None) != (enterprise.name, enterprise.area):
            found.append(Finding(VIEWS_DISAGREE, None, None, enterprise.uscc,
                                 _("the enterprise's name or area in the read models is not the log's")))
        in_log = sum(a.amount_fen for a in enterprise.external_awards)
        if external.get(enterprise.uscc, 0) != in_log:
            found.append(Finding(VIEWS_DISAGREE, None, None, enterprise.uscc,
                                 _("awards under other policies: {views} in the views, {log} in the log").format(
                                     views=amount(external.get(enterprise.uscc, 0)), log=amount(in_log))))
        for app in enterprise.applications.values():
            seen.add(app.ref)
            row = stored.get(app.ref)
            if row is None:
                found.append(Finding(VIEWS_DISAGREE, None, app.ref, enterprise.uscc,
                                     _("the application is in the log but not in the read models")))
                continue
            log_side = {"status": app.status, "awarded_fen": app.awarded_fen, "city_share_fen": app.city_share_fen,
                        "county_share_fen": app.county_share_fen,
                        "owed_fen": app.awarded_fen if app.status == "approved" else 0,
                        "city_paid_fen": app.paid_fen(CITY), "county_paid_fen": app.paid_fen(COUNTY)}
            view_side = {"status": row.status, "awarded_fen": row.awarded_fen, "city_share_fen": row.city_share_fen,
                         "county_share_fen": row.county_share_fen, "owed_fen": owed.get(app.ref, 0),
                         "city_paid_fen": paid[(app.ref, CITY)], "county_paid_fen": paid[(app.ref, COUNTY)]}
            differs = [_("{name} {views} in the views, {log} in the log").format(
                name=k, views=_value(k, view_side[k]), log=_value(k, v)) for k, v in log_side.items()
                       if view_side[k] != v]
            if differs:
                found.append(Finding(VIEWS_DISAGREE, None, app.ref, enterprise.uscc,
                                     _("{differences} (grants projections rebuild puts the views right)").format(
                                         differences="; ".join(differs))))
    for uscc in sorted(registered):
        found.append(Finding(VIEWS_DISAGREE, None, None, uscc,
                             _("the enterprise is in the read models but not in the log")))
    for ref in sorted(set(stored) - seen):
        found.append(Finding(VIEWS_DISAGREE, None, ref, stored[ref].uscc,
                             _("the application is in the read models but not in the log")))
    return found


def _value(name: str, value: Any) -> str:
    """A compared value as people read it: amounts in yuan, statuses in words."""
    if name.endswith("_fen") and isinstance(value, int):
        return amount(value)
    return label(str(value))
