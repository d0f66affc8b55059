"""A deterministic synthetic province: import lines (JSON Lines, the machine contract of
``ledger/intake/commands.py``) for a given number of enterprises.

    python -m bench.generate --enterprises 300 --seed 7 > province.jsonl

What it holds, for N enterprises:

- one ``adopt-policy`` (the 2022 catalogue, effective 2022-09-01, valid three years);
- N ``register`` lines with valid unified social credit codes (the check character of
  GB 32100-2015) in all ten county-level areas (enterprise i < 10 is in area i);
- applications under every cash measure item (enterprises 0-15 each open one of the
  sixteen items, and enterprises 3, 10, 17, ... take the forty 揭榜挂帅 tasks of clause
  16, ten a year for 2022-2025; after those, one in ten of them still tries, and is
  refused), with facts that pass the clause's thresholds: tiers, routes, racks,
  contracts, revenues in 万 and 亿, dates, booleans, the previous-year rule;
- decisions: most approved (case-by-case items with their amount and basis, some
  security contracts set below the 10% ceiling by the review), some rejected with a
  reason, some still pending; tier upgrades on the same project (就高补差);
- payments of both halves, the city's and the area treasury's, with vouchers unique per
  treasury; some halves paid in two instalments, some only in part, some not yet;
- awards under other policies (external-award): on their own projects, on a project that
  later gets this policy's award (paid the difference), and after this policy's award
  (the overlap is reported);
- about 5% of the lines refused on purpose, with several codes: not-eligible,
  invalid-input, outside-validity, not-grantable, unknown-measure, unknown-enterprise,
  unknown-application, over-payment, duplicate-ref, wrong-state, already-awarded,
  duplicate-award and quota-exhausted. Each refused line changes nothing, as in a real
  import; the lines after it go on.

Determinism: the same (enterprises, seed) gives the same lines, byte for byte. Each
enterprise's lines come from its own ``random.Random`` seeded from (seed, its index),
so enterprise i says the same thing whatever N is: ``generate(1000, s)`` holds the
enterprises of ``generate(100, s)`` and 900 more, and ``generate(1000, s, first=100)``
is exactly those 900 more (the benchmark imports a small province, measures, then
imports the rest). The lines are in the order of the day each thing happened (the
order an office would import them); lines of one enterprise keep their causal order.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
from datetime import date, timedelta
from typing import Any

from ledger.domain.areas import AREAS
from ledger.domain.money import split_shares, wan, yi
from ledger.domain.uscc import ALPHABET, make_uscc
from ledger.policy import CURRENT_CATALOGUE, catalogue

EFFECTIVE = date(2022, 9, 1)  # the policy version every application falls under
LAST_VALID = date(2025, 8, 31)  # valid three years: 2025-09-01 is the first day outside
VERSION = f"{CURRENT_CATALOGUE}@{EFFECTIVE.isoformat()}"

# Administrative division codes (characters 3-8 of a USCC) and voucher prefixes per area.
AREA_CODES = {
    "茅箭区": "420302", "张湾区": "420303", "郧阳区": "420304", "丹江口市": "420381", "郧西县": "420322",
    "竹山县": "420323", "竹溪县": "420324", "房县": "420325", "十堰经济技术开发区": "420300",
    "武当山旅游经济特区": "420300",
}
AREA_VOUCHER = {
    "茅箭区": "MJ", "张湾区": "ZW", "郧阳区": "YY", "丹江口市": "DJK", "郧西县": "YX", "竹山县": "ZS",
    "竹溪县": "ZX", "房县": "FX", "十堰经济技术开发区": "JK", "武当山旅游经济特区": "WDS",
}
AREA_SHORT = {
    "茅箭区": "茅箭", "张湾区": "张湾", "郧阳区": "郧阳", "丹江口市": "丹江口", "郧西县": "郧西", "竹山县": "竹山",
    "竹溪县": "竹溪", "房县": "房县", "十堰经济技术开发区": "十堰", "武当山旅游经济特区": "武当山",
}
# Where the enterprises are: the city districts and the development zone hold most of them.
AREA_WEIGHTS = (14, 20, 9, 10, 5, 5, 4, 5, 22, 6)

NAME_WORDS = ("数智", "云谷", "安盾", "汇通", "博远", "星联", "华创", "智联", "锐达", "天成", "恒信", "鑫源", "宏图",
              "瑞丰", "远航", "卓越", "凌云", "启明", "众诚", "九州", "楚天", "秦巴", "汉江", "车城", "水都", "武当")
NAME_TRADES = ("网络科技", "信息技术", "软件", "电子商务", "数据服务", "汽车电子", "智能装备", "工业互联网",
               "云计算", "数字科技", "电子信息", "智慧物流")
NAME_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")

# How often each cash measure item is applied for (M16-task is allocated by slot, below).
MEASURE_WEIGHTS = {
    "M03-security": 14, "M07-enterprise": 10, "M12-dual-software": 10, "M11-auto-electronics": 6,
    "M07-digital-commerce": 5, "M09-5g": 5, "M07-base": 4, "M09-pilot": 4, "M10-edge": 4, "M03-platform": 3,
    "M12-new-software": 3, "M10-datacenter": 2, "M11-major-project": 2, "M13-platform": 2, "M16-forum": 2,
    "M18-park": 2,
}
CASH_MEASURES = tuple(MEASURE_WEIGHTS)  # every cash item but M16-task; enterprise i < 16 opens item i
ONCE_PER_ENTERPRISE = {m.id for m in catalogue().measures.values() if m.once == "enterprise"}
TIERED = {"M07-base", "M07-enterprise", "M09-5g"}
# Items with a threshold a fact set can miss (for the not-eligible mistakes).
FAILABLE = {"M03-platform", "M03-security", "M09-5g", "M09-pilot", "M10-datacenter", "M10-edge",
            "M11-auto-electronics", "M12-new-software", "M12-dual-software", "M18-park"}

TASK_EVERY, TASK_AT = 7, 3  # enterprises 3, 10, 17, ... take the 揭榜挂帅 tasks
TASK_YEARS = (2022, 2023, 2024, 2025)
TASKS_A_YEAR = 10

DECIDERS = ("li.wei", "wang.fang", "chen.jing")
CITY_CASHIER = "zhao.min"
OTHER_POLICIES = ("十堰市促进园区高质量发展奖励办法", "湖北省数字经济发展专项资金", "十堰市科技创新奖励办法",
                  "湖北省制造业高质量发展专项资金")
REJECT_REASONS = ("申报材料不齐,未附审计报告", "现场核查与申报事实不符", "项目不在本市范围内实施",
                  "同一事项已享受其他市级财政奖励,申请人撤回", "逾期未补正材料")
BASES = ("市政府专题会议纪要〔{y}〕{n}号", "市数字经济领导小组会议纪要〔{y}〕{n}号", "市政府常务会议纪要〔{y}〕{n}号")
REVIEWS = ("专家评审意见〔{y}〕{n}号", "市经信局审核意见〔{y}〕{n}号")

# The deliberate refusals: the share of enterprises that make one mistake (about 5% of lines).
MISTAKE_RATE = 0.60
MISTAKES = ("not-eligible", "not-eligible", "invalid-input", "outside-validity", "not-grantable", "unknown-measure",
            "unknown-enterprise", "unknown-application", "over-payment", "duplicate-ref", "wrong-state",
            "already-awarded", "duplicate-award")


def d(day: date) -> str:
    return day.isoformat()


def _base31(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 31)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def uscc_for(index: int, area: str, rng: random.Random) -> str:
    """A valid USCC, unique per index: 9 (registered by market regulation) 1 (enterprise),
    the area's division code, then MA + 5 characters that encode the index + 2 random ones."""
    tail = "".join(rng.choice(ALPHABET) for _ in range(2))
    return make_uscc("91" + AREA_CODES[area] + "MA" + _base31(index, 5) + tail)


