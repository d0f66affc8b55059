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

from ledger.money import format_fen

WIDTH = 1000  # the drawing width of a chart, in SVG units (scaled down on a narrow screen)
LABEL = 190  # room for the row labels on the left
BAR = 14  # the height of one bar
GAP = 10  # the space between two groups of bars

COLOURS = {"city-owed": "#9ecae1", "city-paid": "#2171b5", "county-owed": "#fdae6b", "county-paid": "#d94801",
           "owed": "#bdbdbd", "paid": "#31a354", "city-net": "#2171b5", "county-net": "#d94801"}
SERIES_NAMES = {"city-owed": "市级应付 city owed", "city-paid": "市级已付 city paid",
                "county-owed": "县级应付 county owed", "county-paid": "县级已付 county paid",
                "owed": "应付 owed", "paid": "已付 paid", "city-net": "市级净拨付 city net paid",
                "county-net": "县级净拨付 county net paid"}


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
                         f'fill="{COLOURS[bar.series]}"><title>{_e(SERIES_NAMES[bar.series])}: '
                         f'{_e(_yuan(bar.fen))}</title></rect>')
            parts.append(f'<text class="amount" x="{max(x + length, zero) + 4:.2f}" y="{top + BAR - 4}">'
                         f'{_e(_yuan(bar.fen))}</text>')
        parts.append("</g>")
        y += group_height
    parts.append(f'<line x1="{zero:.2f}" x2="{zero:.2f}" y1="0" y2="{y}" stroke="#555"/>')
    parts.append("</svg>")
    parts.append('<p class="legend">' + " ".join(
        f'<span><i style="background:{COLOURS[s]}"></i>{_e(SERIES_NAMES[s])}</span>' for s in series) + "</p>")
    parts.append("</figure>")
    return "".join(parts)


def _net_paid(row: dict[str, Any], payer: str) -> int:
    """What the text report prints as paid (已付): net, on awards in force."""
    return int(row[f"{payer}_paid_fen"]) - int(row[f"{payer}_to_recover_fen"])


SHARE_FIELDS = ("city_owed_fen", "city_paid_fen", "city_to_recover_fen", "city_outstanding_fen",
                "county_owed_fen", "county_paid_fen", "county_to_recover_fen", "county_outstanding_fen", "gap_fen")


def _share_attrs(row: dict[str, Any]) -> dict[str, str]:
    return {"data-" + k.replace("_", "-"): str(int(row[k])) for k in SHARE_FIELDS}


def _area_chart(shares: dict[str, Any]) -> str:
    series = ("city-owed", "city-paid", "county-owed", "county-paid")
    groups = [Group(a["area"], [Bar("city-owed", a["city_owed_fen"]), Bar("city-paid", _net_paid(a, "city")),
                                Bar("county-owed", a["county_owed_fen"]), Bar("county-paid", _net_paid(a, "county"))],
                    {"data-area": a["area"], **_share_attrs(a)}) for a in shares["areas"]]
    return bar_chart("areas-chart", "各区域市级、县级应付与已付（元） City and county owed and paid per area (yuan)",
                     groups, series)


def _month_chart(months: list[dict[str, Any]]) -> str:
    series = ("city-net", "county-net")
    groups = [Group(m["month"], [Bar("city-net", m["city_net_fen"]), Bar("county-net", m["county_net_fen"])],
                    {"data-month": m["month"], **{"data-" + k.replace("_", "-"): str(v) for k, v in m.items()
                                                  if k.endswith("_fen") or k.endswith("_payments")}})
              for m in months]
    return bar_chart("months-chart", "按月拨付（净额，元） Payments per month (net of reversals and recoveries, yuan)",
                     groups, series)


