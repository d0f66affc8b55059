"""`grants report html`: one self-contained page whose charts show the figures of `report shares`,
checked in the file itself and, rendered, in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest

from commands.html_report import render_html
from ledger.domain.money import format_fen
from ledger.store.storage import parse_store
from projections import reports
from projections.runner import make_engine
from tests.helpers import cli, cli_json

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    found = Elements()
    found.feed(page)
    return found


def groups(page: Elements, key: str) -> list[dict[str, str]]:
    return [a for tag, a in page.tags if tag == "g" and key in a]


def bars(page: str, chart_id: str) -> dict[str, dict[str, int]]:
    """{group label: {series: fen}} of one chart, read from the markup."""
    start = page.index(f'id="{chart_id}"')
    chart = parse(page[start:page.index("</figure>", start)])
    found: dict[str, dict[str, int]] = {}
    label = ""
    for tag, a in chart.tags:
        if tag == "g":
            label = a["data-label"]
            found[label] = {}
        elif tag == "rect" and "data-series" in a:
            found[label][a["data-series"]] = int(a["data-fen"])
    return found


def assert_page_shows(page: str, shares: dict[str, Any], months: list[dict[str, Any]]) -> None:
    """The charts and totals of the page are the figures of `report shares --json`, to the fen."""
    by_area = bars(page, "areas-chart")
    assert list(by_area) == [a["area"] for a in shares["areas"]]
    for a in shares["areas"]:
        assert by_area[a["area"]] == {
            "city-owed": a["city_owed_fen"], "city-paid": a["city_paid_fen"],
            "county-owed": a["county_owed_fen"], "county-paid": a["county_paid_fen"]}
    area_groups = {g["data-area"]: g for g in groups(parse(page), "data-area")}
    for a in shares["areas"]:
        for key in ("city_owed_fen", "city_paid_fen", "city_to_recover_fen", "county_owed_fen", "county_paid_fen",
                    "county_to_recover_fen", "gap_fen"):
            assert int(area_groups[a["area"]]["data-" + key.replace("_", "-")]) == a[key], (a["area"], key)
    by_measure = bars(page, "measures-chart")
    for m in shares["measures"]:
        assert by_measure[m["measure"]] == {
            "owed": m["city_owed_fen"] + m["county_owed_fen"],
            "paid": m["city_paid_fen"] + m["county_paid_fen"]}
    by_month = bars(page, "months-chart")
    assert list(by_month) == [m["month"] for m in months]
    total = shares["total"]
    assert sum(b["city-net"] for b in by_month.values()) == total["city_paid_fen"]
    assert sum(b["county-net"] for b in by_month.values()) == total["county_paid_fen"]
    totals = next(a for tag, a in parse(page).tags if a.get("id") == "totals")
    assert {k: int(totals["data-" + k.replace("_", "-")]) for k in total if k.endswith("_fen")} == total
    text = "".join(parse(page).text)
    for fen in (total["city_owed_fen"], total["county_owed_fen"], total["city_outstanding_fen"]):
        assert format_fen(fen) in text


@pytest.fixture
def demo(db_url: str) -> str:
    result = cli(db_url, "demo")
    assert result.exit_code == 0, result.stderr
    return db_url


def test_the_page_shows_the_figures_of_report_shares_and_needs_no_network(demo, tmp_path):
    out = tmp_path / "报告.html"
    summary = cli_json(demo, "report", "html", str(out))
    assert summary["chain"] == "ok" and summary["findings"] == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page and '<html lang="en">' in page
    for external in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert external not in page, external
    shares = cli_json(demo, "report", "shares")
    engine = make_engine(parse_store(demo))
    try:
        months = reports.payments_by_month(engine)
    finally:
        engine.dispose()
    assert_page_shows(page, shares, months)
    assert 'data-chain="ok"' in page and 'data-findings="0"' in page
    outstanding = [a for a in cli_json(demo, "report", "applications")["applications"]
                   if a["city_outstanding_fen"] or a["county_outstanding_fen"]]
    assert outstanding and all(f'data-ref="{a["ref"]}"' in page for a in outstanding)
    assert all(f'data-ref="{h["ref"]}"' in page for h in shares["half_paid"])


def test_payments_per_month_add_up_to_what_each_payer_has_paid(demo):
    engine = make_engine(parse_store(demo))
    try:
        for day in (None, date(2023, 9, 30)):
            months = reports.payments_by_month(engine, day)
            total = reports.shares_report(engine, day)["total"]
            assert months and all(m["month"] <= "2023-09" for m in months if day)
            listed = [m["month"] for m in months]
            assert listed == sorted(listed) and len(listed) == len(set(listed))
            assert "2023-07" in listed  # a month with no payment between two that have one is listed, with zeros
            july = next(m for m in months if m["month"] == "2023-07")
            assert all(v == 0 for k, v in july.items() if k != "month")
            assert sum(m["city_net_fen"] for m in months) == total["city_paid_fen"]
            assert sum(m["county_net_fen"] for m in months) == total["county_paid_fen"]
            assert all(m["city_net_fen"] == m["city_payments_fen"] - m["city_reversals_fen"] - m["city_recoveries_fen"]
                       for m in months)
    finally:
        engine.dispose()


def test_a_page_as_of_a_day_shows_the_report_of_that_day(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    out = tmp_path / "r.html"
    assert cli(db, "report", "html", str(out), "--as-of", "2023-09-30").exit_code == 0
    shares = cli_json(db, "report", "shares", "--as-of", "2023-09-30")
    everything = cli_json(db, "report", "shares")
    assert shares["total"] != everything["total"]
    engine = make_engine(parse_store(db))
    try:
        months = reports.payments_by_month(engine, date(2023, 9, 30))
    finally:
        engine.dispose()
    assert_page_shows(out.read_text(encoding="utf-8"), shares, months)


def test_every_text_on_the_page_is_escaped():
    shares = {"as_of": None, "known_at": None, "report_date": "2024-01-01", "measures": [], "half_paid": [],
              "areas": [], "total": {k: 0 for k in ("city_owed_fen", "city_paid_fen", "city_to_recover_fen",
                                                    "city_outstanding_fen", "county_owed_fen", "county_paid_fen",
                                                    "county_to_recover_fen", "county_outstanding_fen", "gap_fen")}}
    finding = {"code": "x", "position": 1, "ref": "<b>r</b>", "uscc": None, "message": '<script>alert("x")</script>'}
    page = render_html(shares=shares, applications=[], months=[], generated_at="now", ledger="<img src=x>",
                       audit={"chain": "ok", "events": 1, "head": "1:ab", "broken": None, "findings": [finding]})
    assert "<script>alert" not in page and "<img" not in page and "<b>r</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and 'data-findings="1"' in page


SMALL_SHARES = {
    "as_of": "2023-12-31", "known_at": None, "report_date": "2023-12-31",
    "areas": [{"area": "张湾区", "city_owed_fen": 500000, "city_paid_fen": 500000, "city_to_recover_fen": 0,
               "city_outstanding_fen": 0, "county_owed_fen": 500000, "county_paid_fen": 0, "county_to_recover_fen": 0,
               "county_outstanding_fen": 500000, "gap_fen": 500000}],
    "measures": [{"measure": "M03-security", "city_owed_fen": 500000, "city_paid_fen": 500000,
                  "city_to_recover_fen": 0, "city_outstanding_fen": 0, "county_owed_fen": 500000,
                  "county_paid_fen": 0, "county_to_recover_fen": 0, "county_outstanding_fen": 500000,
                  "gap_fen": 500000}],
    "half_paid": [{"ref": "A-1", "area": "张湾区", "measure": "M03-security", "paid_by": "city",
                   "not_paid_by": "county", "behind_fen": 500000, "since": "2023-04-01", "days_outstanding": 274}],
}
SMALL_SHARES["total"] = {k: v for k, v in SMALL_SHARES["areas"][0].items() if k != "area"}  # type: ignore[index]
SMALL_APPLICATIONS = [{"ref": "A-1", "uscc": "91420303MA4F0A1B2K", "measure": "M03-security", "status": "approved",
                       "awarded_fen": 1000000, "city_outstanding_fen": 0, "county_outstanding_fen": 500000,
                       "city_to_recover_fen": 0, "county_to_recover_fen": 0}]
SMALL_MONTHS = [{"month": "2023-04", "city_net_fen": 500000, "county_net_fen": 0, "city_payments": 1,
                 "county_payments": 0}]


def _small_page(language: str) -> str:
    from ledger import i18n

    i18n.set_language(language)
    try:
        return render_html(shares=SMALL_SHARES, applications=SMALL_APPLICATIONS, months=SMALL_MONTHS,
                           generated_at="2024-01-01 09:00:00", ledger="sqlite:///grants.db",
                           audit={"chain": "ok", "events": 9, "head": "9:ab", "broken": None, "findings": []})
    finally:
        i18n.set_language("en")


def test_the_page_is_in_the_chosen_language_and_its_figures_are_the_same_in_both():
    zh, en = _small_page("zh"), _small_page("en")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    zh_text, en_text = "".join(parse(zh).text), "".join(parse(en).text)
    for words in ("十堰市数字经济政策资金报表", "合计", "市级应付", "县级未付", "各县（市、区）市县分担", "按月拨付", "按措施", "未结事项",
                  "已付方", "市级", "县级", "已批准", "审计校验", "哈希链：完好", "截至：2023-12-31"):
        assert words in zh_text, words
    for words in ("Shiyan digital-economy subsidies report", "Totals", "City owed", "County due",
                  "City and county shares per area", "Payments over time", "Per measure", "Outstanding items",
                  "Ahead", "city", "county", "approved", "Audit verify", "hash chain: ok", "as of: 2023-12-31"):
        assert words in en_text, words
    assert not any("\u4e00" <= c <= "\u9fff" for c in en_text.replace("张湾区", "")), en_text

    def data(page: str) -> list[tuple[str, dict[str, str]]]:
        return [(tag, {k: v for k, v in a.items() if k.startswith("data-") or k == "id"})
                for tag, a in parse(page).tags]

    assert data(zh) == data(en)  # every figure the charts and tables carry, exactly, in both


def _chromium_or_fail() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required under CI (.ci/run installs it) and is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def test_the_page_loads_in_headless_chromium_with_no_console_error_and_its_charts_equal_report_shares(tmp_path):
    chromium = _chromium_or_fail()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    out = tmp_path / "report.html"
    assert cli(db, "report", "html", str(out)).exit_code == 0
    run = subprocess.run(
        [chromium, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
         "--dump-dom", out.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    dom = run.stdout
    assert 'data-ok="1"' in dom, "the page's own check did not pass (or its script did not run)"
    shares = cli_json(db, "report", "shares")
    engine = make_engine(parse_store(db))
    try:
        months = reports.payments_by_month(engine)
    finally:
        engine.dispose()
    assert_page_shows(dom, shares, months)


def test_the_page_check_reports_a_chart_that_does_not_add_up_on_the_console(tmp_path):
    chromium = _chromium_or_fail()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    out = tmp_path / "report.html"
    assert cli(db, "report", "html", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    first = page.index('data-series="city-owed" data-fen="') + len('data-series="city-owed" data-fen="')
    out.write_text(page[:first] + "1" + page[first:], encoding="utf-8")  # one bar drawn wrong
    run = subprocess.run(
        [chromium, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--dump-dom",
         out.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert 'data-ok="1"' not in run.stdout
    assert any("CONSOLE" in line and "report does not add up: 茅箭区 city owed" in line
               for line in run.stderr.splitlines()), run.stderr[-2000:]


def test_the_page_says_the_chain_is_broken_where_audit_verify_does(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    engine = make_engine(parse_store(db))
    try:
        with engine.begin() as conn:
            for guard in ("stored_events_no_update", "stored_events_no_delete"):
                conn.exec_driver_sql(f"DROP TRIGGER {guard}")
            conn.exec_driver_sql("UPDATE stored_events SET topic = topic || '-forged' WHERE rowid = 5")
    finally:
        engine.dispose()
    verify = cli(db, "audit", "verify", "--json")
    assert verify.exit_code == 6
    out = tmp_path / "r.html"
    summary = cli_json(db, "report", "html", str(out))
    assert summary["chain"] == "broken" and summary["findings"] is None
    page = out.read_text(encoding="utf-8")
    broken = json.loads(verify.stdout)["broken"]
    assert 'data-chain="broken"' in page and 'data-findings="-"' in page
    assert f"broken at position {broken['position']} ({broken['code']})" in page


def test_a_page_known_at_a_moment_shows_report_shares_known_at_it_and_says_so(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    out = tmp_path / "r.html"
    assert cli(db, "report", "html", str(out), "--known-at", "2099-01-01", "--as-of", "2024-04-30").exit_code == 0
    shares = cli_json(db, "report", "shares", "--known-at", "2099-01-01", "--as-of", "2024-04-30")
    engine = make_engine(parse_store(db))
    try:
        months = reports.payments_by_month(engine, date(2024, 4, 30))
    finally:
        engine.dispose()
    page = out.read_text(encoding="utf-8")
    assert_page_shows(page, shares, months)
    assert f'data-known-at="{shares["known_at"]}"' in page and "as known at" in page


def test_a_file_that_cannot_be_written_is_refused_as_input(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli(db, "demo").exit_code == 0
    result = cli(db, "report", "html", str(tmp_path / "no-such-folder" / "r.html"))
    assert result.exit_code == 2 and "cannot write" in result.stderr and "Traceback" not in result.stderr
