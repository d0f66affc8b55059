"""`report shares` and `report enterprise` read totals the projection keeps (per area, measure and
day; per enterprise and day; the half-paid span of each application): on every day they equal the
sums over the entries they stand for, corrections and backdated events included, on SQLite and
on PostgreSQL; and views of an older shape are replayed into the new one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bench.generate import generate
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from projections import reports, runner, schema
from tests.conftest import new_ledger
from tests.helpers import cli, cli_json, views_snapshot, write_lines

FAR = datetime(2999, 1, 1, tzinfo=UTC)  # known at a moment after everything: the sums over every entry
REPORT_DAY = date(2026, 1, 31)


def _corrections(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Revocations of paid awards (recorded after payments dated earlier), reversals recorded after the
    revocation but dated before it, recoveries, and payments entered late with an early date."""
    paid: dict[str, list[dict[str, Any]]] = {}
    approved: list[str] = []
    for line in lines:
        if line["op"] == "pay":
            paid.setdefault(line["ref"], []).append(line)
        if line["op"] == "approve":
            approved.append(line["ref"])
    refs = [ref for ref in paid if len(paid[ref]) >= 2][:6]
    fixes: list[dict[str, Any]] = []
    for i, ref in enumerate(refs[:4]):
        last = max(date.fromisoformat(p["date"]) for p in paid[ref])
        first = paid[ref][0]
        fixes.append({"op": "revoke", "ref": ref, "date": (last + timedelta(days=30)).isoformat(), "reason": "核查",
                      "document": f"文件{i}号"})
        fixes.append({"op": "reverse-payment", "ref": ref, "payer": first["payer"], "voucher": first["voucher"],
                      "date": (last + timedelta(days=10)).isoformat(), "reason": "录错"})
        fixes.append({"op": "recover", "ref": ref, "payer": paid[ref][-1]["payer"],
                      "amount_fen": max(1, int(paid[ref][-1]["amount_fen"]) // 2), "voucher": f"SR-{i}",
                      "date": (last + timedelta(days=60)).isoformat()})
    for i, ref in enumerate(refs[4:]):
        first = paid[ref][0]
        fixes.append({"op": "reverse-payment", "ref": ref, "payer": first["payer"], "voucher": first["voucher"],
                      "date": first["date"], "reason": "金额录入错误"})
        fixes.append({"op": "pay", "ref": ref, "payer": first["payer"], "amount_fen": first["amount_fen"],
                      "voucher": f"LATE-{i}", "date": first["date"]})
    return fixes


def _import(db_url: str, path: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Import lines; the synthetic province refuses some of its lines on purpose (exit 1)."""
    result = cli(db_url, "import", str(write_lines(path, lines)), "--json")
    assert result.exit_code in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _days() -> list[date | None]:
    day, days = date(2022, 8, 1), [None]
    while day < date(2026, 3, 1):
        days.append(day)
        day += timedelta(days=23)
    return [*days, date(2023, 12, 31), date(2024, 12, 31)]


def test_shares_and_enterprise_from_the_totals_equal_the_sums_of_the_entries_on_every_day(db_url, tmp_path):
    lines = generate(40, 3)
    assert _import(db_url, tmp_path / "province.jsonl", lines)["accepted"] > 400
    fixes = _corrections(lines)
    imported = _import(db_url, tmp_path / "fixes.jsonl", fixes)
    assert imported["accepted"] >= len(fixes) - 2, imported["refused"]
    engine = runner.make_engine(parse_store(db_url))
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(schema.entries.c.kind, func.count()).group_by(schema.entries.c.kind)).all())
    assert kinds.get("revocation", 0) >= 3 and kinds.get("recovery", 0) >= 3 and kinds.get("reversal", 0) >= 4
    total = reports.shares_report(engine)["total"]
    assert total["city_to_recover_fen"] + total["county_to_recover_fen"] > 0
    for day in _days():
        shares = reports.shares_report(engine, day, report_date=REPORT_DAY)
        summed = reports.shares_report(engine, day, report_date=REPORT_DAY, known_at=FAR)
        assert shares == summed, day
        assert reports.enterprise_report(engine, day) == reports.enterprise_report(engine, day, known_at=FAR), day
        _a_page_is_the_head_of_the_whole(engine, day, shares)
    for start, end in ((date(2022, 1, 1), date(2026, 12, 31)), (date(2023, 3, 1), date(2023, 9, 30)),
                       (date(2024, 2, 29), date(2024, 2, 29))):
        period = reports.shares_report(engine, period=(start, end))["period"]
        assert period == reports.shares_report(engine, period=(start, end), known_at=FAR)["period"], (start, end)
        assert period["treasuries"] or start == end
    engine.dispose()


def _a_page_is_the_head_of_the_whole(engine: Any, day: date | None, shares: dict[str, Any]) -> None:
    """A report asked for its first rows (a table printed without --all) has the whole list's first rows, its
    count and its totals, summed by the database; the half-paid list is oldest first, and each of its
    awards has one half paid more than the other."""
    half = shares["half_paid"]
    assert half == sorted(half, key=lambda h: (h["since"] or "", h["ref"]))
    assert all(h["city_outstanding_fen"] != h["county_outstanding_fen"] for h in half)
    for known_at in (None, FAR):
        for limit in (1, 3, 10_000):
            page = reports.shares_report(engine, day, report_date=REPORT_DAY, known_at=known_at, limit=limit)
            assert page["half_paid"] == half[:limit] and page["half_paid_count"] == len(half), (day, known_at)
            assert {k: v for k, v in page.items() if k != "half_paid_count"} | {"half_paid": half} == shares
            whole = reports.enterprise_report(engine, day, known_at=known_at)["enterprises"]
            page = reports.enterprise_report(engine, day, known_at=known_at, limit=limit)
            assert page["enterprises"] == whole[:limit] and page["count"] == len(whole), (day, known_at)
            assert page["total"] == {k: sum(e[k] for e in whole) for k in ("awarded_fen", "city_paid_fen",
                                                                            "county_paid_fen")}


@pytest.mark.parametrize(("page", "remembered"), [(1000, runner.REMEMBERED), (7, 0)])
def test_a_rebuild_writes_the_rows_and_totals_the_catch_up_wrote(db_url, tmp_path, monkeypatch, page, remembered):
    """A rebuild writes the running totals per enterprise and day and the half-paid spans once, at the
    end, from its entries; a catch-up adds to them page by page: the same rows, corrections and
    backdated entries included, whatever the page and however little the pass keeps in memory."""
    lines = generate(30, 4)
    assert _import(db_url, tmp_path / "province.jsonl", lines)["accepted"] > 300
    assert _import(db_url, tmp_path / "fixes.jsonl", _corrections(lines))["accepted"] > 10
    store = parse_store(db_url)
    engine = runner.make_engine(store)
    ledger = GrantsLedger(store, create_tables=False)


    caught_up = views_snapshot(engine)
    assert len(caught_up["rm_enterprise_days"]) > 100
    assert sum(row[-2] != "None" for row in caught_up["rm_applications"]) > 5  # half-paid spans
    monkeypatch.setattr(runner, "REMEMBERED", remembered)
    assert runner.rebuild(ledger, engine, page=page) == ledger.recorder.max_notification_id()
    assert views_snapshot(engine) == caught_up
    ledger.close()
    engine.dispose()


def test_the_half_paid_awards_are_those_the_entries_show(db_url, tmp_path):
    assert _import(db_url, tmp_path / "province.jsonl", generate(25, 5))["accepted"] > 200
    engine = runner.make_engine(parse_store(db_url))
    cli_json(db_url, "report", "shares")  # brings the views up to date
    found = 0
    for day in _days():
        half = reports.shares_report(engine, day, report_date=REPORT_DAY)["half_paid"]
        assert half == reports.shares_report(engine, day, report_date=REPORT_DAY, known_at=FAR)["half_paid"], day
        found += len(half)
    assert found > 0  # the province has halves paid by one treasury before the other
    a = schema.applications
    with engine.connect() as conn:  # what the projection keeps for a page of them, as things stand
        kept = dict(conn.execute(select(a.c.ref, a.c.half_paid_since).where(a.c.half_paid_until == schema.OPEN)).all())
    now = reports.shares_report(engine, report_date=REPORT_DAY)["half_paid"]
    assert {h["ref"]: h["since"] for h in now} == {ref: day and day.isoformat() for ref, day in kept.items()}
    assert len(now) > 3
    engine.dispose()


def test_views_of_an_older_shape_are_replayed_into_the_new_one(tmp_path):
    url = new_ledger(tmp_path, "l.db")
    assert _import(url, tmp_path / "p.jsonl", generate(8, 2))["accepted"] > 50
    now = cli_json(url, "report", "shares")
    store = parse_store(url)
    engine = runner.make_engine(store)
    with engine.begin() as conn:  # as an older release left them: another shape, no totals
        conn.execute(update(schema.tracking).where(schema.tracking.c.name == runner.VERSION_NAME)
                     .values(position=schema.VIEWS_VERSION - 1))
        conn.execute(schema.day_totals.delete())
    runner.create_views(engine)
    assert runner.position(engine) == 0
    ledger = GrantsLedger(store, create_tables=False)
    assert runner.catch_up(ledger, engine) == ledger.recorder.max_notification_id()
    assert cli_json(url, "report", "shares") == now
    ledger.close()
    engine.dispose()
