"""The rules of 《十堰市突破性发展数字经济若干措施(征求意见稿)》 (2022-06-06): rule set ``shiyan-2022``.

Each measure item has one pure rule; the numbers it uses (amounts, rates, caps,
thresholds) and the words they come from are read from the edition
(``ledger/policy/editions/shiyan-2022-draft.toml``), never written here. Where the
text is silent, the default reading is written in ``readings`` next to the rule; a
rule that changes (not just a number) is a new rule set, never a silent edit of this one.

Why one module of ~430 lines (issue 21 asks a reason above ~400): it is the rule set
``shiyan-2022``, one pure rule per measure item in clause order, read beside the clauses it
implements. A rule set is versioned as a whole (a changed rule is a new rule set, named by an
edition's ``rules``), so its rules stay in one file; each is short (5-20 lines).
"""

from __future__ import annotations

from datetime import date

from ledger.domain.money import format_fen, percent_of
from ledger.errors import invalid
from ledger.i18n import _
from ledger.policy.assess import EQ, GE, GT, LE, Assessment
from ledger.policy.edition import ParamKind, Params
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
    MeasureRule,
    QuotaRule,
)

RULE_SET = "shiyan-2022"
CATALOGUE_ID = "shiyan-digital-economy-2022-draft"  # the id of the edition the rule set was written for
EDITION_FILE = "shiyan-2022-draft.toml"

COUNT, PERCENT, DECIMAL_PARAM, AMOUNT = ParamKind.COUNT, ParamKind.PERCENT, ParamKind.DECIMAL, ParamKind.YUAN

TIER = Fact("tier", CHOICE, "级别", "tier of the recognition", choices=("national", "provincial"))
TIER_ZH = {"national": "国家级", "provincial": "省级"}
TIERS = ("national", "provincial")


def _tiered(a: Assessment, facts: Facts, p: Params, what_zh: str) -> None:
    tier = facts.get("tier")
    fen = p.fen(tier)
    a.note(f"tier {tier}", f"{TIER_ZH[tier]}{what_zh}", fact="tier", value=tier)
    a.amount(fen, f"{tier} tier {format_fen(fen)}", f"{TIER_ZH[tier]}{format_fen(fen)}元")


def _fixed(a: Assessment, p: Params, how: str) -> None:
    """The fixed amount of an item: ``amount``, shown as the edition writes it."""
    a.amount(p.fen("amount"), f"{p.written('amount')} ({how})", p.words("amount"))


def _required(facts: Facts, name: str, why: str) -> None:
    if not facts.has(name):
        raise invalid(f"facts.{name}", _("is required {when}").format(when=why))


def _money_test(a: Assessment, fact: str, value: int | None, op: str, p: Params, param: str, extra: str = "") -> None:
    """A threshold in yuan, shown in yuan on both sides."""
    limit = p.fen(param)
    a.test(fact, value, op, limit, p.words(param) + extra, shown=format_fen(value) if value is not None else None,
           shown_limit=format_fen(limit))


def _previous_year(a: Assessment, facts: Facts, applied_on: date) -> None:
    """上年度: the award year must be the year before the application date's year."""
    a.test("award_year", facts.int("award_year"), EQ, applied_on.year - 1,
           f"上年度获得 (the year before the application year {applied_on.year})",
           shown=str(facts.int("award_year")), shown_limit=str(applied_on.year - 1))


# --- clause 3 -----------------------------------------------------------------

M03_PLATFORM_ROUTES = ("dual-cross", "industry-platform", "identifier-node")


