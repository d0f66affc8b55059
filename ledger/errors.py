"""Refusals: the one place where a command is turned down.

Every refusal carries a stable machine code (part of the machine contract), the
field it is about (when there is one) and a message that says what is wrong and
what is allowed. Nothing is written when a command is refused.

The message is written in the current language (``ledger.i18n``) when the refusal is
raised; the code and the field never change with the language.
"""

from __future__ import annotations

from ledger.i18n import _

INVALID_INPUT = "invalid-input"
UNKNOWN_ENTERPRISE = "unknown-enterprise"
UNKNOWN_APPLICATION = "unknown-application"
UNKNOWN_MEASURE = "unknown-measure"
NOT_GRANTABLE = "not-grantable"
OUTSIDE_VALIDITY = "outside-validity"
NOT_ELIGIBLE = "not-eligible"
ALREADY_AWARDED = "already-awarded"
DUPLICATE_AWARD = "duplicate-award"
QUOTA_EXHAUSTED = "quota-exhausted"
OVER_PAYMENT = "over-payment"
WRONG_STATE = "wrong-state"
DUPLICATE_REF = "duplicate-ref"
UNKNOWN_PAYMENT = "unknown-payment"
OVER_RECOVERY = "over-recovery"
CONFLICTING_RETRY = "conflicting-retry"
NOT_AUTHORISED = "not-authorised"
SEPARATION_OF_DUTIES = "separation-of-duties"
MALFORMED_EVENT = "malformed-event"

CODES = (
    INVALID_INPUT,
    UNKNOWN_ENTERPRISE,
    UNKNOWN_APPLICATION,
    UNKNOWN_MEASURE,
    NOT_GRANTABLE,
    OUTSIDE_VALIDITY,
    NOT_ELIGIBLE,
    ALREADY_AWARDED,
    DUPLICATE_AWARD,
    QUOTA_EXHAUSTED,
    OVER_PAYMENT,
    WRONG_STATE,
    DUPLICATE_REF,
    UNKNOWN_PAYMENT,
    OVER_RECOVERY,
    CONFLICTING_RETRY,
    NOT_AUTHORISED,
    SEPARATION_OF_DUTIES,
    MALFORMED_EVENT,
)


class Refused(Exception):
    """A command the ledger turns down. Nothing it would have written is kept."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown refusal code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code, "message": self.message}
        if self.field:
            data["field"] = self.field
        return data

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {self.message!r}, field={self.field!r})"


def invalid(field: str, message: str) -> Refused:
    """A refusal of malformed input, naming the field; ``message`` is already in the current language."""
    return Refused(INVALID_INPUT, _("{field}: {message}").format(field=field, message=message), field=field)
