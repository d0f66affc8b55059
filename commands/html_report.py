"""`grants report html`: one self-contained HTML page (styles and SVG charts inline, no
network) for people who would rather look at a chart than read a table.

Every figure a chart draws is also in the page as text (yuan, two decimals) and as an
exact integer of fen in a ``data-*-fen`` attribute, so a test can compare the page with
``report shares --json``. A small inline script checks that the bars add up to the
totals and marks the body ``data-ok="1"``; it reports a mismatch on the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from ledger import i18n
from ledger.domain.money import format_fen
from ledger.i18n import N_, _
from ledger.labels import label

WIDTH = 1000  # the drawing width of a chart, in SVG units (scaled down on a narrow screen)
LABEL = 190  # room for the row labels on the left
BAR = 14  # the height of one bar
GAP = 10  # the space between two groups of bars

COLOURS = {"city-owed": "#9ecae1", "city-paid": "#2171b5", "county-owed": "#fdae6b", "county-paid": "#d94801",
           "owed": "#bdbdbd", "paid": "#31a354", "city-net": "#2171b5", "county-net": "#d94801"}
SERIES_NAMES = {"city-owed": N_("City owed"), "city-paid": N_("City paid"), "county-owed": N_("County owed"),
                "county-paid": N_("County paid"), "owed": N_("Owed"), "paid": N_("Paid"),
                "city-net": N_("City net paid"), "county-net": N_("County net paid")}
# What each figure is (projections/figures.py), under the shares table of `report shares` and of this page.
LEGEND = N_("owed: awards in force; paid: net of reversals and recoveries, on every award; due: owed less paid on "
            "awards in force; to recover: paid on revoked awards, part of paid; gap: city paid less county paid")
HTML_LANG = {"zh": "zh-CN", "en": "en"}  # the page's lang attribute for each language of the CLI


@dataclass(frozen=True)
class Bar:
    series: str  # a key of COLOURS: what the bar is
    fen: int


@dataclass(frozen=True)
class Group:
    label: str
    bars: Sequence[Bar]
    attrs: dict[str, str]  # extra data attributes of the group (exact figures behind it)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _yuan(fen: int) -> str:
    return format_fen(fen)


def _h2(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def _attrs(attrs: dict[str, str]) -> str:
    return "".join(f' {_e(k)}="{_e(v)}"' for k, v in attrs.items())


def _money_cell(fen: int, name: str = "") -> str:
    attr = f' data-{_e(name)}-fen="{fen}"' if name else f' data-fen="{fen}"'
    return f'<td class="num"{attr}>{_e(_yuan(fen))}</td>'


def bar_chart(chart_id: str, title: str, groups: Sequence[Group], series: Sequence[str]) -> str:
    """Horizontal bars, one group of bars per row label; negative amounts go left of the zero line."""
    values = [b.fen for g in groups for b in g.bars]
    high = max([0, *values])
    low = min([0, *values])
    span = (high - low) or 1
    plot = WIDTH - LABEL - 110  # leave room for the amount printed after each bar
    zero = LABEL + plot * (-low) / span
    group_height = BAR * len(series) + GAP
    height = max(group_height * len(groups), GAP) + 30
    parts = [f'<figure class="chart" id="{_e(chart_id)}"><figcaption>{_e(title)}</figcaption>',
             f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}">']
    y = 0
    for group in groups:
        parts.append(f'<g class="group" data-label="{_e(group.label)}"{_attrs(group.attrs)}>')
        parts.append(f'<text class="label" x="{LABEL - 6}" y="{y + BAR * len(series) / 2 + 4:.1f}" '
                     f'text-anchor="end">{_e(group.label)}</text>')
        for i, bar in enumerate(group.bars):
            length = plot * abs(bar.fen) / span
            x = zero - length if bar.fen < 0 else zero
            top = y + i * BAR
            parts.append(f'<rect class="bar {_e(bar.series)}" data-series="{_e(bar.series)}" data-fen="{bar.fen}" '
                         f'x="{x:.2f}" y="{top}" width="{length:.2f}" height="{BAR - 2}" '
                         f'fill="{COLOURS[bar.series]}"><title>{_e(_(SERIES_NAMES[bar.series]))}: '
                         f'{_e(_yuan(bar.fen))}</title></rect>')
            parts.append(f'<text class="amount" x="{max(x + length, zero) + 4:.2f}" y="{top + BAR - 4}">'
                         f'{_e(_yuan(bar.fen))}</text>')
        parts.append("</g>")
        y += group_height
    parts.append(f'<line x1="{zero:.2f}" x2="{zero:.2f}" y1="0" y2="{y}" stroke="#555"/>')
    parts.append("</svg>")
    parts.append('<p class="legend">' + " ".join(
        f'<span><i style="background:{COLOURS[s]}"></i>{_e(_(SERIES_NAMES[s]))}</span>' for s in series) + "</p>")
    parts.append("</figure>")
    return "".join(parts)


def _net_paid(row: dict[str, Any], payer: str) -> int:
    """What every report prints as paid (已付): net of reversals and recoveries, on every award
    (``projections/figures.py``), as the JSON's ``{payer}_paid_fen``."""
    return int(row[f"{payer}_paid_fen"])


