"""Commands, and how raw input becomes one.

The import file's lines and the CLI's options are both turned into these
commands by the same parser, so the two say exactly the same thing about bad
input: which field, why, and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.areas import AREAS, PAYERS
from ledger.errors import invalid
from ledger.money import MoneyError, parse_fen
from ledger.policy.facts import parse_date
from ledger.uscc import uscc_problem

MAX_TEXT = 500


def _text(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, f"must be non-empty text, got {value!r}")
    value = value.strip()
    if len(value) > max_len:
        raise invalid(name, f"is {len(value)} characters long; at most {max_len} are allowed")
    if any(ord(ch) < 32 for ch in value):
        raise invalid(name, "must not contain control characters")
    return value


def _date(data: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, "is required: a date YYYY-MM-DD")
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise invalid(name, f"{exc}; write YYYY-MM-DD, e.g. 2023-01-10") from None


def _fen(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, "is required: a whole number of fen (1 yuan = 100 fen)")
        return None
    try:
        return parse_fen(value)
    except MoneyError as exc:
        raise invalid(name, str(exc).removeprefix("amount_fen ")) from None


def _uscc(data: dict[str, Any]) -> str:
    value = data.get("uscc")
    if value is None:
        raise invalid("uscc", "is required: the 18-character unified social credit code")
    if isinstance(value, str):
        value = value.strip().upper()
    problem = uscc_problem(value)
    if problem:
        raise invalid("uscc", f"{value!r} {problem}")
    return value


def _by(data: dict[str, Any], default_by: str) -> str:
    return _text(data, "by", required=False, max_len=100) or _text({"by": default_by}, "by", max_len=100)  # type: ignore[return-value]


def _only(data: dict[str, Any], op: str, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed - {"op"})
    if extra:
        raise invalid(extra[0], f"is not a field of {op}; its fields are: {', '.join(sorted(allowed))}")


@dataclass(frozen=True)
class AdoptPolicy:
    effective: date
    version: str | None
    catalogue: str | None
    date: date
    by: str


@dataclass(frozen=True)
class Register:
    uscc: str
    name: str
    area: str
    date: date | None
    by: str


@dataclass(frozen=True)
class Apply:
    ref: str
    uscc: str
    measure: str
    project: str
    date: date
    facts: dict[str, Any]
    by: str


@dataclass(frozen=True)
class Approve:
    ref: str
    date: date
    by: str
    amount_fen: int | None = None
    basis: str | None = None


@dataclass(frozen=True)
class Reject:
    ref: str
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class Pay:
    ref: str
    payer: str
    amount_fen: int
    voucher: str
    date: date
    by: str


@dataclass(frozen=True)
class ExternalAward:
    uscc: str
    project: str
    policy: str
    amount_fen: int
    date: date
    by: str
    note: str | None = field(default=None)


@dataclass(frozen=True)
class Amend:
    """补正: replace the whole set of facts of an undecided application."""

    ref: str
    facts: dict[str, Any]
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class Withdraw:
    """撤回: the applicant takes back an undecided application."""

    ref: str
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class Revoke:
    """撤销: an approved award is revoked by the document that ordered it."""

    ref: str
    date: date
    by: str
    reason: str
    document: str


@dataclass(frozen=True)
class ReversePayment:
    """红字冲销 of a payment: it no longer counts as paid; its voucher stays used."""

    ref: str
    payer: str
    voucher: str
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class Recover:
    """追回: money paid on a revoked award comes back to the payer's treasury."""

    ref: str
    payer: str
    amount_fen: int
    voucher: str
    date: date
    by: str
    reason: str | None = None


Command = (AdoptPolicy | Register | Apply | Approve | Reject | Pay | ExternalAward | Amend | Withdraw | Revoke
           | ReversePayment | Recover)


def parse_adopt(data: dict[str, Any], default_by: str) -> AdoptPolicy:
    _only(data, "adopt-policy", {"effective", "version", "catalogue", "date", "by"})
    effective = _date(data, "effective")
    assert effective is not None
    return AdoptPolicy(
        effective=effective,
        version=_text(data, "version", required=False, max_len=100),
        catalogue=_text(data, "catalogue", required=False, max_len=100),
        date=_date(data, "date", required=False) or effective,
        by=_by(data, default_by),
    )


def parse_register(data: dict[str, Any], default_by: str) -> Register:
    _only(data, "register", {"uscc", "name", "area", "date", "by"})
    uscc = _uscc(data)
    name = _text(data, "name")
    area = _text(data, "area")
    if area not in AREAS:
        raise invalid("area", f"{area!r} is not a county-level area of Shiyan; allowed: {', '.join(AREAS)}")
    return Register(uscc=uscc, name=name, area=area, date=_date(data, "date", required=False),  # type: ignore[arg-type]
                    by=_by(data, default_by))


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    facts = data.get("facts", {})
    if facts is None:
        facts = {}
    if not isinstance(facts, dict):
        raise invalid("facts", "must be an object of the measure's facts, e.g. {\"tier\": \"national\"}")
    return facts