def _yuan_text(fen: int) -> str:
    """An amount as a clerk writes it: 万 / 亿 where it is round, else yuan with decimals."""
    if fen % (yi(1) // 100) == 0 and fen >= yi(1):  # 0.01亿 steps
        return f"{fen / yi(1):g}亿"
    if fen % wan(1) == 0:
        return f"{fen // wan(1)}万"
    return f"{fen // 100}.{fen % 100:02d}"


class _Enterprise:
    """Builds one enterprise's lines, each with the day it happened (the sort key)."""

    def __init__(self, index: int, seed: int) -> None:
        self.i = index
        self.rng = random.Random(f"grants-bench:{seed}:{index}")
        rng = self.rng
        self.area = AREAS[index] if index < len(AREAS) else rng.choices(AREAS, weights=AREA_WEIGHTS)[0]
        self.uscc = uscc_for(index, self.area, rng)
        self.name = (AREA_SHORT[self.area] + rng.choice(NAME_WORDS) + rng.choice(NAME_TRADES)
                     + rng.choice(NAME_FORMS))
        self.lines: list[tuple[date, int, dict[str, Any]]] = []
        self.seq = 0
        self.apps: list[dict[str, Any]] = []
        self.napps = 0
        self.nvouchers = 0
        self.used_once: set[str] = set()

    # --- helpers ------------------------------------------------------------

    def emit(self, when: date, line: dict[str, Any]) -> None:
        self.lines.append((when, self.seq, line))
        self.seq += 1

    def day_between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def new_ref(self, year: int) -> str:
        self.napps += 1
        return f"SY-{year}-{self.i:05d}{self.napps:02d}"

    def voucher(self, payer: str, day: date) -> str:
        self.nvouchers += 1
        prefix = "SZ" if payer == "city" else AREA_VOUCHER[self.area]
        return f"{prefix}-{day.year}-{self.i:05d}{self.nvouchers:03d}"

    def basis(self, day: date, review: bool = False) -> str:
        template = self.rng.choice(REVIEWS if review else BASES)
        return template.format(y=day.year, n=self.rng.randint(1, 60))

    def project(self, measure: str, k: int) -> str:
        stem = {
            "M03-platform": "工业互联网平台", "M03-security": "安全运维合同", "M07-base": "电子商务示范基地",
            "M07-enterprise": "电子商务示范企业创建", "M07-digital-commerce": "数字商务企业认定",
            "M09-5g": "5G应用", "M09-pilot": "国家级试点示范项目", "M10-datacenter": "数据中心",
            "M10-edge": "边缘数据中心", "M11-auto-electronics": "汽车电子产品项目", "M11-major-project": "数字经济产业项目",
            "M12-new-software": "企业整体", "M12-dual-software": "工业软件", "M13-platform": "数字化赋能平台",
            "M16-task": "揭榜挂帅任务", "M16-forum": "数字经济论坛", "M18-park": "数字经济产业园",
        }[measure]
        if measure == "M03-security":
            return f"HT-{self.i:05d}-{k:02d} {stem}"
        return f"{AREA_SHORT[self.area]}{stem}{self.i:05d}-{k:02d}"

    # --- facts (passing, and failing for a not-eligible mistake) -------------

    def facts(self, measure: str, applied: date, *, tier: str | None = None, fail: bool = False) -> dict[str, Any]:
        rng = self.rng
        year = applied.year
        if measure == "M03-platform":
            route = rng.choice(("industry-platform", "industry-platform", "dual-cross", "identifier-node"))
            if fail:
                return {"route": "industry-platform", "local_enterprises": rng.randint(40, 100),
                        "connected_devices": rng.randint(3001, 9000)}
            if route == "dual-cross":
                return {"route": route}
            if route == "industry-platform":
                return {"route": route, "local_enterprises": rng.randint(101, 400),
                        "connected_devices": rng.randint(3001, 20000)}
            return {"route": route, "new_enterprises": rng.randint(100, 600),
                    "new_registrations": rng.randint(100_000_000, 400_000_000),
                    "daily_resolutions": rng.randint(600_000, 2_000_000)}
        if measure == "M03-security":
            contract = rng.choice((rng.randint(20, 95) * 10_000, rng.randint(100_000, 3_000_000)))
            return {"city_enterprises": rng.randint(6, 10) if fail else rng.randint(11, 60),
                    "annual_revenue_yuan": f"{rng.randint(500, 3000)}万",
                    "contract_yuan": f"{contract}.{rng.randint(0, 99):02d}"}
        if measure in ("M07-base", "M07-enterprise"):
            return {"tier": tier or rng.choice(("national", "provincial", "provincial"))}
        if measure == "M07-digital-commerce":
            return {}
        if measure == "M09-5g":
            return {"tier": tier or rng.choice(("national", "provincial", "provincial")),
                    "prize": rng.randint(4, 6) if fail else rng.randint(1, 3), "award_year": year - 1}
        if measure == "M09-pilot":
            field = rng.choice(("smart-health-elderly-care", "data-security", "industrial-internet",
                                "smart-manufacturing", "blockchain"))
            return {"field": field, "award_year": year - 3 if fail else year - 1}
        if measure == "M10-datacenter":
            facts: dict[str, Any] = {"cloud_share_percent": f"{rng.randint(150, 400) / 10:.1f}",
                                     "cloud_enterprises": rng.randint(150, 300) if fail else rng.randint(301, 900),
                                     "racks": rng.randint(300, 3500)}
            if rng.random() < 0.7:
                facts["pue_reduction"] = f"0.0{rng.randint(20, 80):02d}"
            else:
                facts["energy_saved_kwh"] = rng.randint(3_000_000, 12_000_000)
            return facts
        if measure == "M10-edge":
            if fail:
                return {"people_served": rng.randint(50_000, 300_000), "racks": rng.randint(40, 300)}
            if rng.random() < 0.5:
                return {"people_served": rng.randint(300_001, 900_000), "racks": rng.randint(40, 300)}
            return {"indirect_benefit_yuan": f"{rng.randint(300, 2000)}万", "racks": rng.randint(40, 300)}
        if measure == "M11-auto-electronics":
            output = (rng.randint(30, 99) if fail else rng.randint(100, 450)) * yi(1) // 100  # 1.00亿 to 4.50亿
            return {"product": rng.choice(("automotive-electronics", "electronic-control", "smart-driving",
                                           "wiring-harness", "sensor")),
                    "output_yuan": _yuan_text(output)}
        if measure == "M11-major-project":
            return {"investment_yuan": f"{rng.randint(5, 40)}亿"}
        if measure == "M12-new-software":
            registered = self.day_between(date(2021, 1, 1), date(2023, 6, 30))
            year_end = date(registered.year + (3 if fail else 1), 12, 31)
            return {"registered_on": d(registered), "paid_in_capital_yuan": f"{rng.randint(2000, 8000)}万",
                    "annual_revenue_yuan": f"{rng.randint(101, 900) / 100:.2f}亿", "revenue_year_end": d(year_end)}
        if measure == "M12-dual-software":
            return {"dual_software_certified": not fail}
        if measure in ("M13-platform", "M16-forum"):
            return {}
        if measure == "M18-park":
            return {"enterprises": rng.randint(20, 80),
                    "revenue_yuan": f"{rng.randint(15, 29) if fail else rng.randint(30, 120)}亿"}
        raise AssertionError(measure)

    def applied_on(self, measure: str) -> date:
        """The day an application is filed: inside the window, and after what it relies on."""
        if measure == "M12-new-software":
            return self.day_between(date(2022, 9, 5), LAST_VALID - timedelta(days=40))
        return self.day_between(date(2022, 9, 5), date(2025, 7, 31))

    # --- one application and what follows it --------------------------------

    def application(self, measure: str, applied: date, *, facts: dict[str, Any] | None = None,
                    project: str | None = None, already_fen: int = 0, outcome: str | None = None) -> dict[str, Any]:
        rng = self.rng
        if measure == "M12-new-software" and facts is None:
            facts = self.facts(measure, applied)
            year_end = date.fromisoformat(facts["revenue_year_end"])
            applied = max(applied, year_end + timedelta(days=rng.randint(20, 120)))
            if applied > LAST_VALID:  # the revenue year ended too late for this window: an earlier company
                facts = None
                applied = self.day_between(date(2023, 2, 1), date(2023, 12, 31))
                facts = {"registered_on": d(date(2021, rng.randint(1, 12), rng.randint(1, 28))),
                         "paid_in_capital_yuan": f"{rng.randint(2000, 8000)}万",
                         "annual_revenue_yuan": f"{rng.randint(101, 900) / 100:.2f}亿",
                         "revenue_year_end": "2022-12-31"}
        if facts is None:
            facts = self.facts(measure, applied)
        k = self.napps + 1
        ref = self.new_ref(applied.year)
        project = project or self.project(measure, k)
        self.emit(applied, {"op": "apply", "ref": ref, "uscc": self.uscc, "measure": measure, "project": project,
                            "date": d(applied), "facts": facts})
        spec = catalogue().measure(measure)
        assessment = spec.assess(spec.normalize(facts), applied, VERSION)
        app = {"ref": ref, "measure": measure, "project": project, "applied": applied, "facts": facts,
               "entitlement": assessment.entitlement_fen, "status": "submitted", "city_share": 0,
               "county_share": 0, "decided": None, "paid_city": 0, "paid_county": 0}
        self.apps.append(app)
        if outcome is None:
            r = rng.random()
            outcome = "approve" if r < 0.84 else "reject" if r < 0.92 else "pending"
        decided = applied + timedelta(days=rng.randint(10, 60))
        if outcome == "approve":
            self.approve(app, decided, already_fen)
        elif outcome == "reject":
            self.emit(decided, {"op": "reject", "ref": ref, "date": d(decided), "by": rng.choice(DECIDERS),
                                "reason": rng.choice(REJECT_REASONS)})
            app["status"], app["decided"] = "rejected", decided
        return app

    def approve(self, app: dict[str, Any], decided: date, already_fen: int = 0) -> None:
        rng = self.rng
        line: dict[str, Any] = {"op": "approve", "ref": app["ref"], "date": d(decided), "by": rng.choice(DECIDERS)}
        measure = app["measure"]
        entitlement = app["entitlement"]
        if entitlement is None:  # case by case: the amount and its basis come with the approval
            low, high = {"M11-major-project": (200, 2000), "M13-platform": (50, 800), "M16-forum": (5, 50)}[measure]
            entitlement = wan(rng.randint(low, high))
            line["amount_fen"], line["basis"] = entitlement, self.basis(decided)
        elif measure == "M03-security" and rng.random() < 0.15:  # the review sets less than the 10% ceiling
            entitlement = entitlement * 8 // 10
            line["amount_fen"], line["basis"] = entitlement, self.basis(decided, review=True)
        self.emit(decided, line)
        awarded = entitlement - already_fen
        city, county = split_shares(awarded)
        app.update(status="approved", decided=decided, entitlement=entitlement, awarded=awarded, city_share=city,
                   county_share=county)
        if measure in ONCE_PER_ENTERPRISE:
            self.used_once.add(measure)
        self.payments(app)

    def payments(self, app: dict[str, Any]) -> None:
        rng = self.rng
        decided = app["decided"]
        for payer, share, full, cashier in (("city", app["city_share"], 0.86, CITY_CASHIER),
                                            ("county", app["county_share"], 0.74, "county.finance")):
            if share <= 0:
                continue
            r = rng.random()
            first_day = decided + timedelta(days=rng.randint(10, 90 if payer == "city" else 200))
            if r < full:
                if rng.random() < 0.15 and share >= 200:  # two instalments
                    part = share * rng.randint(30, 70) // 100
                    amounts = [part, share - part]
                else:
                    amounts = [share]
            elif r < full + 0.12:  # a part only, so far
                amounts = [max(1, share * rng.randint(20, 80) // 100)]
            else:
                amounts = []  # not yet paid
            day = first_day
            for amount in amounts:
                self.emit(day, {"op": "pay", "ref": app["ref"], "payer": payer, "amount_fen": amount,
                                "voucher": self.voucher(payer, day), "date": d(day), "by": cashier})
                app[f"paid_{payer}"] += amount
                app.setdefault("pay_lines", []).append(self.lines[-1])
                day = day + timedelta(days=rng.randint(30, 120))

    # --- the enterprise's whole story ---------------------------------------

    def build(self) -> list[tuple[date, int, dict[str, Any]]]:
        rng = self.rng
        measures = self.choose_measures()
        slot = self.task_slot()
        # An enterprise is entered in the ledger shortly before its first application.
        planned = [(m, self.applied_on(m)) for m in measures]
        if slot is not None:
            planned.append(("M16-task", self.task_day(slot)))
        first = min((day for _, day in planned), default=self.day_between(date(2022, 9, 5), date(2025, 6, 30)))
        registered = max(date(2022, 9, 2), first - timedelta(days=rng.randint(1, 45)))
        self.registered = registered
        line: dict[str, Any] = {"op": "register", "uscc": self.uscc, "name": self.name, "area": self.area}
        if rng.random() < 0.9:
            line["date"] = d(registered)
        mistake = rng.choice(MISTAKES) if rng.random() < MISTAKE_RATE else None
        if mistake == "invalid-input":  # a typo in the check character, then the right code
            wrong = self.uscc[:17] + ALPHABET[(ALPHABET.index(self.uscc[17]) + 1) % 31]
            self.emit(registered, {**line, "uscc": wrong})
            mistake = None
        self.emit(registered, line)
        if mistake == "unknown-enterprise":  # a branch that was never registered files under its own code
            branch = make_uscc("91" + AREA_CODES[self.area] + "MB" + _base31(self.i, 5) + "00")
            day = self.day_between(registered, date(2025, 7, 31))
            self.emit(day, {"op": "apply", "ref": self.new_ref(day.year), "uscc": branch, "measure": "M12-dual-software",
                            "project": "分公司工业软件", "date": d(day), "facts": {"dual_software_certified": True}})
            mistake = None

        external_first = rng.random() < 0.05
        for n, (measure, applied) in enumerate(planned):
            if measure == "M16-task":
                self.task_application(slot, applied)  # type: ignore[arg-type]
                continue
            if mistake == "not-eligible" and n == 0:  # facts that miss a threshold, then the right ones
                failing = measure if measure in FAILABLE else rng.choice(sorted(FAILABLE))
                self.emit(applied, {"op": "apply", "ref": self.new_ref(applied.year), "uscc": self.uscc,
                                    "measure": failing, "project": self.project(failing, self.napps),
                                    "date": d(applied), "facts": self.facts(failing, applied, fail=True)})
                mistake = None
                applied = applied + timedelta(days=rng.randint(5, 30))
            if external_first and measure in ("M18-park", "M03-platform"):
                # another policy paid part of it first; this policy pays the difference (就高补差)
                project = self.project(measure, self.napps + 1)
                amount = wan(rng.randint(5, 39) * 5)  # less than the 200万 / 500万 the clause gives
                ext_day = applied - timedelta(days=rng.randint(30, 300))
                self.emit(max(ext_day, registered), {"op": "external-award", "uscc": self.uscc, "project": project,
                                                     "policy": rng.choice(OTHER_POLICIES), "amount_fen": amount,
                                                     "date": d(ext_day)})
                app = self.application(measure, applied, project=project, already_fen=amount, outcome="approve")
                external_first = False
            else:
                app = self.application(measure, applied)
            if measure in TIERED and app["status"] == "approved" and app["facts"]["tier"] == "provincial" \
                    and rng.random() < 0.2 and app["decided"] < date(2025, 1, 1):
                # recognised at national level later on the same project: topped up by the difference
                up = self.day_between(app["decided"] + timedelta(days=60), date(2025, 7, 31))
                facts = self.facts(measure, up, tier="national")
                self.application(measure, up, facts=facts, project=app["project"], already_fen=app["awarded"],
                                 outcome="approve")

        if rng.random() < 0.08:
            self.external_award()
        if mistake:
            self.mistake(mistake)
        return self.lines

    def choose_measures(self) -> list[str]:
        rng = self.rng
        r = rng.random()
        count = 1 if r < 0.35 else 2 if r < 0.65 else 3 if r < 0.85 else rng.randint(4, 6) if r < 0.97 \
            else rng.randint(8, 16)
        chosen: list[str] = []
        if self.i < len(CASH_MEASURES):
            chosen.append(CASH_MEASURES[self.i])
        while len(chosen) < count:
            if count > 6 and rng.random() < 0.7:
                m = "M03-security"  # a busy security-service firm: one contract after another
            else:
                m = rng.choices(CASH_MEASURES, weights=tuple(MEASURE_WEIGHTS.values()))[0]
            if m in ONCE_PER_ENTERPRISE and m in chosen:
                continue
            chosen.append(m)
        return chosen

    # --- clause 16: ten tasks a year -----------------------------------------

    def task_slot(self) -> int | None:
        if self.i % TASK_EVERY != TASK_AT:
            return None
        slot = self.i // TASK_EVERY
        if slot >= len(TASK_YEARS) * TASKS_A_YEAR and slot % 10:
            return None  # once the forty tasks are taken, only one in ten of these enterprises still tries
        return slot

    def task_day(self, slot: int) -> date:
        if slot >= len(TASK_YEARS) * TASKS_A_YEAR:  # after every task of 2022 was awarded (see task_application)
            return self.day_between(date(2025, 8, 5), date(2025, 8, 15))
        year = TASK_YEARS[slot // TASKS_A_YEAR]
        return self.day_between(max(date(year, 3, 1), date(2022, 9, 5)), date(min(year + 1, 2025), 5, 31))

    def task_application(self, slot: int, applied: date) -> None:
        rng = self.rng
        if slot < len(TASK_YEARS) * TASKS_A_YEAR:
            year = TASK_YEARS[slot // TASKS_A_YEAR]
            facts = {"task_year": year, "task": f"JB-{year}-{slot % TASKS_A_YEAR + 1:02d}"}
            self.application("M16-task", applied, facts=facts, outcome="approve")
            return
        # The forty tasks of 2022-2025 are all awarded by 2025-07-31: this one is refused at approval,
        # as a task already awarded (a task number taken) or beyond the ten of its year, then rejected.
        if rng.random() < 0.5:
            facts = {"task_year": 2022, "task": f"JB-2022-{rng.randint(1, TASKS_A_YEAR):02d}"}
        else:
            facts = {"task_year": 2022, "task": f"JB-2022-{rng.randint(11, 20):02d}"}
        app = self.application("M16-task", applied, facts=facts, outcome="pending")
        day = date(2025, 8, 25)
        self.emit(day, {"op": "approve", "ref": app["ref"], "date": d(day), "by": rng.choice(DECIDERS)})
        self.emit(day + timedelta(days=3), {"op": "reject", "ref": app["ref"], "date": d(day + timedelta(days=3)),
                                            "by": rng.choice(DECIDERS), "reason": "本年度揭榜任务奖励已满或该任务已奖励"})

    # --- other policies and the mistakes ---------------------------------------

    def external_award(self) -> None:
        rng = self.rng
        approved = [a for a in self.apps if a["status"] == "approved"]
        projects = [a["project"] for a in self.apps]
        single = [a for a in approved if projects.count(a["project"]) == 1 and a["measure"] not in TIERED]
        if single and rng.random() < 0.4:  # after this policy's award on the same project: reported as overlap
            app = rng.choice(single)
            day = self.day_between(app["decided"] + timedelta(days=20), app["decided"] + timedelta(days=400))
            project = app["project"]
        else:  # on a project of its own
            day = self.day_between(self.registered, date(2025, 10, 31))
            project = f"{AREA_SHORT[self.area]}技改项目{self.i:05d}"
        self.emit(day, {"op": "external-award", "uscc": self.uscc, "project": project,
                        "policy": rng.choice(OTHER_POLICIES), "amount_fen": wan(rng.randint(5, 100)), "date": d(day)})

    def mistake(self, code: str) -> None:
        """One refused line (and, where an office would, what it did next)."""
        rng = self.rng
        approved = [a for a in self.apps if a["status"] == "approved"]
        paid = [a for a in approved if a.get("pay_lines")]
        county_due = [a for a in approved if a["county_share"] - a["paid_county"] > 0]
        day = self.day_between(self.registered + timedelta(days=1), date(2025, 7, 31))
        if code == "over-payment" and county_due:
            app = rng.choice(county_due)
            due = app["county_share"] - app["paid_county"]
            when = app["decided"] + timedelta(days=rng.randint(5, 60))
            self.emit(when, {"op": "pay", "ref": app["ref"], "payer": "county", "amount_fen": due * 10 + 1,
                             "voucher": self.voucher("county", when), "date": d(when), "by": "county.finance"})
            return
        if code == "duplicate-ref":
            # the same voucher entered twice (where the share leaves room for it), or the enterprise again
            repeatable = [(when, line) for a in paid for when, _, line in a["pay_lines"]
                          if a[f"paid_{line['payer']}"] + line["amount_fen"] <= a[f"{line['payer']}_share"]]
            if repeatable:
                when, line = rng.choice(repeatable)
                self.emit(when + timedelta(days=rng.randint(0, 3)), dict(line))
            else:
                self.emit(day, {"op": "register", "uscc": self.uscc, "name": self.name, "area": self.area})
            return
        if code == "wrong-state" and approved:
            app = rng.choice(approved)
            when = app["decided"] + timedelta(days=rng.randint(0, 5))
            self.emit(when, {"op": "approve", "ref": app["ref"], "date": d(when), "by": rng.choice(DECIDERS)})
            return
        if code == "unknown-application" and approved:
            app = rng.choice(approved)
            when = app["decided"] + timedelta(days=rng.randint(5, 60))
            self.emit(when, {"op": "pay", "ref": app["ref"].replace("SY-", "SY"), "payer": "city", "amount_fen": 100,
                             "voucher": self.voucher("city", when), "date": d(when), "by": CITY_CASHIER})
            return
        once = [a for a in approved if a["measure"] in ONCE_PER_ENTERPRISE and a["measure"] not in TIERED
                and a["decided"] < date(2025, 7, 1)]
        if code == "already-awarded" and once:
            # a second application under a one-time item, on another project: refused at approval, then rejected
            first = rng.choice(once)
            when = self.day_between(first["decided"] + timedelta(days=1), date(2025, 7, 31))
            app = self.application(first["measure"], when, facts=dict(first["facts"]), outcome="pending")
            decided = when + timedelta(days=rng.randint(10, 30))
            self.emit(decided, {"op": "approve", "ref": app["ref"], "date": d(decided), "by": rng.choice(DECIDERS)})
            self.emit(decided, {"op": "reject", "ref": app["ref"], "date": d(decided), "by": rng.choice(DECIDERS),
                                "reason": "一次性奖励已享受"})
            return
        if code == "duplicate-award":
            # another policy already paid more on this project: nothing more is due (就高不重复)
            project = f"{AREA_SHORT[self.area]}电商综合项目{self.i:05d}"
            ext_day = self.day_between(self.registered, date(2025, 3, 31))
            self.emit(ext_day, {"op": "external-award", "uscc": self.uscc, "project": project,
                                "policy": rng.choice(OTHER_POLICIES), "amount_fen": wan(rng.randint(100, 300)),
                                "date": d(ext_day)})
            when = self.day_between(ext_day + timedelta(days=10), date(2025, 7, 31))
            app = self.application("M07-digital-commerce" if "M07-digital-commerce" not in self.used_once
                                   else "M11-auto-electronics", when, project=project, outcome="pending")
            decided = when + timedelta(days=rng.randint(10, 30))
            self.emit(decided, {"op": "approve", "ref": app["ref"], "date": d(decided), "by": rng.choice(DECIDERS)})
            self.emit(decided, {"op": "reject", "ref": app["ref"], "date": d(decided), "by": rng.choice(DECIDERS),
                                "reason": "就高不重复:其他政策已奖励更高金额"})
            return
        if code == "outside-validity":
            early = self.day_between(date(2022, 3, 1), date(2022, 8, 31))
            self.emit(day, {"op": "apply", "ref": self.new_ref(early.year), "uscc": self.uscc, "measure": "M07-enterprise",
                            "project": "电子商务示范企业创建(旧)", "date": d(early), "facts": {"tier": "provincial"}})
            return
        if code == "unknown-measure":
            self.emit(day, {"op": "apply", "ref": self.new_ref(day.year), "uscc": self.uscc, "measure": "M7-base",
                            "project": "电商基地", "date": d(day), "facts": {"tier": "provincial"}})
            return
        # not-grantable (and the fallback when a mistake's precondition is missing): a clause that pays no cash
        self.emit(day, {"op": "apply", "ref": self.new_ref(day.year), "uscc": self.uscc,
                        "measure": rng.choice(("M05", "M06", "M17")), "project": "数字化转型",
                        "date": d(day), "facts": {}})


def generate(enterprises: int, seed: int, *, first: int = 0) -> list[dict[str, Any]]:
    """The import lines of enterprises ``first`` to ``enterprises - 1`` (with the policy's
    adoption when ``first`` is 0), in the order they happened."""
    if enterprises < 0 or first < 0:
        raise ValueError("enterprises and first must not be negative")
    keyed: list[tuple[date, int, int, dict[str, Any]]] = []
    if first == 0:
        keyed.append((date(2022, 9, 1), -1, 0, {"op": "adopt-policy", "effective": d(EFFECTIVE),
                                                  "by": "policy.office"}))
    for index in range(first, enterprises):
        for when, seq, line in _Enterprise(index, seed).build():
            keyed.append((when, index, seq, line))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [line for _, _, _, line in keyed]


def dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=300, help="how many enterprises (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="the seed (default 1)")
    parser.add_argument("--first", type=int, default=0, help="start at this enterprise (default 0)")
    args = parser.parse_args(argv)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    out = sys.stdout.buffer
    for line in generate(args.enterprises, args.seed, first=args.first):
        out.write(dumps(line).encode("utf-8") + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
