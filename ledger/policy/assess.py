"""Building blocks of a rule: threshold tests, amounts, and the trace they leave.

A rule reads facts and writes an Assessment: the amount the clause gives (the
entitlement) and every step that led to it, each step in a form a reviewer can
read next to the original text. Thresholds follow the words of the law
(民法典 第一千二百五十九条): 以上/达到/不低于 include the number (>=), 超过/超
exclude it (>), 不超过 is a cap (<=). 突破 is read as "more than" (>).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.domain.money import amount, format_fen
from ledger.errors import NOT_ELIGIBLE, Refused
from ledger.i18n import _, language

GE = ">="
GT = ">"
LE = "<="
EQ = "=="

_OPS = {
    GE: lambda a, b: a >= b,
    GT: lambda a, b: a > b,
    LE: lambda a, b: a <= b,
    EQ: lambda a, b: a == b,
}
_OP_EN = {GE: "at least", GT: "more than", LE: "at most", EQ: "equal to"}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass
class Assessment:
    """What a clause gives for a fact set, and why. Built by one rule call."""

    measure: str
    clause: int
    version: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    entitlement_fen: int | None = None
    case_by_case: bool = False

    def note(self, en: str, zh: str, **data: Any) -> None:
        """A step of reasoning that is not a test: a route taken, a reading applied."""
        self.steps.append({"step": "note", "en": en, "zh": zh, **data})

    def test(self, fact: str, value: Any, op: str, limit: Any, words: str, *, shown: str | None = None,
             shown_limit: str | None = None) -> bool:
        """Test one threshold and record it; a failed test makes the application not eligible."""
        passed = bool(_OPS[op](value, limit))
        step = {
            "step": "test",
            "fact": fact,
            "value": shown if shown is not None else _show(value),
            "op": op,
            "limit": shown_limit if shown_limit is not None else _show(limit),
            "words": words,
            "passed": passed,
        }
        # The Chinese words of the requirement go in the Chinese line only: an English reader gets the
        # condition itself, a Chinese one the policy's wording.
        step["en"] = f"{fact} = {step['value']}: must be {_OP_EN[op]} {step['limit']} -> {'met' if passed else 'NOT met'}"
        step["zh"] = f"{fact} = {step['value']},要求{words}:{'符合' if passed else '不符合'}"
        self.steps.append(step)
        if not passed:
            self.failures.append(step)
        return passed

    def test_any(self, tests: list[tuple[Any, ...]], en: str, zh: str) -> bool:
        """Alternative conditions (或): at least one must hold. Missing facts are skipped.

        Each test is (fact, value, op, limit, words) or, to show money in yuan,
        (fact, value, op, limit, words, shown value, shown limit).
        """
        results: list[dict[str, Any]] = []
        for name, value, op, limit, words, *shown in tests:
            if value is None:
                continue
            passed = bool(_OPS[op](value, limit))
            results.append({"fact": name, "value": shown[0] if shown else _show(value), "op": op,
                            "limit": shown[1] if shown else _show(limit), "words": words, "passed": passed})
        passed = any(r["passed"] for r in results)
        step = {"step": "any", "tests": results, "passed": passed,
                "en": f"{en}: {'met' if passed else 'NOT met'} ("
                      + "; ".join(f"{r['fact']} = {r['value']}: must be {_OP_EN[r['op']]} {r['limit']} "
                                          f"{'met' if r['passed'] else 'not met'}"
                                  for r in results) + ")",
                "zh": f"{zh}:{'符合' if passed else '不符合'}"}
        self.steps.append(step)
        if not passed:
            self.failures.append(step)
        return passed

    def refusal(self) -> Refused | None:
        """The not-eligible refusal these facts earn, naming each failed threshold; None when eligible.

        An award that computes to 0.00 yuan is no award: not eligible, and it uses up nothing.
        """
        if self.failures:
            # each failed test is described in both languages in the trace; the message takes the current one
            reasons = "; ".join(f["zh" if language() == "zh" else "en"] for f in self.failures)
            first = self.failures[0].get("fact")
            return Refused(NOT_ELIGIBLE, _("{measure} (clause {clause}) does not apply: {reasons}").format(
                measure=self.measure, clause=self.clause, reasons=reasons), field=f"facts.{first}" if first else "facts")
        if not self.case_by_case and self.entitlement_fen == 0:
            return Refused(NOT_ELIGIBLE, _("{measure} (clause {clause}): these facts give an award of {amount}; nothing "
                                           "is awarded (and no one-time award is used up)").format(
                measure=self.measure, clause=self.clause, amount=amount(0)), field="facts")
        return None

    @property
    def eligible(self) -> bool:
        return self.refusal() is None

    @property
    def due_fen(self) -> int | None:
        """What the clause gives these facts: None when they miss it (or the amount is decided case by case)."""
        return self.entitlement_fen if self.eligible else None

    def amount(self, fen: int, formula: str, zh: str) -> int:
        """Record the amount the clause gives, with the formula that produced it."""
        self.entitlement_fen = fen
        self.steps.append({"step": "amount", "formula": formula, "fen": fen,
                           "en": f"amount: {formula} = {format_fen(fen)} yuan",
                           "zh": f"金额:{zh} = {format_fen(fen)}元"})
        return fen

    def capped(self, computed_fen: int, cap_fen: int, formula: str, zh: str) -> int:
        """min(computed, cap), recorded with the cap and whether it bit."""
        fen = min(computed_fen, cap_fen)
        self.entitlement_fen = fen
        self.steps.append({"step": "amount", "formula": f"min({formula}, {format_fen(cap_fen)})",
                           "computed_fen": computed_fen, "cap_fen": cap_fen, "cap_applied": computed_fen > cap_fen,
                           "fen": fen,
                           "en": f"amount: min({formula}, cap {format_fen(cap_fen)}) = {format_fen(fen)} yuan"
                                 + (" (cap applied)" if computed_fen > cap_fen else ""),
                           "zh": f"金额:{zh},最高不超过{format_fen(cap_fen)}元 = {format_fen(fen)}元"})
        return fen
