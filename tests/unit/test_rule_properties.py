"""Properties of the rules that must hold for every fact set, not just the worked examples.

Expected outcomes are computed here, independently, from the words of the policy
(以上/达到/不低于 >=, 超过/超 >, 突破 read as >, 不超过 a cap), with money as integer
fen: 1 yuan = 100 fen, 万元 = 1,000,000 fen, 亿元 = 10,000,000,000 fen.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.money import MoneyError, format_fen, parse_yuan, split_shares
from ledger.errors import Refused
from ledger.policy import catalogue
from ledger.policy.facts import normalize_fact

WAN = 1_000_000  # fen in 1万元
YI = 10_000_000_000  # fen in 1亿元
APPLIED = date(2023, 6, 1)

PROPERTY = settings(max_examples=200, deadline=None)


def decide(measure_id: str, raw_facts: dict[str, Any], applied_on: date = APPLIED) -> int | str:
    """The entitlement in fen, "case-by-case", or the refusal code of an application."""
    measure = catalogue().measure(measure_id)
    try:
        assessment = measure.assess(measure.normalize(raw_facts), applied_on, "property")
    except Refused as refusal:
        return refusal.code
    if assessment.case_by_case:
        return "case-by-case"
    assert assessment.entitlement_fen is not None
    return assessment.entitlement_fen


def yuan_text(fen: int) -> str:
    """Fen written as a yuan amount with two decimals, the way an application states it."""
    return f"{fen // 100}.{fen % 100:02d}"


def near(threshold: int, spread: int = 3) -> st.SearchStrategy[int]:
    """Whole numbers right around a threshold (both sides and the number itself), or anywhere below twice it."""
    return st.one_of(st.integers(max(0, threshold - spread), threshold + spread), st.integers(0, 2 * threshold))


def near_fen(threshold_fen: int) -> st.SearchStrategy[int]:
    return near(threshold_fen, spread=2)


# --- caps and per-unit amounts ---------------------------------------------------------

SECURITY_OK = {"city_enterprises": 11, "annual_revenue_yuan": "500万"}
DATACENTER_OK = {"pue_reduction": "0.02", "cloud_share_percent": "15", "cloud_enterprises": 301}
EDGE_OK = {"indirect_benefit_yuan": "300万"}

RACK_ITEMS = [  # (measure, facts besides racks, fen per rack, cap in fen)
    ("M10-datacenter", DATACENTER_OK, 1_000 * 100, 200 * WAN),
    ("M10-edge", EDGE_OK, 3_000 * 100, 50 * WAN),
]


@PROPERTY
@given(contract_fen=st.integers(10, 10**14))
def test_security_award_never_exceeds_ten_wan(contract_fen: int) -> None:
    award = decide("M03-security", {**SECURITY_OK, "contract_yuan": yuan_text(contract_fen)})
    assert isinstance(award, int)
    assert award <= 10 * WAN  # 不超过10万元
    assert award * 10 <= contract_fen  # 不超过合同额10%


@PROPERTY
@given(contract_fen=st.integers(10, 100 * WAN))
def test_security_award_is_ten_percent_of_the_contract_rounded_down_to_the_fen(contract_fen: int) -> None:
    award = decide("M03-security", {**SECURITY_OK, "contract_yuan": yuan_text(contract_fen)})
    assert isinstance(award, int)
    assert award * 10 <= contract_fen < (award + 1) * 10


@PROPERTY
@given(racks=st.integers(1, 10**7))
def test_datacenter_award_never_exceeds_two_hundred_wan(racks: int) -> None:
    award = decide("M10-datacenter", {**DATACENTER_OK, "racks": racks})
    assert isinstance(award, int) and 0 < award <= 200 * WAN


@PROPERTY
@given(racks=st.integers(1, 10**7))
def test_edge_award_never_exceeds_fifty_wan(racks: int) -> None:
    award = decide("M10-edge", {**EDGE_OK, "racks": racks})
    assert isinstance(award, int) and 0 < award <= 50 * WAN


@pytest.mark.parametrize(("measure", "facts", "rate", "cap"), RACK_ITEMS, ids=[m[0] for m in RACK_ITEMS])
@PROPERTY
@given(data=st.data())
def test_rack_award_is_racks_times_rate_below_the_cap(measure: str, facts: dict[str, Any], rate: int, cap: int,
                                                       data: st.DataObject) -> None:
    racks = data.draw(st.integers(1, cap // rate), label="racks")
    assert decide(measure, {**facts, "racks": racks}) == racks * rate


@pytest.mark.parametrize(("measure", "facts", "rate", "cap"), RACK_ITEMS, ids=[m[0] for m in RACK_ITEMS])
@PROPERTY
@given(data=st.data())
def test_rack_award_never_decreases_with_one_more_rack_and_stays_at_the_cap(
        measure: str, facts: dict[str, Any], rate: int, cap: int, data: st.DataObject) -> None:
    racks = data.draw(st.one_of(st.integers(cap // rate - 3, cap // rate + 3), st.integers(1, 3 * cap // rate)),
                      label="racks")
    now = decide(measure, {**facts, "racks": racks})
    more = decide(measure, {**facts, "racks": racks + 1})
    assert isinstance(now, int) and isinstance(more, int)
    assert more >= now
    if racks * rate >= cap:
        assert now == more == cap
    else:
        assert more - now == min(rate, cap - now)


# --- the 50/50 split ------------------------------------------------------------------

@PROPERTY
@given(award=st.integers(0, 10**15))
def test_split_halves_add_up_to_the_award(award: int) -> None:
    city, county = split_shares(award)
    assert city + county == award


@PROPERTY
@given(award=st.integers(0, 10**15))
def test_split_halves_differ_by_at_most_one_fen_and_the_city_takes_the_odd_fen(award: int) -> None:
    city, county = split_shares(award)
    assert county >= 0
    assert city - county == award % 2


# --- eligibility iff every threshold holds, from the words of each clause -------------

@PROPERTY
@given(local=near(100), devices=near(3000))
def test_industry_platform_pays_iff_more_than_100_enterprises_and_more_than_3000_devices(local: int,
                                                                                        devices: int) -> None:
    # 服务本地企业数超过100家且设备连接数超过3000台(套)
    expected = 200 * WAN if local > 100 and devices > 3000 else "not-eligible"
    facts = {"route": "industry-platform", "local_enterprises": local, "connected_devices": devices}
    assert decide("M03-platform", facts) == expected


@PROPERTY
@given(new=near(100), registrations=near(100_000_000), daily=near(600_000))
def test_identifier_node_pays_iff_each_count_is_not_below_its_floor(new: int, registrations: int, daily: int) -> None:
    # 新增接入企业不低于100家、新增注册量不低于1亿、日均解析量不低于60万
    holds = new >= 100 and registrations >= 100_000_000 and daily >= 600_000
    facts = {"route": "identifier-node", "new_enterprises": new, "new_registrations": registrations,
             "daily_resolutions": daily}
    assert decide("M03-platform", facts) == (200 * WAN if holds else "not-eligible")


@PROPERTY
@given(city=near(10), revenue=near_fen(500 * WAN), contract=st.integers(1, 200 * WAN))
def test_security_service_pays_iff_more_than_10_city_enterprises_and_500_wan_revenue(city: int, revenue: int,
                                                                                     contract: int) -> None:
    # 服务本市企业数超10家、年营业收入500万元以上; 不超过合同额10%, 不超过10万元
    # a contract under 0.10 yuan gives 0 fen: nothing to award, so not eligible either
    holds = city > 10 and revenue >= 500 * WAN and contract // 10 > 0
    facts = {"city_enterprises": city, "annual_revenue_yuan": yuan_text(revenue), "contract_yuan": yuan_text(contract)}
    assert decide("M03-security", facts) == (min(contract // 10, 10 * WAN) if holds else "not-eligible")


SAVING_GIVEN = st.sampled_from([(True, False), (False, True), (True, True)])


@PROPERTY
@given(given_=SAVING_GIVEN, pue_ten_thousandths=near(200), kwh=near(3_000_000), share_hundredths=near(1500),
       on_cloud=near(300), racks=st.integers(0, 3000))
def test_datacenter_pays_iff_saving_cloud_share_and_cloud_enterprises_hold(
        given_: tuple[bool, bool], pue_ten_thousandths: int, kwh: int, share_hundredths: int, on_cloud: int,
        racks: int) -> None:
    # PUE降低0.02以上(或等效节约用电300万千瓦时以上), 高水平云服务占比达到15%以上, 服务上云企业数超过300家;
    # 每个在用物理机架1000元, 最高不超过200万元
    pue_given, kwh_given = given_
    facts: dict[str, Any] = {
        "cloud_share_percent": f"{share_hundredths // 100}.{share_hundredths % 100:02d}",
        "cloud_enterprises": on_cloud,
        "racks": racks,
    }
    if pue_given:
        facts["pue_reduction"] = f"{pue_ten_thousandths // 10_000}.{pue_ten_thousandths % 10_000:04d}"
    if kwh_given:
        facts["energy_saved_kwh"] = kwh
    saving = (pue_given and pue_ten_thousandths >= 200) or (kwh_given and kwh >= 3_000_000)
    holds = saving and share_hundredths >= 1500 and on_cloud > 300 and racks >= 1
    assert decide("M10-datacenter", facts) == (min(racks * 100_000, 200 * WAN) if holds else "not-eligible")


@PROPERTY
@given(given_=SAVING_GIVEN, benefit=near_fen(300 * WAN), people=near(300_000), racks=st.integers(0, 400))
def test_edge_datacenter_pays_iff_benefit_reaches_300_wan_or_more_than_300000_people_are_served(
        given_: tuple[bool, bool], benefit: int, people: int, racks: int) -> None:
    # 间接经济效益达到300万元以上(或年服务群众超过30万人次); 每个在用物理机架3000元, 最高不超过50万元
    benefit_given, people_given = given_
    facts: dict[str, Any] = {"racks": racks}
    if benefit_given:
        facts["indirect_benefit_yuan"] = yuan_text(benefit)
    if people_given:
        facts["people_served"] = people
    holds = ((benefit_given and benefit >= 300 * WAN) or (people_given and people > 300_000)) and racks >= 1
    assert decide("M10-edge", facts) == (min(racks * 300_000, 50 * WAN) if holds else "not-eligible")


@PROPERTY
@given(output=near_fen(YI), product=st.sampled_from(
    ["automotive-electronics", "electronic-control", "smart-driving", "wiring-harness", "sensor"]))
def test_auto_electronics_pays_iff_output_reaches_one_yi(output: int, product: str) -> None:
    # 产值首次达到1亿元, 奖励100万元
    expected = 100 * WAN if output >= YI else "not-eligible"
    assert decide("M11-auto-electronics", {"product": product, "output_yuan": yuan_text(output)}) == expected


@PROPERTY
@given(investment=near_fen(5 * YI))
def test_major_project_is_decided_case_by_case_iff_investment_reaches_five_yi(investment: int) -> None:
    # 总投资5亿元以上 ... 采取“一事一议”方式给予支持
    expected = "case-by-case" if investment >= 5 * YI else "not-eligible"
    assert decide("M11-major-project", {"investment_yuan": yuan_text(investment)}) == expected


REGISTRATION_DAYS = st.dates(date(2019, 1, 1), date(2024, 12, 31))


def _two_years_on(day: date) -> date:
    # 民法典 第二百零二条: 没有对应日的,月末日为期间的最后一日 (29 February -> 28 February)
    return date(day.year + 2, 2, 28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year + 2)


@PROPERTY
@given(registered=REGISTRATION_DAYS, offset=st.one_of(st.integers(-3, 3), st.integers(725, 736),
                                                      st.integers(-400, 1200)),
       capital=near_fen(2000 * WAN), revenue=near_fen(YI))
def test_new_software_enterprise_pays_iff_capital_revenue_and_two_year_window_hold(
        registered: date, offset: int, capital: int, revenue: int) -> None:
    # 实缴注册资本2000万元及以上且两年内年营业收入突破1亿元 (突破 read as more than)
    year_end = registered + timedelta(days=offset)
    two_years_on = _two_years_on(registered)
    holds = capital >= 2000 * WAN and revenue > YI and registered < year_end <= two_years_on
    facts = {"registered_on": registered.isoformat(), "paid_in_capital_yuan": yuan_text(capital),
             "annual_revenue_yuan": yuan_text(revenue), "revenue_year_end": year_end.isoformat()}
    assert decide("M12-new-software", facts) == (200 * WAN if holds else "not-eligible")


WINDOW_DAYS = st.dates(date(2022, 9, 1), date(2025, 8, 31))


@PROPERTY
@given(applied=WINDOW_DAYS, years_before=st.integers(-1, 3), prize=st.integers(0, 6),
       tier=st.sampled_from(["national", "provincial"]))
def test_5g_prize_pays_iff_third_prize_or_better_in_the_previous_year(applied: date, years_before: int, prize: int,
                                                                      tier: str) -> None:
    # 上年度获得国家、省级5G应用征集大赛三等奖(含)以上名次的分别给予一次性奖补50万元、20万元
    award_year = applied.year - years_before
    holds = 1 <= prize <= 3 and award_year == applied.year - 1
    expected = {"national": 50 * WAN, "provincial": 20 * WAN}[tier] if holds else "not-eligible"
    assert decide("M09-5g", {"tier": tier, "prize": prize, "award_year": award_year}, applied) == expected


@PROPERTY
@given(applied=WINDOW_DAYS, years_before=st.integers(-1, 3))
def test_pilot_pays_iff_named_in_the_previous_year(applied: date, years_before: int) -> None:
    # 对上年度获得的...国家级试点示范企业(项目), 给予一次性奖补50万元
    award_year = applied.year - years_before
    expected = 50 * WAN if years_before == 1 else "not-eligible"
    assert decide("M09-pilot", {"field": "data-security", "award_year": award_year}, applied) == expected


@PROPERTY
@given(applied=WINDOW_DAYS, years_before=st.integers(-2, 3))
def test_innovation_task_pays_iff_published_no_later_than_the_application_year(applied: date,
                                                                               years_before: int) -> None:
    # 每年发布10个重点创新任务, 对揭榜后经考核认定实施成功的, 每个奖励50万元
    task_year = applied.year - years_before
    expected = 50 * WAN if task_year <= applied.year else "not-eligible"
    assert decide("M16-task", {"task_year": task_year, "task": "T-1"}, applied) == expected


@PROPERTY
@given(enterprises=near(20), revenue=near_fen(30 * YI))
def test_park_pays_iff_20_enterprises_and_30_yi_revenue(enterprises: int, revenue: int) -> None:
    # 入园企业达到20家以上且园区总营业收入达到30亿以上, 给予500万元的一次性奖励
    holds = enterprises >= 20 and revenue >= 30 * YI
    expected = 500 * WAN if holds else "not-eligible"
    assert decide("M18-park", {"enterprises": enterprises, "revenue_yuan": yuan_text(revenue)}) == expected


# --- money at the edges -----------------------------------------------------------------

@PROPERTY
@given(fen=st.integers(0, 10**17))
def test_parse_yuan_reads_back_what_format_fen_writes(fen: int) -> None:
    assert parse_yuan(format_fen(fen)) == fen


@PROPERTY
@given(whole=st.integers(0, 10**9), cents=st.integers(0, 99))
def test_parse_yuan_reads_two_decimals_exactly(whole: int, cents: int) -> None:
    assert parse_yuan(f"{whole}.{cents:02d}") == whole * 100 + cents


@PROPERTY
@given(amount=st.integers(0, 10**6), unit=st.sampled_from([("万", WAN), ("万元", WAN), ("亿", YI), ("亿元", YI)]))
def test_parse_yuan_reads_wan_and_yi(amount: int, unit: tuple[str, int]) -> None:
    word, fen = unit
    assert parse_yuan(f"{amount}{word}") == amount * fen


@PROPERTY
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_parse_yuan_refuses_every_float(value: float) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(value)


@PROPERTY
@given(whole=st.integers(0, 10**9), cents=st.integers(0, 99),
       extra=st.text("0123456789", min_size=0, max_size=5), last=st.sampled_from("123456789"))
def test_parse_yuan_refuses_a_fraction_of_a_fen(whole: int, cents: int, extra: str, last: str) -> None:
    # three or more decimals whose last digit is not 0: the amount is not a whole number of fen
    with pytest.raises(MoneyError):
        parse_yuan(f"{whole}.{cents:02d}{extra}{last}")


FACTS_OF_EVERY_MEASURE = [(m.id, f) for m in catalogue().measures.values() for f in m.facts]


@pytest.mark.parametrize(("measure", "fact"), FACTS_OF_EVERY_MEASURE,
                         ids=[f"{m}.{f.name}" for m, f in FACTS_OF_EVERY_MEASURE])
@settings(max_examples=20, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_no_fact_of_any_measure_accepts_a_float(measure: str, fact: Any, value: float) -> None:
    with pytest.raises(Refused) as refusal:
        normalize_fact(fact, value)
    assert refusal.value.code == "invalid-input"
    assert refusal.value.field == f"facts.{fact.name}"