def m03_platform(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    route = facts.get("route")
    if route == "dual-cross":
        a.note("route: enterprise whose platform is recognised as a national 双跨 industrial internet platform",
               "获评国家“双跨”(跨区域跨行业)工业互联网平台的企业", fact="route", value=route)
    elif route == "industry-platform":
        for name in ("local_enterprises", "connected_devices"):
            _required(facts, name, _("when route is industry-platform"))
        a.note("route: industry internet platform", "行业工业互联网平台", fact="route", value=route)
        for name in ("local_enterprises", "connected_devices"):
            a.test(name, facts.int(name), GT, p.count(name), p.words(name))
    else:
        for name in ("new_enterprises", "new_registrations", "daily_resolutions"):
            _required(facts, name, _("when route is identifier-node"))
        a.note("route: local service enterprise running an identifier-resolution secondary node",
               "单个标识解析二级节点的本地工业互联网服务企业", fact="route", value=route)
        for name in ("new_enterprises", "new_registrations", "daily_resolutions"):
            a.test(name, facts.int(name), GE, p.count(name), p.words(name))
    _fixed(a, p, "fixed, one-time")


def m03_security(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.test("city_enterprises", facts.int("city_enterprises"), GT, p.count("city_enterprises"), p.words("city_enterprises"))
    _money_test(a, "annual_revenue_yuan", facts.fen("annual_revenue_yuan"), GE, p, "annual_revenue")
    contract = facts.fen("contract_yuan")
    assert contract is not None  # a required fact
    a.test("contract_yuan", contract, GT, 0, "合同额大于0", shown=format_fen(contract), shown_limit="0.00")
    rate = p.percent("rate")
    a.capped(percent_of(contract, rate), p.fen("cap"), f"{rate}% x {format_fen(contract)}",
             f"合同额{format_fen(contract)}元 x {rate}%(向下取整到分)")


# --- clause 7 -----------------------------------------------------------------

def m07_base(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    _tiered(a, facts, p, "电子商务示范基地(含跨境电商产业园)")


def m07_enterprise(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    _tiered(a, facts, p, "电子商务示范企业")


def m07_digital_commerce(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.note("recognised by the Ministry of Commerce as a digital commerce enterprise", "商务部认定的数字商务企业")
    _fixed(a, p, "fixed, one-time")


# --- clause 9 -----------------------------------------------------------------

def m09_5g(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.test("prize", facts.int("prize"), LE, p.count("lowest_prize"),
           p.words("lowest_prize") + " (1 = first, 2 = second, 3 = third)")
    a.test("prize", facts.int("prize"), GE, 1, "名次为一、二、三等奖之一")
    _previous_year(a, facts, applied_on)
    _tiered(a, facts, p, "5G应用征集大赛获奖")


def m09_pilot(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.note(f"national pilot demonstration in the field {facts.get('field')}",
           f"{facts.get('field')}领域国家级试点示范企业(项目)", fact="field", value=facts.get("field"))
    _previous_year(a, facts, applied_on)
    _fixed(a, p, "fixed, one-time")


# --- clause 10 ----------------------------------------------------------------

def _per_rack(a: Assessment, facts: Facts, p: Params) -> None:
    per_rack_fen, cap_fen = p.fen("per_rack"), p.fen("cap")
    racks = facts.int("racks")
    assert racks is not None  # a required fact
    a.test("racks", racks, GE, 1, "在用物理机架至少1个")
    a.capped(per_rack_fen * racks, cap_fen, f"{racks:,} racks x {format_fen(per_rack_fen)}",
             f"{racks:,}个在用物理机架 x {format_fen(per_rack_fen)}元")


def m10_datacenter(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    if not facts.has("pue_reduction") and not facts.has("energy_saved_kwh"):
        raise invalid("facts.pue_reduction", _("give pue_reduction or energy_saved_kwh (or both)"))
    pue, kwh = p.decimal("pue_reduction"), p.count("energy_saved_kwh")
    a.test_any([
        ("pue_reduction", facts.decimal("pue_reduction"), GE, pue, p.words("pue_reduction")),
        ("energy_saved_kwh", facts.int("energy_saved_kwh"), GE, kwh, p.words("energy_saved_kwh")),
    ], f"PUE lowered by at least {pue}, or an equivalent saving of at least {kwh:,} kWh",
        f"{p.words('pue_reduction')}(或{p.words('energy_saved_kwh')})")
    a.test("cloud_share_percent", facts.decimal("cloud_share_percent"), GE, p.percent("cloud_share_percent"),
           p.words("cloud_share_percent"))
    a.test("cloud_enterprises", facts.int("cloud_enterprises"), GT, p.count("cloud_enterprises"),
           p.words("cloud_enterprises"))
    _per_rack(a, facts, p)


def m10_edge(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    if not facts.has("indirect_benefit_yuan") and not facts.has("people_served"):
        raise invalid("facts.indirect_benefit_yuan", _("give indirect_benefit_yuan or people_served (or both)"))
    benefit = facts.fen("indirect_benefit_yuan")
    least, people = p.fen("indirect_benefit"), p.count("people_served")
    a.test_any([
        ("indirect_benefit_yuan", benefit, GE, least, p.words("indirect_benefit"),
         None if benefit is None else format_fen(benefit), format_fen(least)),
        ("people_served", facts.int("people_served"), GT, people, p.words("people_served")),
    ], f"indirect economic benefit of at least {format_fen(least)} yuan, or more than {people:,} people served a year",
        f"{p.words('indirect_benefit')}(或{p.words('people_served')})")
    _per_rack(a, facts, p)


# --- clause 11 ----------------------------------------------------------------

M11_PRODUCTS = ("automotive-electronics", "electronic-control", "smart-driving", "wiring-harness", "sensor")


def m11_auto_electronics(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.note(f"newly introduced product project: {facts.get('product')}", "新引进的汽车电子、电控、智能驾驶元器件和集成部件、线束集成模块、传感器等产品项目",
           fact="product", value=facts.get("product"))
    _money_test(a, "output_yuan", facts.fen("output_yuan"), GE, p, "output")
    _fixed(a, p, "fixed, once per project")


def m11_major_project(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    _money_test(a, "investment_yuan", facts.fen("investment_yuan"), GE, p, "investment")
    a.note("amount decided case by case (一事一议): only the amount and basis given with the approval are paid",
           "采取“一事一议”方式给予支持:按审批决定载明的金额和依据支付")


# --- clause 12 ----------------------------------------------------------------

def m12_new_software(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    registered_on = facts.date("registered_on")
    year_end = facts.date("revenue_year_end")
    assert registered_on is not None and year_end is not None  # required facts
    _money_test(a, "paid_in_capital_yuan", facts.fen("paid_in_capital_yuan"), GE, p, "paid_in_capital")
    _money_test(a, "annual_revenue_yuan", facts.fen("annual_revenue_yuan"), GT, p, "annual_revenue",
                " (突破 read as more than)")
    a.test("revenue_year_end", year_end, GT, registered_on, "营业收入年度在注册成立之后",
           shown=year_end.isoformat(), shown_limit=registered_on.isoformat())
    limit = anniversary(registered_on, p.count("within_years"))
    a.test("revenue_year_end", year_end, LE, limit, f"{p.words('within_years')} (on or before {limit.isoformat()})",
           shown=year_end.isoformat(), shown_limit=limit.isoformat())
    _fixed(a, p, "fixed, one-time")


def m12_dual_software(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.test("dual_software_certified", facts.get("dual_software_certified"), EQ, True, "取得双软资质证书")
    _fixed(a, p, "fixed, one-time")


# --- clauses 13, 16, 18 -------------------------------------------------------

def case_by_case(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.note("amount decided case by case (一事一议): only the amount and basis given with the approval are paid",
           "采取“一事一议”方式:按审批决定载明的金额和依据支付")


def m16_task(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.test("task_year", facts.int("task_year"), LE, applied_on.year, f"任务发布年度不晚于申请年度 {applied_on.year}",
           shown=str(facts.int("task_year")), shown_limit=str(applied_on.year))
    a.note(f"task {facts.get('task')} of {facts.get('task_year')} judged successful after 揭榜",
           "揭榜后经考核认定实施成功", fact="task", value=facts.get("task"))
    a.amount(p.fen("amount"), f"{p.written('amount')} per task", p.words("amount"))


def m18_park(a: Assessment, facts: Facts, applied_on: date, p: Params) -> None:
    a.test("enterprises", facts.int("enterprises"), GE, p.count("enterprises"), p.words("enterprises"))
    _money_test(a, "revenue_yuan", facts.fen("revenue_yuan"), GE, p, "revenue")
    _fixed(a, p, "fixed, one-time")


# --- the rule set ---------------------------------------------------------------

def _no_cash(clause: int) -> MeasureRule:
    return MeasureRule(id=f"M{clause:02d}", clause=clause, kind=NO_CASH)


_ONCE_READING_PROJECT = ("文本未规定可否逐年重复申报:默认同一企业同一项目只奖励一次,新一期需另立项目",
                         "the text sets no period; read as one award per enterprise and project, "
                         "a later period needs a new project")
_UPGRADE_READING = ("省级升级为国家级的,按就高补差原则补足差额",
                    "a provincial award later upgraded to national on the same project is topped up by the "
                    "difference (就高补差)")
_PREVIOUS_YEAR_READING = ("“上年度”以申请日期所在年度的上一年计", "上年度 is the year before the year of the application date")
_TIER_PARAMS = {"national": AMOUNT, "provincial": AMOUNT}
_BASE_READING = ("“对成功创建……电子商务示范基地(含跨境电商产业园)的……给予一次性奖励”:一次性按基地计,项目即基地;"
                 "同一企业创建两个基地各奖励一次",
                 "the one-time award is per base (the project names the base): an operator that creates two bases "
                 "is awarded for each")
_PARK_READING = ("“对入园企业达到20家以上且园区总营业收入达到30亿以上的,给予500万元的一次性奖励”:一次性按园区计,"
                 "项目即园区;同一运营企业的两个达标园区各奖励一次",
                 "the one-time award is per park (the project names the park): an operator of two qualifying parks "
                 "is awarded for each")

RULES: tuple[MeasureRule, ...] = (
    _no_cash(1),
    _no_cash(2),
    MeasureRule(
        id="M03-platform", clause=3, kind=FIXED,
        facts=(
            Fact("route", CHOICE, "获奖路径", "which of the three qualifying routes", choices=M03_PLATFORM_ROUTES),
            Fact("local_enterprises", INT, "服务本地企业数", "local enterprises served", required=False),
            Fact("connected_devices", INT, "设备连接数", "connected devices (台/套)", required=False),
            Fact("new_enterprises", INT, "新增接入企业数", "newly connected enterprises", required=False),
            Fact("new_registrations", INT, "新增注册量", "new identifier registrations", required=False),
            Fact("daily_resolutions", INT, "日均解析量", "average daily resolutions", required=False),
        ),
        rule=m03_platform, once=ONCE_PER_ENTERPRISE,
        params={"local_enterprises": COUNT, "connected_devices": COUNT, "new_enterprises": COUNT,
                "new_registrations": COUNT, "daily_resolutions": COUNT, "amount": AMOUNT},
        examples=(Example({"route": "industry-platform", "local_enterprises": 101, "connected_devices": 3001}),
                  Example({"route": "industry-platform", "local_enterprises": 100, "connected_devices": 5000})),
    ),
    MeasureRule(
        id="M03-security", clause=3, kind=PROPORTIONAL_CAP,
        facts=(
            Fact("city_enterprises", INT, "服务本市企业数", "city enterprises served"),
            Fact("annual_revenue_yuan", YUAN, "年营业收入(元)", "annual revenue, yuan"),
            Fact("contract_yuan", YUAN, "合同额(元)", "contract amount, yuan"),
        ),
        rule=m03_security, once=ONCE_PER_PROJECT,
        params={"city_enterprises": COUNT, "annual_revenue": AMOUNT, "rate": PERCENT, "cap": AMOUNT},
        readings=(("项目即合同:同一合同只奖励一次;10%按分向下取整", "the project is the contract: one award per "
                   "contract; 10% is rounded down to the fen"), _ONCE_READING_PROJECT,
                  ("“不超过合同额10%”是上限:默认按10%核定,审批可给出更低金额并载明依据", "不超过合同额10% is a "
                   "ceiling: the award is the full 10% unless the approval sets a lower amount_fen with its basis")),
        examples=(Example({"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "1234567.89"}),
                  Example({"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "300000"})),
    ),
    _no_cash(4),
    _no_cash(5),
    _no_cash(6),
    MeasureRule(
        id="M07-base", clause=7, kind=TIERED, facts=(TIER,), rule=m07_base, once=ONCE_PER_PROJECT,
        params=_TIER_PARAMS, tiers=TIERS, readings=(_BASE_READING, _UPGRADE_READING),
        examples=(Example({"tier": "national"}), Example({"tier": "provincial"})),
    ),
    MeasureRule(
        id="M07-enterprise", clause=7, kind=TIERED, facts=(TIER,), rule=m07_enterprise, once=ONCE_PER_ENTERPRISE,
        params=_TIER_PARAMS, tiers=TIERS, readings=(_UPGRADE_READING,),
        examples=(Example({"tier": "national"}), Example({"tier": "provincial"})),
    ),
    MeasureRule(
        id="M07-digital-commerce", clause=7, kind=FIXED, facts=(), rule=m07_digital_commerce,
        once=ONCE_PER_ENTERPRISE, params={"amount": AMOUNT}, examples=(Example({}),),
    ),
    _no_cash(8),
    MeasureRule(
        id="M09-5g", clause=9, kind=TIERED,
        facts=(TIER, Fact("prize", INT, "获奖名次", "prize: 1 = first, 2 = second, 3 = third"),
               Fact("award_year", YEAR, "获奖年度", "year the prize was won")),
        rule=m09_5g, once=ONCE_PER_ENTERPRISE, params={"lowest_prize": COUNT, **_TIER_PARAMS}, tiers=TIERS,
        readings=(_PREVIOUS_YEAR_READING, _UPGRADE_READING),
        examples=(Example({"tier": "national", "prize": 3, "award_year": 2022}, note="applied in 2023"),
                  Example({"tier": "national", "prize": 4, "award_year": 2022})),
    ),
    MeasureRule(
        id="M09-pilot", clause=9, kind=FIXED,
        facts=(Fact("field", TEXT, "试点示范领域", "field of the pilot (e.g. smart-elderly-care, data-security)"),
               Fact("award_year", YEAR, "认定年度", "year it was named a national pilot")),
        rule=m09_pilot, once=ONCE_PER_PROJECT, params={"amount": AMOUNT},
        readings=(_PREVIOUS_YEAR_READING, ("条文写“企业(项目)”:一次性按项目计", "the clause says enterprise "
                                           "(project): one-time per project")),
        examples=(Example({"field": "data-security", "award_year": 2022}, note="applied in 2023"),),
    ),
    MeasureRule(
        id="M10-datacenter", clause=10, kind=PER_UNIT_CAP,
        facts=(Fact("pue_reduction", DECIMAL, "PUE降低值", "PUE reduction", required=False),
               Fact("energy_saved_kwh", INT, "等效节约用电(千瓦时)", "equivalent energy saved, kWh", required=False),
               Fact("cloud_share_percent", DECIMAL, "高水平云服务占比(%)", "high-level cloud service share, %"),
               Fact("cloud_enterprises", INT, "服务上云企业数", "enterprises on its cloud"),
               Fact("racks", INT, "在用物理机架数", "physical racks in use")),
        rule=m10_datacenter, once=ONCE_PER_PROJECT,
        params={"pue_reduction": DECIMAL_PARAM, "energy_saved_kwh": COUNT, "cloud_share_percent": PERCENT,
                "cloud_enterprises": COUNT, "per_rack": AMOUNT, "cap": AMOUNT},
        readings=(("项目即数据中心:同一数据中心只支持一次", "the project is the data centre: supported once"),
                  _ONCE_READING_PROJECT),
        examples=(Example({"pue_reduction": "0.02", "cloud_share_percent": "15", "cloud_enterprises": 301,
                           "racks": 2000}),
                  Example({"pue_reduction": "0.02", "cloud_share_percent": "15", "cloud_enterprises": 301,
                           "racks": 2001})),
    ),
    MeasureRule(
        id="M10-edge", clause=10, kind=PER_UNIT_CAP,
        facts=(Fact("indirect_benefit_yuan", YUAN, "间接经济效益(元)", "indirect economic benefit, yuan",
                    required=False),
               Fact("people_served", INT, "年服务群众人次", "people served a year", required=False),
               Fact("racks", INT, "在用物理机架数", "physical racks in use")),
        rule=m10_edge, once=ONCE_PER_PROJECT,
        params={"indirect_benefit": AMOUNT, "people_served": COUNT, "per_rack": AMOUNT, "cap": AMOUNT},
        readings=(("项目即数据中心:同一数据中心只支持一次", "the project is the data centre: supported once"),
                  _ONCE_READING_PROJECT),
        examples=(Example({"indirect_benefit_yuan": "300万", "racks": 166}),
                  Example({"indirect_benefit_yuan": "300万", "racks": 167})),
    ),
    MeasureRule(
        id="M11-auto-electronics", clause=11, kind=FIXED,
        facts=(Fact("product", CHOICE, "产品类别", "kind of product", choices=M11_PRODUCTS),
               Fact("output_yuan", YUAN, "首次达到1亿元年度的产值(元)", "output in the year it first reached 1亿")),
        rule=m11_auto_electronics, once=ONCE_PER_PROJECT, params={"output": AMOUNT, "amount": AMOUNT},
        readings=(("“首次达到”:每个项目只奖励一次", "首次达到 (first reaches): once per project"),),
        examples=(Example({"product": "sensor", "output_yuan": "1亿"}),),
    ),
    MeasureRule(
        id="M11-major-project", clause=11, kind=CASE_BY_CASE,
        facts=(Fact("investment_yuan", YUAN, "总投资(元)", "total investment, yuan"),),
        rule=m11_major_project, params={"investment": AMOUNT},
        examples=(Example({"investment_yuan": "5亿"}),),
    ),
    MeasureRule(
        id="M12-new-software", clause=12, kind=FIXED,
        facts=(Fact("registered_on", DATE, "注册成立日期", "date of registration"),
               Fact("paid_in_capital_yuan", YUAN, "实缴注册资本(元)", "paid-in capital, yuan"),
               Fact("annual_revenue_yuan", YUAN, "年营业收入(元)", "annual revenue, yuan"),
               Fact("revenue_year_end", DATE, "该营业收入年度截止日", "last day of the revenue year")),
        rule=m12_new_software, once=ONCE_PER_ENTERPRISE,
        params={"paid_in_capital": AMOUNT, "annual_revenue": AMOUNT, "within_years": COUNT, "amount": AMOUNT},
        readings=(("“突破1亿元”按超过1亿元(不含本数)", "突破1亿 is read as more than 100,000,000 yuan"),
                  ("“两年内”:营业收入年度截止日不晚于注册成立日起两年的对应日(无对应日的为月末日)", "within two "
                   "years: the revenue year ends on or before the same day two years after registration (28 February "
                   "for a registration on 29 February, 民法典 第二百零二条)")),
        examples=(Example({"registered_on": "2022-03-01", "paid_in_capital_yuan": "2000万",
                           "annual_revenue_yuan": "100000000.01", "revenue_year_end": "2023-12-31"}),),
    ),
    MeasureRule(
        id="M12-dual-software", clause=12, kind=FIXED,
        facts=(Fact("dual_software_certified", BOOL, "取得双软资质证书", "holds the 双软 certificates"),),
        rule=m12_dual_software, once=ONCE_PER_ENTERPRISE, params={"amount": AMOUNT},
        examples=(Example({"dual_software_certified": True}),),
    ),
    MeasureRule(id="M13-platform", clause=13, kind=CASE_BY_CASE, rule=case_by_case),
    _no_cash(14),
    _no_cash(15),
    MeasureRule(
        id="M16-task", clause=16, kind=ANNUAL_QUOTA,
        facts=(Fact("task_year", YEAR, "任务发布年度", "year the task was published"),
               Fact("task", TEXT, "任务编号或名称", "task number or name")),
        rule=m16_task, quota=QuotaRule("task_year", "task", "tasks_per_year"),
        params={"tasks_per_year": COUNT, "amount": AMOUNT},
        readings=(("每个任务只奖励一次(无论揭榜企业);每年至多10个不同任务获奖", "each task is awarded once, "
                   "whoever took it; at most 10 distinct tasks are awarded per task year"),),
        examples=(Example({"task_year": 2023, "task": "T-2023-01"}),),
    ),
    MeasureRule(id="M16-forum", clause=16, kind=CASE_BY_CASE, rule=case_by_case),
    _no_cash(17),
    MeasureRule(
        id="M18-park", clause=18, kind=FIXED,
        facts=(Fact("enterprises", INT, "入园企业数", "enterprises in the park"),
               Fact("revenue_yuan", YUAN, "园区总营业收入(元)", "total revenue of the park, yuan")),
        rule=m18_park, once=ONCE_PER_PROJECT, params={"enterprises": COUNT, "revenue": AMOUNT, "amount": AMOUNT},
        readings=(_PARK_READING,),
        examples=(Example({"enterprises": 20, "revenue_yuan": "30亿"}),),
    ),
)
