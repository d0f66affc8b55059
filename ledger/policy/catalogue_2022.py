"""The measure items of 《十堰市突破性发展数字经济若干措施(征求意见稿)》 (2022-06-06).

Each item quotes its clause verbatim (sliced out of the original text, so a
quote cannot drift from it), names its facts, and has one pure rule. Where the
text is silent, the default reading is written in ``readings`` next to the rule;
a later policy version can change it, never a silent edit of this one.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ledger.errors import invalid
from ledger.money import format_fen, percent_of, wan, yi, yuan
from ledger.policy.assess import EQ, GE, GT, LE, Assessment
from ledger.policy.facts import BOOL, CHOICE, DATE, DECIMAL, INT, TEXT, YEAR, YUAN, Fact, anniversary
from ledger.policy.measures import (
    ANNUAL_QUOTA,
    CASE_BY_CASE,
    FIXED,
    NO_CASH,
    ONCE_PER_ENTERPRISE,
    ONCE_PER_PROJECT,
    PER_UNIT_CAP,
    PROPORTIONAL_CAP,
    TIERED,
    Example,
    Facts,
    Measure,
    Quota,
)
from ledger.policy.text_2022 import CLAUSES

CATALOGUE_ID = "shiyan-digital-economy-2022-draft"
VALIDITY_YEARS = 3  # 本政策自2022年X月X日起施行,有效期为3年


def quote(clause: int, start: str, end: str) -> str:
    """The verbatim part of a clause from ``start`` up to and including ``end``."""
    text = CLAUSES[clause]
    i = text.index(start)
    j = text.index(end, i) + len(end)
    return text[i:j]


def lead(clause: int) -> str:
    """The lead department (牵头单位) named at the end of a clause."""
    match = re.search(r"牵头单位:([^;)]+)", CLAUSES[clause])
    if match:
        return match.group(1)
    match = re.search(r"责任单位:([^;)]+)", CLAUSES[clause])
    assert match, clause
    return f"{match.group(1)} (责任单位; the clause names no 牵头单位)"


def whole_clause(clause: int) -> str:
    return CLAUSES[clause]


TIER = Fact("tier", CHOICE, "级别", "tier of the recognition", choices=("national", "provincial"))
TIER_ZH = {"national": "国家级", "provincial": "省级"}


def _tiered(a: Assessment, facts: Facts, tiers: dict[str, int], what_zh: str) -> None:
    tier = facts.get("tier")
    a.note(f"tier {tier}", f"{TIER_ZH[tier]}{what_zh}", fact="tier", value=tier)
    a.amount(tiers[tier], f"{tier} tier {format_fen(tiers[tier])}", f"{TIER_ZH[tier]}{format_fen(tiers[tier])}元")


def _required(facts: Facts, name: str, why: str) -> None:
    if not facts.has(name):
        raise invalid(f"facts.{name}", f"is required {why}")


def _previous_year(a: Assessment, facts: Facts, applied_on: date) -> None:
    """上年度: the award year must be the year before the application date's year."""
    a.test("award_year", facts.int("award_year"), EQ, applied_on.year - 1,
           f"上年度获得 (the year before the application year {applied_on.year})",
           shown=str(facts.int("award_year")), shown_limit=str(applied_on.year - 1))


# --- clause 3 -----------------------------------------------------------------

M03_PLATFORM_ROUTES = ("dual-cross", "industry-platform", "identifier-node")