SHARE_FIELDS = ("city_owed_fen", "city_paid_fen", "city_to_recover_fen", "city_outstanding_fen",
                "county_owed_fen", "county_paid_fen", "county_to_recover_fen", "county_outstanding_fen", "gap_fen")


def _share_attrs(row: dict[str, Any]) -> dict[str, str]:
    return {"data-" + k.replace("_", "-"): str(int(row[k])) for k in SHARE_FIELDS}


def _area_chart(shares: dict[str, Any]) -> str:
    series = ("city-owed", "city-paid", "county-owed", "county-paid")
    groups = [Group(a["area"], [Bar("city-owed", a["city_owed_fen"]), Bar("city-paid", _net_paid(a, "city")),
                                Bar("county-owed", a["county_owed_fen"]), Bar("county-paid", _net_paid(a, "county"))],
                    {"data-area": a["area"], **_share_attrs(a)}) for a in shares["areas"]]
    return bar_chart("areas-chart", _("City and county owed and paid per area (yuan)"), groups, series)


def _month_chart(months: list[dict[str, Any]]) -> str:
    series = ("city-net", "county-net")
    groups = [Group(m["month"], [Bar("city-net", m["city_net_fen"]), Bar("county-net", m["county_net_fen"])],
                    {"data-month": m["month"], **{"data-" + k.replace("_", "-"): str(v) for k, v in m.items()
                                                  if k.endswith("_fen") or k.endswith("_payments")}})
              for m in months]
    return bar_chart("months-chart", _("Payments per month (net of reversals and recoveries, yuan)"), groups,
                     series)