def _measure_chart(shares: dict[str, Any]) -> str:
    series = ("owed", "paid")
    groups = [Group(m["measure"], [Bar("owed", m["city_owed_fen"] + m["county_owed_fen"]),
                                   Bar("paid", _net_paid(m, "city") + _net_paid(m, "county"))],
                    {"data-measure": m["measure"], **_share_attrs(m)}) for m in shares["measures"]]
    return bar_chart("measures-chart", "各措施应付与已付（元） Owed and paid per measure (yuan)", groups, series)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{_e(table_id)}">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<table id="{_e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _share_table(table_id: str, key: str, label: str, items: list[dict[str, Any]], total: dict[str, Any] | None) -> str:
    headers = [label, "市级应付 city owed", "市级已付 city paid", "市级未付 city due", "市级待追回 city to recover",
               "县级应付 county owed", "县级已付 county paid", "县级未付 county due", "县级待追回 county to recover",
               "差额 gap"]

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
        rows.append(row("合计 total", total, ' class="total"'))
    return _table(table_id, headers, rows, "无 none")


def _totals(total: dict[str, Any]) -> str:
    cards = [("市级应付 city owed", total["city_owed_fen"], "city-owed"),
             ("市级已付 city paid", _net_paid(total, "city"), "city-net-paid"),
             ("市级未付 city due", total["city_outstanding_fen"], "city-outstanding"),
             ("县级应付 county owed", total["county_owed_fen"], "county-owed"),
             ("县级已付 county paid", _net_paid(total, "county"), "county-net-paid"),
             ("县级未付 county due", total["county_outstanding_fen"], "county-outstanding"),
             ("待追回 to recover", total["city_to_recover_fen"] + total["county_to_recover_fen"], "to-recover"),
             ("差额 gap (city − county paid)", total["gap_fen"], "gap")]
    items = "".join(f'<div class="card" data-{_e(name)}-fen="{fen}"><span>{_e(label)}</span>'
                    f'<b>{_e(_yuan(fen))}</b></div>' for label, fen, name in cards)
    return f'<section id="totals"{_attrs(_share_attrs(total))}><h2>合计 Totals</h2><div class="cards">{items}</div></section>'


def _half_paid(items: list[dict[str, Any]]) -> str:
    rows = [f'<tr data-ref="{_e(h["ref"])}" data-behind-fen="{int(h["behind_fen"])}"><td>{_e(h["ref"])}</td>'
            f'<td>{_e(h["area"])}</td><td>{_e(h["measure"])}</td><td>{_e(h["paid_by"])}</td>'
            f'<td>{_e(h["not_paid_by"])}</td>{_money_cell(int(h["behind_fen"]), "behind")}'
            f'<td>{_e(h["since"] or "-")}</td>'
            f'<td class="num">{_e(h["days_outstanding"] if h["days_outstanding"] is not None else "-")}</td></tr>'
            for h in items]
    return _table("half-paid", ["编号 ref", "区域 area", "措施 measure", "已付方 ahead", "未付方 behind",
                                "差额 behind by", "起 since", "天数 days"], rows, "无单边拨付 none")


def outstanding_applications(applications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Applications on which a payer still owes something, or has money to recover."""
    return [a for a in applications
            if a["city_outstanding_fen"] or a["county_outstanding_fen"] or a["city_to_recover_fen"]
            or a["county_to_recover_fen"]]


def _outstanding(applications: list[dict[str, Any]]) -> str:
    rows = [f'<tr data-ref="{_e(a["ref"])}"><td>{_e(a["ref"])}</td><td>{_e(a["uscc"])}</td><td>{_e(a["measure"])}</td>'
            f'<td>{_e(a["status"])}</td>{_money_cell(a["awarded_fen"], "awarded")}'
            f'{_money_cell(a["city_outstanding_fen"], "city-outstanding")}'
            f'{_money_cell(a["county_outstanding_fen"], "county-outstanding")}'
            f'{_money_cell(a["city_to_recover_fen"] + a["county_to_recover_fen"], "to-recover")}</tr>'
            for a in outstanding_applications(applications)]
    return _table("outstanding", ["编号 ref", "统一社会信用代码 uscc", "措施 measure", "状态 status", "核定 awarded",
                                  "市级未付 city due", "县级未付 county due", "待追回 to recover"], rows,
                  "无未付款项 nothing outstanding")


def _audit(audit: dict[str, Any]) -> str:
    if audit.get("chain") is None:
        return (f'<section id="audit" data-chain="none"><h2>审计核验 Audit verify</h2>'
                f'<p>{_e(audit.get("message", ""))}</p></section>')
    findings = audit["findings"]
    count = "-" if findings is None else str(len(findings))
    ok = audit["chain"] == "ok" and not findings
    lines = [f'<p class="{"ok" if ok else "bad"}">哈希链 hash chain: <b>{_e(audit["chain"])}</b>，'
             f'{_e(audit["events"])} 个事件 events，头 head <code>{_e(audit["head"])}</code></p>',
             f"<p>全账核查发现 findings of the whole-ledger checks: <b>{_e(count)}</b></p>"]
    if audit["broken"]:
        lines.append(f'<p class="bad">断点 broken at position {_e(audit["broken"]["position"])} '
                     f'({_e(audit["broken"]["code"])})</p>')
    if findings:
        lines.append(_table("findings", ["code", "position", "ref", "uscc", "finding"],
                            [f"<tr><td>{_e(f['code'])}</td><td>{_e(f['position'] if f['position'] is not None else '-')}"
                             f"</td><td>{_e(f['ref'] or '-')}</td><td>{_e(f['uscc'] or '-')}</td>"
                             f"<td>{_e(f['message'])}</td></tr>" for f in findings], ""))
    return (f'<section id="audit" data-chain="{_e(audit["chain"])}" data-events="{int(audit["events"])}" '
            f'data-findings="{_e(count)}"><h2>审计核验 Audit verify</h2>{"".join(lines)}</section>')


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
      var net = big(g, 'data-' + p + '-paid-fen') - big(g, 'data-' + p + '-to-recover-fen');
      if (bars[p + '-paid'] !== net) problems.push(g.dataset.area + ' ' + p + ' paid');
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
    meta = [f"截至 as of: {as_of or '全部 everything recorded'}",
            f"报告日 report date: {shares.get('report_date') or '-'}"]
    if known_at:
        meta.append(f"按 {known_at} 时所知 as known at {known_at}")
    meta += [f"生成 generated: {generated_at}", f"账本 ledger: {ledger}"]
    body = [
        "<h1>十堰市数字经济政策资金报告 Shiyan digital-economy subsidies report</h1>",
        f'<p class="meta" data-as-of="{_e(as_of or "")}" data-known-at="{_e(known_at or "")}">'
        + " · ".join(_e(m) for m in meta) + "</p>",
        _totals(shares["total"]),
        '<section id="areas"><h2>各区域市县分担 City and county shares per area</h2>',
        _area_chart(shares),
        _share_table("areas-table", "area", "区域 area", shares["areas"], shares["total"]),
        "<p class=\"meta\">应付 owed: 有效核定 awards in force；已付 paid: 扣除冲销与追回 net of reversals and "
        "recoveries；待追回 to recover: 已撤销核定上的已付款 paid on revoked awards；差额 gap: 市级已付减县级已付 "
        "city paid less county paid</p></section>",
        '<section id="payments"><h2>按月拨付 Payments over time</h2>',
        _month_chart(months) if months else '<p class="empty">无拨付 no payments</p>',
        "</section>",
        '<section id="measures"><h2>按措施 Per measure</h2>',
        _measure_chart(shares) if shares["measures"] else "",
        _share_table("measures-table", "measure", "措施 measure", shares["measures"], None),
        "</section>",
        '<section id="outstanding-items"><h2>未结事项 Outstanding items</h2>',
        f"<h3>单边拨付 Awards one payer has paid more of than the other (days as of {_e(shares.get('report_date') or '-')})</h3>",
        _half_paid(shares["half_paid"]),
        "<h3>有未付或待追回金额的申请 Applications with amounts still due or to recover</h3>",
        _outstanding(applications),
        "</section>",
        _audit(audit),
    ]
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>十堰市数字经济政策资金报告 Grants ledger report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")