def m03_platform(a: Assessment, facts: Facts, applied_on: date) -> None:
    route = facts.get("route")
    if route == "dual-cross":
        a.note("route: enterprise whose platform is recognised as a national 双跨 industrial internet platform",
               "获评国家“双跨”(跨区域跨行业)工业互联网平台的企业", fact="route", value=route)
    elif route == "industry-platform":
        for name in ("local_enterprises", "connected_devices"):
            _required(facts, name, "when route is industry-platform")
        a.note("route: industry internet platform", "行业工业互联网平台", fact="route", value=route)
        a.test("local_enterprises", facts.int("local_enterprises"), GT, 100, "服务本地企业数超过100家")
        a.test("connected_devices", facts.int("connected_devices"), GT, 3000, "设备连接数超过3000台(套)")
    else:
        for name in ("new_enterprises", "new_registrations", "daily_resolutions"):
            _required(facts, name, "when route is identifier-node")
        a.note("route: local service enterprise running an identifier-resolution secondary node",
               "单个标识解析二级节点的本地工业互联网服务企业", fact="route", value=route)
        a.test("new_enterprises", facts.int("new_enterprises"), GE, 100, "新增接入企业不低于100家")
        a.test("new_registrations", facts.int("new_registrations"), GE, 100_000_000, "新增注册量不低于1亿")
        a.test("daily_resolutions", facts.int("daily_resolutions"), GE, 600_000, "日均解析量不低于60万")
    a.amount(wan(200), "200万 (fixed, one-time)", "200万元一次性奖励")


