"""What people read from the domain, in English and in Chinese: refusals, invalid input, warnings and
audit findings are formatted when raised, in the current language; the code and the field never change.
And no message site in ledger/ or projections/ is left as a bare literal or f-string."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from ledger.errors import Refused
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store import chain
from tests.conftest import USCC_A, memory_ledger

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "ledger" / "locale" / "zh_CN" / "LC_MESSAGES" / "ledger.po"


def run(app: GrantsLedger, **line: Any) -> dict[str, Any]:
    return app.execute(parse_command(line, "tester"))


def refused(app: GrantsLedger, **line: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        run(app, **line)
    return caught.value


@pytest.fixture
def app() -> GrantsLedger:
    ledger = memory_ledger()
    run(ledger, op="adopt-policy", effective="2022-09-01")
    run(ledger, op="register", uscc=USCC_A, name="十堰数智科技有限公司", area="张湾区")
    return ledger


def security(app: GrantsLedger, ref: str, city_enterprises: int = 11) -> dict[str, Any]:
    """M03-security: 10% of a contract of 30万 is 3万, owed 1.5万 by the city and 1.5万 by 张湾区."""
    return run(app, op="apply", ref=ref, uscc=USCC_A, measure="M03-security", project="HT-1", date="2023-03-01",
               facts={"city_enterprises": city_enterprises, "annual_revenue_yuan": "600万",
                      "contract_yuan": "300000"})


OVER_PAYMENT = {
    "en": "amount_fen: the city share of S-1 is 15,000.00 yuan, 15,000.00 yuan already paid; at most 0.00 yuan more "
          "may be paid, not 1.00 yuan",
    "zh": "amount_fen：S-1的市级分担额为15,000.00元，已拨付15,000.00元；最多还可拨付0.00元，而非1.00元",
}


def test_an_over_payment_is_refused_in_yuan_in_the_chosen_language(app: GrantsLedger, language: str) -> None:
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    run(app, op="pay", ref="S-1", payer="city", amount_fen=1_500_000, voucher="V-1", date="2023-04-02")
    refusal = refused(app, op="pay", ref="S-1", payer="city", amount_fen=100, voucher="V-2", date="2023-04-03")
    assert (refusal.code, refusal.field) == ("over-payment", "amount_fen")
    assert refusal.message == OVER_PAYMENT[language]
    assert refusal.as_dict() == {"code": "over-payment", "message": OVER_PAYMENT[language], "field": "amount_fen"}


WRONG_STATE = {
    "en": "S-1 is approved; only a submitted application can be rejected",
    "zh": "S-1的状态为已批准；只有已申报的申请才能驳回",
}


def test_a_decision_on_a_decided_application_names_its_status_in_words(app: GrantsLedger, language: str) -> None:
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    refusal = refused(app, op="reject", ref="S-1", date="2023-04-02", reason="x")
    assert (refusal.code, refusal.message) == ("wrong-state", WRONG_STATE[language])


INVALID_DATE = {
    "en": "date: “2023/13/01” is not a day of the calendar",
    "zh": "date：“2023/13/01”不是日历上存在的日期",
}
NOT_A_DATE = {
    "en": "date: “15.04.2023” is not a date; write 2023-04-15, 2023/04/15 or 2023年4月15日",
    "zh": "date：“15.04.2023”不是日期；请写作 2023-04-15、2023/04/15 或 2023年4月15日",
}
NOT_A_PAYER = {
    "en": "payer: “treasury” is not a payer; allowed: city (市级财政), county (the enterprise's area)",
    "zh": "payer：“treasury”不是承担方；可选：city（市级财政）、county（企业所在县（市、区）财政）",
}


@pytest.mark.parametrize(("line", "expected"), [
    ({"date": "2023/13/01"}, INVALID_DATE),
    ({"date": "15.04.2023"}, NOT_A_DATE),
    ({"payer": "treasury"}, NOT_A_PAYER),
])
def test_invalid_input_names_the_field_and_what_is_allowed(language: str, line: dict[str, Any],
                                                           expected: dict[str, str]) -> None:
    pay = {"op": "pay", "ref": "S-1", "payer": "city", "amount_fen": 100, "voucher": "V-1", "date": "2023-04-15"}
    with pytest.raises(Refused) as caught:
        parse_command(pay | line, "tester")
    assert (caught.value.code, caught.value.field) == ("invalid-input", next(iter(line)))
    assert caught.value.message == expected[language]


WARNING = {
    "en": "S-1 is recorded, but the facts as filed do not meet the clause: M03-security (clause 3) does not apply: "
          "city_enterprises = 5: must be more than 10 -> NOT met. It cannot be approved as it "
          "stands (not-eligible); amend it (补正), or reject it",
    "zh": "S-1已记录，但所申报的事实不符合条款：M03-security（第3条）不适用：city_enterprises = 5,要求服务本市企业数超10家:"
          "不符合。按现状不能批准（not-eligible）；请更正申报（补正）或驳回",
}


def test_the_ineligibility_warning_and_its_failed_test_are_in_the_chosen_language(app: GrantsLedger,
                                                                                  language: str) -> None:
    result = security(app, "S-1", city_enterprises=5)
    assert result["eligible"] is False and result["warning"] == WARNING[language]


CONFLICT = {
    "en": "voucher: payment “V-1” of the city treasury is already recorded with other content (amount_fen: "
          "recorded 10,000.00 yuan, given 10,000.01 yuan); nothing was written. Correct the record with its own "
          "command (amend, reverse-payment, ...) or use a new key",
    "zh": "voucher：市级财政凭证号为“V-1”的拨付已按其他内容记录（amount_fen：已记录1万元，本次给出10,000.01元）；"
          "未写入任何内容。请用相应的命令更正记录（amend、reverse-payment 等），或使用新的编号",
}


def test_a_conflicting_retry_lists_the_differences_in_yuan_without_python_reprs(app: GrantsLedger,
                                                                                 language: str) -> None:
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    run(app, op="pay", ref="S-1", payer="city", amount_fen=1_000_000, voucher="V-1", date="2023-04-02")
    refusal = refused(app, op="pay", ref="S-1", payer="city", amount_fen=1_000_001, voucher="V-1", date="2023-04-02")
    assert (refusal.code, refusal.message) == ("conflicting-retry", CONFLICT[language])
    assert "'" not in refusal.message


def test_a_conflicting_application_shows_its_facts_as_a_person_writes_them(app: GrantsLedger) -> None:
    security(app, "S-1")
    refusal = refused(app, op="apply", ref="S-1", uscc=USCC_A, measure="M03-security", project="HT-1",
                      date="2023-03-01", facts={"city_enterprises": 12, "annual_revenue_yuan": "600万",
                                                "contract_yuan": "300000"})
    assert refusal.code == "conflicting-retry"
    assert "facts: recorded {city_enterprises = 11, annual_revenue_yuan = “6000000.00”" in refusal.message
    assert "{'" not in refusal.message and "'}" not in refusal.message


REMOVED = {
    "en": "the chain seals an event at this position that is no longer in the log",
    "zh": "哈希链在该位置封存了一个已不在日志中的事件",
}


def test_an_audit_finding_is_described_in_the_chosen_language(language: str) -> None:
    link = (1, 0, "0" * 32, 1, "grants:Enterprise.Registered", "0" * 64, "0" * 64)
    walked = chain.walk([(None, link)])
    assert walked.broken is not None and walked.broken.code == chain.REMOVED
    assert walked.broken.differs == REMOVED[language]


# --- the catalogue, and the message sites ------------------------------------------------

def test_every_domain_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 250
    placeholders = re.compile(r"\{[a-z_]*\}")
    for message in messages:
        assert message.string, f"untranslated: {message.id}"
        assert sorted(set(placeholders.findall(message.string))) == sorted(set(placeholders.findall(message.id))), \
            message.id


# Callables that take a message people read, and the position of that argument.
MESSAGE_ARGUMENT = {"Refused": 1, "invalid": 1, "refuse": 0, "_refuse": 0, "StoreError": 1, "MoneyError": 0,
                    "Finding": 4, "Break": 5, "Busy": 0, "ImportStopped": 0, "NoChain": 0, "UnknownTopic": 0}
TRANSLATE = {"_", "ngettext"}


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _assignments(scope: ast.AST, name: str) -> list[ast.expr]:
    found: list[ast.expr] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found.append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            found.append(node.value)
    return found


def _translated(node: ast.expr, scope: ast.AST, seen: frozenset[str] = frozenset()) -> bool:
    """Is ``node`` a message in the current language: a _() call, built from one, or a value carrying one?"""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    if isinstance(node, ast.Call):
        if _callee(node) in TRANSLATE:
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "strip"):
            return _translated(node.func.value, scope, seen)
        return not any(isinstance(a, ast.JoinedStr) or (isinstance(a, ast.Constant) and isinstance(a.value, str))
                       for a in node.args)  # str(exc), a helper's result
    if isinstance(node, ast.BinOp):
        return _translated(node.left, scope, seen) and _translated(node.right, scope, seen)
    if isinstance(node, ast.IfExp):
        return _translated(node.body, scope, seen) and _translated(node.orelse, scope, seen)
    if isinstance(node, ast.Name):
        if node.id in seen:  # message = message.format(...): the first assignment decides
            return True
        return all(_translated(value, scope, seen | {node.id}) for value in _assignments(scope, node.id))
    return True  # an attribute (refusal.message) or a subscript: a message made elsewhere


def _message_sites() -> Iterator[tuple[str, ast.Call, ast.AST]]:
    """Every call that takes a message, with its innermost enclosing function (or the module)."""
    for folder in ("ledger", "projections"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            sites: dict[int, tuple[ast.Call, ast.AST]] = {}
            scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
            for scope in scopes:  # outer scopes first, so an inner function's calls end with the inner scope
                for node in ast.walk(scope):
                    if isinstance(node, ast.Call) and _callee(node) in MESSAGE_ARGUMENT:
                        sites[id(node)] = (node, scope)
            for call, scope in sites.values():
                yield f"{path.relative_to(ROOT)}:{call.lineno}", call, scope


def test_no_message_site_is_a_bare_literal_or_f_string() -> None:
    sites = 0
    offenders = []
    for where, call, scope in _message_sites():
        index = MESSAGE_ARGUMENT[_callee(call)]
        keyword = next((k.value for k in call.keywords if k.arg in ("message", "differs")), None)
        argument = call.args[index] if len(call.args) > index else keyword
        if argument is None:
            continue
        sites += 1
        if not _translated(argument, scope):
            offenders.append(f"{where}: {ast.unparse(argument)[:100]}")
    assert sites > 170 and offenders == []


def test_the_site_check_finds_an_untranslated_message() -> None:
    tree = ast.parse('def f(x):\n    raise invalid("date", f"{x} is wrong")\n'
                     'def g(x):\n    m = "plain"\n    raise Refused(CODE, m)\n'
                     'def h(x):\n    raise invalid("date", _("{x} is wrong").format(x=x))\n')
    verdicts = [_translated(call.args[1], scope) for scope in tree.body for call in ast.walk(scope)
                if isinstance(call, ast.Call) and _callee(call) in MESSAGE_ARGUMENT]
    assert verdicts == [False, False, True]