def _measure_chart(shares: dict[str, Any]) -> str:
    series = ("owed", "paid")
    groups = [Group(m["measure"], [Bar("owed", m["city_owed_fen"] + m["county_owed_fen"]),
                                   Bar("paid", _net_paid(m, "city") + _net_paid(m, "county"))],
                    {"data-measure": m["measure"], **_share_attrs(m)}) for m in shares["measures"]]
    return bar_chart("measures-chart", _("Owed and paid per measure (yuan)"), groups, series)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{_e(table_id)}">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<table id="{_e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _share_table(table_id: str, key: str, heading: str, items: list[dict[str, Any]], total: dict[str, Any] | None) -> str:
    headers = [heading, _("City owed"), _("City paid"), _("City due"), _("City to recover"), _("County owed"),
               _("County paid"), _("County due"), _("County to recover"), _("Gap")]

    def row(name: str, r: dict[str, Any], cls: str = "") -> str:
        cells = [f"<th>{_e(name)}</th>"]
        for payer in ("city", "county"):
            cells += [_money_cell(r[f"{payer}_owed_fen"], f"{payer}-owed"), _money_cell(_net_paid(r, payer), f"{payer}-net-paid"),
                      _money_cell(r[f"{payer}_outstanding_fen"], f"{payer}-outstanding"),
                      _money_cell(r[f"{payer}_to_recover_fen"], f"{payer}-to-recover")]
        cells.append(_money_cell(r["gap_fen"], "gap"))
        return f'<tr{cls}{_attrs(_share_attrs(r))}>{"".join(cells)}</tr>'

    rows = [row(i[key], i) for i in items]
    if total is not None:
        rows.append(row(_("Total"), total, ' class="total"'))
    return _table(table_id, headers, rows, _("none"))


def _totals(total: dict[str, Any]) -> str:
    cards = [(_("City owed"), total["city_owed_fen"], "city-owed"),
             (_("City paid"), _net_paid(total, "city"), "city-net-paid"),
             (_("City due"), total["city_outstanding_fen"], "city-outstanding"),
             (_("County owed"), total["county_owed_fen"], "county-owed"),
             (_("County paid"), _net_paid(total, "county"), "county-net-paid"),
             (_("County due"), total["county_outstanding_fen"], "county-outstanding"),
             (_("To recover"), total["city_to_recover_fen"] + total["county_to_recover_fen"], "to-recover"),
             (_("Gap (city − county paid)"), total["gap_fen"], "gap")]
    items = "".join(f'<div class="card" data-{_e(name)}-fen="{fen}"><span>{_e(text)}</span>'
                    f'<b>{_e(_yuan(fen))}</b></div>' for text, fen, name in cards)
    return (f'<section id="totals"{_attrs(_share_attrs(total))}>' + _h2(_("Totals")) +
            f'<div class="cards">{items}</div></section>')


def _half_paid(items: list[dict[str, Any]]) -> str:
    rows = [f'<tr data-ref="{_e(h["ref"])}" data-behind-fen="{int(h["behind_fen"])}"><td>{_e(h["ref"])}</td>'
            f'<td>{_e(h["area"])}</td><td>{_e(h["measure"])}</td><td>{_e(label(h["paid_by"]))}</td>'
            f'<td>{_e(label(h["not_paid_by"]))}</td>{_money_cell(int(h["behind_fen"]), "behind")}'
            f'<td>{_e(h["since"] or "-")}</td>'
            f'<td class="num">{_e(h["days_outstanding"] if h["days_outstanding"] is not None else "-")}</td></tr>'
            for h in items]
    return _table("half-paid", [_("Ref"), _("Area"), _("Measure"), _("Ahead"), _("Behind"), _("Behind by"),
                                _("Since"), _("Days")], rows, _("none"))


def outstanding_applications(applications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Applications on which a payer still owes something, or has money to recover."""
    return [a for a in applications
            if a["city_outstanding_fen"] or a["county_outstanding_fen"] or a["city_to_recover_fen"]
            or a["county_to_recover_fen"]]


def _outstanding(applications: list[dict[str, Any]]) -> str:
    rows = [f'<tr data-ref="{_e(a["ref"])}"><td>{_e(a["ref"])}</td><td>{_e(a["uscc"])}</td><td>{_e(a["measure"])}</td>'
            f'<td>{_e(label(a["status"]))}</td>{_money_cell(a["awarded_fen"], "awarded")}'
            f'{_money_cell(a["city_outstanding_fen"], "city-outstanding")}'
            f'{_money_cell(a["county_outstanding_fen"], "county-outstanding")}'
            f'{_money_cell(a["city_to_recover_fen"] + a["county_to_recover_fen"], "to-recover")}</tr>'
            for a in outstanding_applications(applications)]
    return _table("outstanding", [_("Ref"), _("USCC"), _("Measure"), _("Status"), _("Awarded"), _("City due"),
                                  _("County due"), _("To recover")], rows, _("nothing outstanding"))


def _audit(audit: dict[str, Any]) -> str:
    if audit.get("chain") is None:
        return ('<section id="audit" data-chain="none">' + _h2(_("Audit verify")) +
                f'<p>{_e(audit.get("message", ""))}</p></section>')
    findings = audit["findings"]
    count = "-" if findings is None else str(len(findings))
    ok = audit["chain"] == "ok" and not findings
    chain = _e(_("ok") if audit["chain"] == "ok" else _("broken"))
    lines = [f'<p class="{"ok" if ok else "bad"}">'
             + _("hash chain: {chain}, {events} events, head {head}").format(
                 chain=f"<b>{chain}</b>", events=_e(audit["events"]), head=f'<code>{_e(audit["head"])}</code>')
             + "</p>",
             "<p>" + _("findings of the whole-ledger checks: {count}").format(count=f"<b>{_e(count)}</b>") + "</p>"]
    if audit["broken"]:
        lines.append('<p class="bad">' + _e(_("broken at position {position} ({code})").format(
            position=audit["broken"]["position"], code=audit["broken"]["code"])) + "</p>")
    if findings:
        lines.append(_table("findings", [_("Code"), _("Position"), _("Ref"), _("USCC"), _("Finding")],
                            [f"<tr><td>{_e(f['code'])}</td><td>{_e(f['position'] if f['position'] is not None else '-')}"
                             f"</td><td>{_e(f['ref'] or '-')}</td><td>{_e(f['uscc'] or '-')}</td>"
                             f"<td>{_e(f['message'])}</td></tr>" for f in findings], ""))
    return (f'<section id="audit" data-chain="{_e(audit["chain"])}" data-events="{int(audit["events"])}" '
            f'data-findings="{_e(count)}">' + _h2(_("Audit verify")) + "".join(lines) + "</section>")


STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.meta{color:#555}.cards{display:flex;flex-wrap:wrap;gap:.6em}
.card{border:1px solid #ddd;border-radius:4px;padding:.5em .8em;min-width:12em}
.card span{display:block;color:#555;font-size:.85em}.card b{font-size:1.15em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .5em}
thead th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.total{font-weight:bold}
figure.chart{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}
svg{max-width:100%;height:auto}svg text{font-size:11px}.legend span{margin-right:1.2em;font-size:.85em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
.ok{color:#256029}.bad{color:#b00020}
@media print{body{margin:0}}
"""

# Checks the page against itself in the browser: the bars of each chart equal the figures of
# their group, and the area groups add up to the totals. BigInt: fen are exact integers.
SCRIPT = """
(function () {
  var problems = [];
  function big(el, name) { return BigInt(el.getAttribute(name)); }
  var sums = {};
  document.querySelectorAll('#areas-chart g.group').forEach(function (g) {
    var bars = {};
    g.querySelectorAll('rect[data-series]').forEach(function (r) { bars[r.dataset.series] = big(r, 'data-fen'); });
    ['city', 'county'].forEach(function (p) {
      if (bars[p + '-owed'] !== big(g, 'data-' + p + '-owed-fen')) problems.push(g.dataset.area + ' ' + p + ' owed');
      if (bars[p + '-paid'] !== big(g, 'data-' + p + '-paid-fen')) problems.push(g.dataset.area + ' ' + p + ' paid');
      ['owed', 'paid', 'to-recover'].forEach(function (k) {
        var n = 'data-' + p + '-' + k + '-fen';
        sums[n] = (sums[n] || 0n) + big(g, n);
      });
    });
  });
  var totals = document.getElementById('totals');
  Object.keys(sums).forEach(function (n) {
    if (sums[n] !== big(totals, n)) problems.push('total ' + n);
  });
  var monthly = {city: 0n, county: 0n};
  document.querySelectorAll('#months-chart rect[data-series]').forEach(function (r) {
    monthly[r.dataset.series.split('-')[0]] += big(r, 'data-fen');
  });
  ['city', 'county'].forEach(function (p) {
    if (monthly[p] !== big(totals, 'data-' + p + '-paid-fen')) problems.push('months ' + p);
  });
  if (problems.length) { console.error('report does not add up: ' + problems.join('; ')); }
  else { document.body.dataset.ok = '1'; }
})();
"""


def render_html(*, shares: dict[str, Any], applications: list[dict[str, Any]], months: list[dict[str, Any]],
                audit: dict[str, Any], generated_at: str, ledger: str) -> str:
    """The whole page, as text: every value escaped, nothing fetched from elsewhere."""
    as_of = shares.get("as_of")
    known_at = shares.get("known_at")
    meta = [_("as of: {day}").format(day=as_of or _("everything recorded")),
            _("report date: {day}").format(day=shares.get("report_date") or "-")]
    if known_at:
        meta.append(_("as known at {moment}").format(moment=known_at))
    meta += [_("generated: {moment}").format(moment=generated_at), _("ledger: {ledger}").format(ledger=ledger)]
    title = _("Shiyan digital-economy subsidies report")
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta" data-as-of="{_e(as_of or "")}" data-known-at="{_e(known_at or "")}">'
        + " · ".join(_e(m) for m in meta) + "</p>",
        _totals(shares["total"]),
        '<section id="areas">' + _h2(_("City and county shares per area")),
        _area_chart(shares),
        _share_table("areas-table", "area", _("Area"), shares["areas"], shares["total"]),
        '<p class="meta">' + _e(_(LEGEND)) + "</p></section>",
        '<section id="payments">' + _h2(_("Payments over time")),
        _month_chart(months) if months else '<p class="empty">' + _e(_("no payments")) + "</p>",
        "</section>",
        '<section id="measures">' + _h2(_("Per measure")),
        _measure_chart(shares) if shares["measures"] else "",
        _share_table("measures-table", "measure", _("Measure"), shares["measures"], None),
        "</section>",
        '<section id="outstanding-items">' + _h2(_("Outstanding items")),
        "<h3>" + _e(_("Awards one payer has paid more of than the other, days as of {day}").format(
            day=shares.get("report_date") or "-")) + "</h3>",
        _half_paid(shares["half_paid"]),
        "<h3>" + _e(_("Applications with amounts still due or to recover")) + "</h3>",
        _outstanding(applications),
        "</section>",
        _audit(audit),
    ]
    return ("<!DOCTYPE html>\n"
            f'<html lang="{HTML_LANG[i18n.language()]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")