def m03_security(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.test("city_enterprises", facts.int("city_enterprises"), GT, 10, "服务本市企业数超10家")
    revenue = facts.fen("annual_revenue_yuan")
    a.test("annual_revenue_yuan", revenue, GE, wan(500), "年营业收入500万元以上",
           shown=format_fen(revenue), shown_limit=format_fen(wan(500)))
    contract = facts.fen("contract_yuan")
    a.test("contract_yuan", contract, GT, 0, "合同额大于0", shown=format_fen(contract), shown_limit="0.00")
    a.capped(percent_of(contract, 10), wan(10), f"10% x {format_fen(contract)}",
             f"合同额{format_fen(contract)}元 x 10%(向下取整到分)")


# --- clause 7 -----------------------------------------------------------------

def m07_base(a: Assessment, facts: Facts, applied_on: date) -> None:
    _tiered(a, facts, {"national": wan(50), "provincial": wan(30)}, "电子商务示范基地(含跨境电商产业园)")


def m07_enterprise(a: Assessment, facts: Facts, applied_on: date) -> None:
    _tiered(a, facts, {"national": wan(30), "provincial": wan(15)}, "电子商务示范企业")


def m07_digital_commerce(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.note("recognised by the Ministry of Commerce as a digital commerce enterprise", "商务部认定的数字商务企业")
    a.amount(wan(30), "30万 (fixed, one-time)", "30万元一次性奖励")


# --- clause 9 -----------------------------------------------------------------

def m09_5g(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.test("prize", facts.int("prize"), LE, 3, "三等奖(含)以上名次 (1 = first, 2 = second, 3 = third)")
    a.test("prize", facts.int("prize"), GE, 1, "名次为一、二、三等奖之一")
    _previous_year(a, facts, applied_on)
    _tiered(a, facts, {"national": wan(50), "provincial": wan(20)}, "5G应用征集大赛获奖")


def m09_pilot(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.note(f"national pilot demonstration in the field {facts.get('field')}",
           f"{facts.get('field')}领域国家级试点示范企业(项目)", fact="field", value=facts.get("field"))
    _previous_year(a, facts, applied_on)
    a.amount(wan(50), "50万 (fixed, one-time)", "一次性奖补50万元")


# --- clause 10 ----------------------------------------------------------------

def _per_rack(a: Assessment, facts: Facts, per_rack_fen: int, cap_fen: int) -> None:
    racks = facts.int("racks")
    a.test("racks", racks, GE, 1, "在用物理机架至少1个")
    a.capped(per_rack_fen * racks, cap_fen, f"{racks:,} racks x {format_fen(per_rack_fen)}",
             f"{racks:,}个在用物理机架 x {format_fen(per_rack_fen)}元")


def m10_datacenter(a: Assessment, facts: Facts, applied_on: date) -> None:
    if not facts.has("pue_reduction") and not facts.has("energy_saved_kwh"):
        raise invalid("facts.pue_reduction", "give pue_reduction or energy_saved_kwh (or both)")
    a.test_any([
        ("pue_reduction", facts.decimal("pue_reduction"), GE, Decimal("0.02"), "电源使用效率(PUE)降低0.02以上"),
        ("energy_saved_kwh", facts.int("energy_saved_kwh"), GE, 3_000_000, "等效节约用电300万千瓦时以上"),
    ], "PUE lowered by at least 0.02, or an equivalent saving of at least 3,000,000 kWh",
        "PUE降低0.02以上(或等效节约用电300万千瓦时以上)")
    a.test("cloud_share_percent", facts.decimal("cloud_share_percent"), GE, 15, "高水平云服务占比达到15%以上")
    a.test("cloud_enterprises", facts.int("cloud_enterprises"), GT, 300, "服务上云企业数超过300家")
    _per_rack(a, facts, yuan(1000), wan(200))


def m10_edge(a: Assessment, facts: Facts, applied_on: date) -> None:
    if not facts.has("indirect_benefit_yuan") and not facts.has("people_served"):
        raise invalid("facts.indirect_benefit_yuan", "give indirect_benefit_yuan or people_served (or both)")
    benefit = facts.fen("indirect_benefit_yuan")
    a.test_any([
        ("indirect_benefit_yuan", benefit, GE, wan(300), "间接经济效益达到300万元以上",
         None if benefit is None else format_fen(benefit), format_fen(wan(300))),
        ("people_served", facts.int("people_served"), GT, 300_000, "年服务群众超过30万人次"),
    ], "indirect economic benefit of at least 3,000,000 yuan, or more than 300,000 people served a year",
        "间接经济效益达到300万元以上(或年服务群众超过30万人次)")
    _per_rack(a, facts, yuan(3000), wan(50))


# --- clause 11 ----------------------------------------------------------------

M11_PRODUCTS = ("automotive-electronics", "electronic-control", "smart-driving", "wiring-harness", "sensor")


def m11_auto_electronics(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.note(f"newly introduced product project: {facts.get('product')}", "新引进的汽车电子、电控、智能驾驶元器件和集成部件、线束集成模块、传感器等产品项目",
           fact="product", value=facts.get("product"))
    output = facts.fen("output_yuan")
    a.test("output_yuan", output, GE, yi(1), "产值首次达到1亿元", shown=format_fen(output), shown_limit=format_fen(yi(1)))
    a.amount(wan(100), "100万 (fixed, once per project)", "奖励100万元")


def m11_major_project(a: Assessment, facts: Facts, applied_on: date) -> None:
    investment = facts.fen("investment_yuan")
    a.test("investment_yuan", investment, GE, yi(5), "总投资5亿元以上", shown=format_fen(investment),
           shown_limit=format_fen(yi(5)))
    a.note("amount decided case by case (一事一议): only the amount and basis given with the approval are paid",
           "采取“一事一议”方式给予支持:按审批决定载明的金额和依据支付")


# --- clause 12 ----------------------------------------------------------------

def m12_new_software(a: Assessment, facts: Facts, applied_on: date) -> None:
    capital = facts.fen("paid_in_capital_yuan")
    revenue = facts.fen("annual_revenue_yuan")
    registered_on = facts.date("registered_on")
    year_end = facts.date("revenue_year_end")
    a.test("paid_in_capital_yuan", capital, GE, wan(2000), "实缴注册资本2000万元及以上",
           shown=format_fen(capital), shown_limit=format_fen(wan(2000)))
    a.test("annual_revenue_yuan", revenue, GT, yi(1), "年营业收入突破1亿元 (突破 read as more than)",
           shown=format_fen(revenue), shown_limit=format_fen(yi(1)))
    a.test("revenue_year_end", year_end, GT, registered_on, "营业收入年度在注册成立之后",
           shown=year_end.isoformat(), shown_limit=registered_on.isoformat())
    limit = anniversary(registered_on, 2)
    a.test("revenue_year_end", year_end, LE, limit, f"两年内 (on or before {limit.isoformat()})",
           shown=year_end.isoformat(), shown_limit=limit.isoformat())
    a.amount(wan(200), "200万 (fixed, one-time)", "200万元一次性奖励")


def m12_dual_software(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.test("dual_software_certified", facts.get("dual_software_certified"), EQ, True, "取得双软资质证书")
    a.amount(wan(5), "5万 (fixed, one-time)", "一次性奖励5万元")


# --- clauses 13, 16, 18 -------------------------------------------------------

def case_by_case(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.note("amount decided case by case (一事一议): only the amount and basis given with the approval are paid",
           "采取“一事一议”方式:按审批决定载明的金额和依据支付")


def m16_task(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.test("task_year", facts.int("task_year"), LE, applied_on.year, f"任务发布年度不晚于申请年度 {applied_on.year}",
           shown=str(facts.int("task_year")), shown_limit=str(applied_on.year))
    a.note(f"task {facts.get('task')} of {facts.get('task_year')} judged successful after 揭榜",
           "揭榜后经考核认定实施成功", fact="task", value=facts.get("task"))
    a.amount(wan(50), "50万 per task", "每个奖励50万元")


def m18_park(a: Assessment, facts: Facts, applied_on: date) -> None:
    a.test("enterprises", facts.int("enterprises"), GE, 20, "入园企业达到20家以上")
    revenue = facts.fen("revenue_yuan")
    a.test("revenue_yuan", revenue, GE, yi(30), "园区总营业收入达到30亿以上", shown=format_fen(revenue),
           shown_limit=format_fen(yi(30)))
    a.amount(wan(500), "500万 (fixed, one-time)", "500万元的一次性奖励")


# --- the catalogue ------------------------------------------------------------

_NO_CASH_SUMMARY = {
    1: ("提升“千兆”城市建设", "Gigabit city: fibre, 5G coverage and park networks. No cash award."),
    2: ("保障数字基础设施建设空间", "Space for digital infrastructure (5G sites in buildings). No cash award."),
    4: ("降低数字基础设施运营成本", "Lower operating costs of data centres and 5G (green power, direct supply). No cash award."),
    5: ("支持制造业数字化转型", "Manufacturing digital transformation: priority for industrial-upgrade loans, no cash award."),
    6: ("促进中小企业上云", "SMEs to the cloud: resource pool and promotion of good providers. No cash award."),
    8: ("支持农业数字化转型", "Agricultural digital transformation and digital village pilots. No cash award."),
    14: ("推进数据开放共享、数据资产化价值化", "Open and shared data, data assets. No cash award."),
    15: ("推进数据资源管理科学化", "Data management, privacy and security regimes. No cash award."),
    17: ("加大数字经济人才支持", "Digital-economy talent programmes. No cash award."),
}


def _no_cash(clause: int) -> Measure:
    title, summary = _NO_CASH_SUMMARY[clause]
    return Measure(id=f"M{clause:02d}", clause=clause, kind=NO_CASH, title_zh=title, summary_en=summary,
                   quote=whole_clause(clause), lead=lead(clause))


_ONCE_READING_PROJECT = ("文本未规定可否逐年重复申报:默认同一企业同一项目只奖励一次,新一期需另立项目",
                         "the text sets no period; read as one award per enterprise and project, "
                         "a later period needs a new project")
_UPGRADE_READING = ("省级升级为国家级的,按就高补差原则补足差额",
                    "a provincial award later upgraded to national on the same project is topped up by the "
                    "difference (就高补差)")
_PREVIOUS_YEAR_READING = ("“上年度”以申请日期所在年度的上一年计", "上年度 is the year before the year of the application date")

MEASURES: tuple[Measure, ...] = (
    _no_cash(1),
    _no_cash(2),
    Measure(
        id="M03-platform", clause=3, kind=FIXED, title_zh="工业互联网平台一次性奖励",
        summary_en="200万 one-time to an enterprise with a national 双跨 platform, an industry platform serving "
                   "more than 100 local enterprises with more than 3,000 devices, or an identifier-resolution node "
                   "with at least 100 new enterprises, 100,000,000 new registrations and 600,000 daily resolutions.",
        quote=quote(3, "对获评国家", "一次性奖励。"), lead=lead(3),
        facts=(
            Fact("route", CHOICE, "获奖路径", "which of the three qualifying routes", choices=M03_PLATFORM_ROUTES),
            Fact("local_enterprises", INT, "服务本地企业数", "local enterprises served", required=False),
            Fact("connected_devices", INT, "设备连接数", "connected devices (台/套)", required=False),
            Fact("new_enterprises", INT, "新增接入企业数", "newly connected enterprises", required=False),
            Fact("new_registrations", INT, "新增注册量", "new identifier registrations", required=False),
            Fact("daily_resolutions", INT, "日均解析量", "average daily resolutions", required=False),
        ),
        rule=m03_platform, once=ONCE_PER_ENTERPRISE, amount_zh="200万元,一次性",
        examples=(Example({"route": "industry-platform", "local_enterprises": 101, "connected_devices": 3001},
                          "2,000,000.00"),
                  Example({"route": "industry-platform", "local_enterprises": 100, "connected_devices": 5000},
                          "not-eligible")),
    ),
    Measure(
        id="M03-security", clause=3, kind=PROPORTIONAL_CAP, title_zh="工业互联网安全服务机构奖励",
        summary_en="Local third-party industrial-internet security service serving more than 10 city enterprises "
                   "with annual revenue of at least 500万: at most 10% of the contract amount, capped at 10万.",
        quote=quote(3, "对服务本市企业数超10家", "的奖励。"), lead=lead(3),
        facts=(
            Fact("city_enterprises", INT, "服务本市企业数", "city enterprises served"),
            Fact("annual_revenue_yuan", YUAN, "年营业收入(元)", "annual revenue, yuan"),
            Fact("contract_yuan", YUAN, "合同额(元)", "contract amount, yuan"),
        ),
        rule=m03_security, once=ONCE_PER_PROJECT, amount_zh="合同额10%,最高10万元",
        readings=(("项目即合同:同一合同只奖励一次;10%按分向下取整", "the project is the contract: one award per "
                   "contract; 10% is rounded down to the fen"), _ONCE_READING_PROJECT,
                  ("“不超过合同额10%”是上限:默认按10%核定,审批可给出更低金额并载明依据", "不超过合同额10% is a "
                   "ceiling: the award is the full 10% unless the approval sets a lower amount_fen with its basis")),
        examples=(Example({"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "1234567.89"},
                          "100,000.00"),
                  Example({"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "300000"},
                          "30,000.00")),
    ),
    _no_cash(4),
    _no_cash(5),
    _no_cash(6),
    Measure(
        id="M07-base", clause=7, kind=TIERED, title_zh="电子商务示范基地(含跨境电商产业园)",
        summary_en="E-commerce demonstration base (incl. cross-border park) created: national 50万, provincial 30万, "
                   "one-time.",
        quote=quote(7, "对成功创建国家和省级电子商务示范基地", "30万元;"), lead=lead(7),
        facts=(TIER,), rule=m07_base, once=ONCE_PER_ENTERPRISE,
        tiers={"national": wan(50), "provincial": wan(30)}, amount_zh="国家级50万元、省级30万元,一次性",
        readings=(_UPGRADE_READING,),
        examples=(Example({"tier": "national"}, "500,000.00"), Example({"tier": "provincial"}, "300,000.00")),
    ),
    Measure(
        id="M07-enterprise", clause=7, kind=TIERED, title_zh="电子商务示范企业",
        summary_en="E-commerce demonstration enterprise created: national 30万, provincial 15万, one-time.",
        quote=quote(7, "对成功创建国家和省级电子商务示范企业", "15万元。"), lead=lead(7),
        facts=(TIER,), rule=m07_enterprise, once=ONCE_PER_ENTERPRISE,
        tiers={"national": wan(30), "provincial": wan(15)}, amount_zh="国家级30万元、省级15万元,一次性",
        readings=(_UPGRADE_READING,),
        examples=(Example({"tier": "national"}, "300,000.00"), Example({"tier": "provincial"}, "150,000.00")),
    ),
    Measure(
        id="M07-digital-commerce", clause=7, kind=FIXED, title_zh="商务部认定的数字商务企业",
        summary_en="Digital commerce enterprise recognised by the Ministry of Commerce: 30万, one-time.",
        quote=quote(7, "对商务部认定的数字商务企业", "30万元。"), lead=lead(7),
        facts=(), rule=m07_digital_commerce, once=ONCE_PER_ENTERPRISE, amount_zh="30万元,一次性",
        examples=(Example({}, "300,000.00"),),
    ),
    _no_cash(8),
    Measure(
        id="M09-5g", clause=9, kind=TIERED, title_zh="5G应用征集大赛获奖奖补",
        summary_en="Third prize or better in the previous year's national / provincial 5G application contest: "
                   "50万 / 20万, one-time.",
        quote=quote(9, "对上年度获得国家、省级5G应用征集大赛", "20万元,"), lead=lead(9),
        facts=(TIER, Fact("prize", INT, "获奖名次", "prize: 1 = first, 2 = second, 3 = third"),
               Fact("award_year", YEAR, "获奖年度", "year the prize was won")),
        rule=m09_5g, once=ONCE_PER_ENTERPRISE, tiers={"national": wan(50), "provincial": wan(20)},
        amount_zh="国家级50万元、省级20万元,一次性", readings=(_PREVIOUS_YEAR_READING, _UPGRADE_READING),
        examples=(Example({"tier": "national", "prize": 3, "award_year": 2022}, "500,000.00 (applied in 2023)"),
                  Example({"tier": "national", "prize": 4, "award_year": 2022}, "not-eligible")),
    ),
    Measure(
        id="M09-pilot", clause=9, kind=FIXED, title_zh="智慧健康养老、数据安全等领域国家级试点示范",
        summary_en="National pilot demonstration enterprise (project) in smart health and elderly care, data "
                   "security and similar fields, named in the previous year: 50万, one-time per project.",
        quote=quote(9, "对上年度获得的智慧健康养老", "一次性奖补50万元。"), lead=lead(9),
        facts=(Fact("field", TEXT, "试点示范领域", "field of the pilot (e.g. smart-elderly-care, data-security)"),
               Fact("award_year", YEAR, "认定年度", "year it was named a national pilot")),
        rule=m09_pilot, once=ONCE_PER_PROJECT, amount_zh="50万元,一次性",
        readings=(_PREVIOUS_YEAR_READING, ("条文写“企业(项目)”:一次性按项目计", "the clause says enterprise "
                                           "(project): one-time per project")),
        examples=(Example({"field": "data-security", "award_year": 2022}, "500,000.00 (applied in 2023)"),),
    ),
    Measure(
        id="M10-datacenter", clause=10, kind=PER_UNIT_CAP, title_zh="大中型数据中心机架支持",
        summary_en="Large or medium data centre with PUE lowered by at least 0.02 (or 3,000,000 kWh saved), "
                   "high-level cloud share of at least 15% and more than 300 enterprises on its cloud: 1,000 yuan "
                   "per physical rack in use, at most 200万.",
        quote=quote(10, "对电源使用效率(PUE)降低0.02以上", "最高不超过200万元给予支持;"), lead=lead(10),
        facts=(Fact("pue_reduction", DECIMAL, "PUE降低值", "PUE reduction", required=False),
               Fact("energy_saved_kwh", INT, "等效节约用电(千瓦时)", "equivalent energy saved, kWh", required=False),
               Fact("cloud_share_percent", DECIMAL, "高水平云服务占比(%)", "high-level cloud service share, %"),
               Fact("cloud_enterprises", INT, "服务上云企业数", "enterprises on its cloud"),
               Fact("racks", INT, "在用物理机架数", "physical racks in use")),
        rule=m10_datacenter, once=ONCE_PER_PROJECT, amount_zh="每个在用物理机架1000元,最高200万元",
        readings=(("项目即数据中心:同一数据中心只支持一次", "the project is the data centre: supported once"),
                  _ONCE_READING_PROJECT),
        examples=(Example({"pue_reduction": "0.02", "cloud_share_percent": "15", "cloud_enterprises": 301,
                           "racks": 2000}, "2,000,000.00"),
                  Example({"pue_reduction": "0.02", "cloud_share_percent": "15", "cloud_enterprises": 301,
                           "racks": 2001}, "2,000,000.00 (cap)")),
    ),
    Measure(
        id="M10-edge", clause=10, kind=PER_UNIT_CAP, title_zh="边缘数据中心机架支持",
        summary_en="Edge data centre with indirect economic benefit of at least 300万 (or more than 300,000 people "
                   "served a year): 3,000 yuan per physical rack in use, at most 50万.",
        quote=quote(10, "对“算力赋能千行百业”", "最高不超过50万元给予支持。"), lead=lead(10),
        facts=(Fact("indirect_benefit_yuan", YUAN, "间接经济效益(元)", "indirect economic benefit, yuan",
                    required=False),
               Fact("people_served", INT, "年服务群众人次", "people served a year", required=False),
               Fact("racks", INT, "在用物理机架数", "physical racks in use")),
        rule=m10_edge, once=ONCE_PER_PROJECT, amount_zh="每个在用物理机架3000元,最高50万元",
        readings=(("项目即数据中心:同一数据中心只支持一次", "the project is the data centre: supported once"),
                  _ONCE_READING_PROJECT),
        examples=(Example({"indirect_benefit_yuan": "300万", "racks": 166}, "498,000.00"),
                  Example({"indirect_benefit_yuan": "300万", "racks": 167}, "500,000.00 (cap)")),
    ),
    Measure(
        id="M11-auto-electronics", clause=11, kind=FIXED, title_zh="新引进汽车电子等产品项目产值首次达到1亿元",
        summary_en="Newly introduced automotive-electronics, control, smart-driving component, wiring-harness or "
                   "sensor product project whose output first reaches 1亿: 100万, once per project.",
        quote=quote(11, "对新引进的汽车电子", "奖励100万元;"), lead=lead(11),
        facts=(Fact("product", CHOICE, "产品类别", "kind of product", choices=M11_PRODUCTS),
               Fact("output_yuan", YUAN, "首次达到1亿元年度的产值(元)", "output in the year it first reached 1亿")),
        rule=m11_auto_electronics, once=ONCE_PER_PROJECT, amount_zh="100万元,每个项目一次",
        readings=(("“首次达到”:每个项目只奖励一次", "首次达到 (first reaches): once per project"),),
        examples=(Example({"product": "sensor", "output_yuan": "1亿"}, "1,000,000.00"),),
    ),
    Measure(
        id="M11-major-project", clause=11, kind=CASE_BY_CASE, title_zh="总投资5亿元以上数字经济类项目",
        summary_en="Newly introduced digital-economy project with total investment of at least 5亿: support "
                   "decided case by case (一事一议).",
        quote=quote(11, "对新引进的总投资5亿元以上", "给予支持;"), lead=lead(11),
        facts=(Fact("investment_yuan", YUAN, "总投资(元)", "total investment, yuan"),),
        rule=m11_major_project, amount_zh="一事一议",
        examples=(Example({"investment_yuan": "5亿"}, "the amount_fen of the approval, with its basis"),),
    ),
    Measure(
        id="M12-new-software", clause=12, kind=FIXED, title_zh="新注册软件及信息技术服务企业",
        summary_en="Software and IT service enterprise newly registered in the city, paid-in capital of at least "
                   "2,000万, annual revenue above 1亿 within two years: 200万, one-time.",
        quote=quote(12, "对在我市新注册成立的", "一次性奖励。"), lead=lead(12),
        facts=(Fact("registered_on", DATE, "注册成立日期", "date of registration"),
               Fact("paid_in_capital_yuan", YUAN, "实缴注册资本(元)", "paid-in capital, yuan"),
               Fact("annual_revenue_yuan", YUAN, "年营业收入(元)", "annual revenue, yuan"),
               Fact("revenue_year_end", DATE, "该营业收入年度截止日", "last day of the revenue year")),
        rule=m12_new_software, once=ONCE_PER_ENTERPRISE, amount_zh="200万元,一次性",
        readings=(("“突破1亿元”按超过1亿元(不含本数)", "突破1亿 is read as more than 100,000,000 yuan"),
                  ("“两年内”:营业收入年度截止日不晚于注册成立日起两年的对应日(无对应日的为月末日)", "within two "
                   "years: the revenue year ends on or before the same day two years after registration (28 February "
                   "for a registration on 29 February, 民法典 第二百零二条)")),
        examples=(Example({"registered_on": "2022-03-01", "paid_in_capital_yuan": "2000万",
                           "annual_revenue_yuan": "100000000.01", "revenue_year_end": "2023-12-31"},
                          "2,000,000.00"),),
    ),
    Measure(
        id="M12-dual-software", clause=12, kind=FIXED, title_zh="工业软件企业取得双软资质",
        summary_en="Enterprise developing industrial software that holds the 双软 certificates: 5万, one-time.",
        quote=quote(12, "对围绕工业产品研发设计", "一次性奖励5万元。"), lead=lead(12),
        facts=(Fact("dual_software_certified", BOOL, "取得双软资质证书", "holds the 双软 certificates"),),
        rule=m12_dual_software, once=ONCE_PER_ENTERPRISE, amount_zh="5万元,一次性",
        examples=(Example({"dual_software_certified": True}, "50,000.00"),),
    ),
    Measure(
        id="M13-platform", clause=13, kind=CASE_BY_CASE, title_zh="创新型有影响力的数字经济服务平台",
        summary_en="Innovative, influential digital-economy service platform (enterprise): support decided case "
                   "by case (一事一议).",
        quote=quote(13, "对创新型有影响力", "给予支持。"), lead=lead(13), rule=case_by_case, amount_zh="一事一议",
    ),
    _no_cash(14),
    _no_cash(15),
    Measure(
        id="M16-task", clause=16, kind=ANNUAL_QUOTA, title_zh="“揭榜挂帅”重点创新任务",
        summary_en="Innovation task taken under 揭榜挂帅 and judged successful: 50万 per task; 10 tasks are "
                   "published a year, so at most 10 distinct tasks are awarded per task year.",
        quote=quote(16, "推行数字技术创新攻关", "每个奖励50万元。"), lead=lead(16),
        facts=(Fact("task_year", YEAR, "任务发布年度", "year the task was published"),
               Fact("task", TEXT, "任务编号或名称", "task number or name")),
        rule=m16_task, quota=Quota("task_year", "task", 10), amount_zh="每个任务50万元,每年至多10个任务",
        readings=(("每个任务只奖励一次(无论揭榜企业);每年至多10个不同任务获奖", "each task is awarded once, "
                   "whoever took it; at most 10 distinct tasks are awarded per task year"),),
        examples=(Example({"task_year": 2023, "task": "T-2023-01"}, "500,000.00"),),
    ),
    Measure(
        id="M16-forum", clause=16, kind=CASE_BY_CASE, title_zh="高层次数字经济论坛费用补助",
        summary_en="High-level digital-economy forum: expense subsidy decided case by case (一事一议).",
        quote=quote(16, "支持举办高层次数字经济论坛", "给予费用补助。"), lead=lead(16), rule=case_by_case,
        amount_zh="一事一议",
    ),
    _no_cash(17),
    Measure(
        id="M18-park", clause=18, kind=FIXED, title_zh="数字经济产业集聚区(园区)",
        summary_en="Digital-economy park with at least 20 enterprises and total revenue of at least 30亿: 500万, "
                   "one-time.",
        quote=quote(18, "对入园企业达到20家以上", "一次性奖励。"), lead=lead(18),
        facts=(Fact("enterprises", INT, "入园企业数", "enterprises in the park"),
               Fact("revenue_yuan", YUAN, "园区总营业收入(元)", "total revenue of the park, yuan")),
        rule=m18_park, once=ONCE_PER_ENTERPRISE, amount_zh="500万元,一次性",
        examples=(Example({"enterprises": 20, "revenue_yuan": "30亿"}, "5,000,000.00"),),
    ),
)