def _payer(data: dict[str, Any]) -> str:
    payer = data.get("payer")
    if payer not in PAYERS:
        raise invalid("payer", f"{payer!r} is not a payer; allowed: city (市级财政), county (the enterprise's area)")
    return payer  # type: ignore[no-any-return]


def parse_apply(data: dict[str, Any], default_by: str) -> Apply:
    _only(data, "apply", {"ref", "uscc", "measure", "project", "date", "facts", "by"})
    facts = _facts(data)
    return Apply(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        uscc=_uscc(data),
        measure=_text(data, "measure", max_len=100),  # type: ignore[arg-type]
        project=_text(data, "project", max_len=200),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        facts=facts,
        by=_by(data, default_by),
    )


def parse_approve(data: dict[str, Any], default_by: str) -> Approve:
    _only(data, "approve", {"ref", "date", "by", "amount_fen", "basis"})
    return Approve(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        amount_fen=_fen(data, "amount_fen", required=False),
        basis=_text(data, "basis", required=False),
    )


def parse_reject(data: dict[str, Any], default_by: str) -> Reject:
    _only(data, "reject", {"ref", "date", "by", "reason"})
    return Reject(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_pay(data: dict[str, Any], default_by: str) -> Pay:
    _only(data, "pay", {"ref", "payer", "amount_fen", "voucher", "date", "by"})
    payer = _payer(data)
    return Pay(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        payer=payer,
        amount_fen=_fen(data, "amount_fen"),  # type: ignore[arg-type]
        voucher=_text(data, "voucher", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
    )


def parse_external(data: dict[str, Any], default_by: str) -> ExternalAward:
    _only(data, "external-award", {"uscc", "project", "policy", "amount_fen", "date", "by", "note"})
    return ExternalAward(
        uscc=_uscc(data),
        project=_text(data, "project", max_len=200),  # type: ignore[arg-type]
        policy=_text(data, "policy"),  # type: ignore[arg-type]
        amount_fen=_fen(data, "amount_fen"),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        note=_text(data, "note", required=False),
    )


def parse_amend(data: dict[str, Any], default_by: str) -> Amend:
    _only(data, "amend", {"ref", "facts", "date", "by", "reason"})
    if "facts" not in data:
        raise invalid("facts", "is required: the whole new set of facts (补正 replaces every fact)")
    return Amend(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        facts=_facts(data),
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_withdraw(data: dict[str, Any], default_by: str) -> Withdraw:
    _only(data, "withdraw", {"ref", "date", "by", "reason"})
    return Withdraw(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_revoke(data: dict[str, Any], default_by: str) -> Revoke:
    _only(data, "revoke", {"ref", "date", "by", "reason", "document"})
    return Revoke(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
        document=_text(data, "document"),  # type: ignore[arg-type]
    )


def parse_reverse_payment(data: dict[str, Any], default_by: str) -> ReversePayment:
    _only(data, "reverse-payment", {"ref", "payer", "voucher", "date", "by", "reason"})
    payer = _payer(data)
    return ReversePayment(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        payer=payer,
        voucher=_text(data, "voucher", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_recover(data: dict[str, Any], default_by: str) -> Recover:
    _only(data, "recover", {"ref", "payer", "amount_fen", "voucher", "date", "by", "reason"})
    payer = _payer(data)
    return Recover(
        ref=_text(data, "ref", max_len=100),  # type: ignore[arg-type]
        payer=payer,
        amount_fen=_fen(data, "amount_fen"),  # type: ignore[arg-type]
        voucher=_text(data, "voucher", max_len=100),  # type: ignore[arg-type]
        date=_date(data, "date"),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason", required=False),
    )


PARSERS = {
    "adopt-policy": parse_adopt,
    "register": parse_register,
    "apply": parse_apply,
    "approve": parse_approve,
    "reject": parse_reject,
    "pay": parse_pay,
    "external-award": parse_external,
    "amend": parse_amend,
    "withdraw": parse_withdraw,
    "revoke": parse_revoke,
    "reverse-payment": parse_reverse_payment,
    "recover": parse_recover,
}


def parse_command(data: Any, default_by: str) -> Command:
    """Turn one raw record (an import line, or the CLI's options) into a command."""
    if not isinstance(data, dict):
        raise invalid("line", "must be a JSON object with an \"op\" field")
    op = data.get("op")
    if not isinstance(op, str) or op not in PARSERS:
        raise invalid("op", f"{op!r} is not an operation; allowed: {', '.join(PARSERS)}")
    return PARSERS[op](data, default_by)
