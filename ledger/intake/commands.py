"""Commands, and how raw input becomes one.

The import file's lines and the CLI's options are both turned into these
commands by the same parser, so the two say exactly the same thing about bad
input: which field, why, and what is allowed.

Why one module of ~600 lines (issue 21 asks a reason above ~400): every command type and its
parser, and the field parsers they all share (text, date, fen, USCC, who), so that each field
is refused with the same words whichever command or input carries it. A third of the lines are the
18 command types (frozen dataclasses, a few lines each); split by command, each parser would
import the shared field parsers and nothing else would get shorter. The registry of kinds
(issue 21) links each op to its command type and parser from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.areas import AREAS, PAYERS
from ledger.domain.money import MoneyError, parse_fen
from ledger.domain.uscc import uscc_problem
from ledger.errors import invalid
from ledger.i18n import _
from ledger.labels import label
from ledger.policy.facts import date_forms, parse_date
from ledger.text import MAX_TEXT, canonical, clean, safe, shown


def _text(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = MAX_TEXT,
          key: bool = False) -> str | None:
    """A text field in canonical form (``ledger.text``); ``key`` for identifiers, which are also folded."""
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, _("is required"))
        return None
    return clean(name, value, key=key, max_len=max_len)


def _key(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 100) -> str | None:
    return _text(data, name, required=required, max_len=max_len, key=True)


def parse_ref(value: object) -> str:
    """A filing number given on its own (``grants show REF``), in the same canonical form as in commands."""
    return _key({"ref": value}, "ref")  # type: ignore[return-value]


def _date(data: dict[str, Any], name: str, *, required: bool = True, today: date | None = None) -> date | None:
    """A date field; with ``today`` (the day of recording, given by the edge), not later than that day."""
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, _("is required: a date such as {forms}").format(forms=date_forms()))
        return None
    try:
        day = parse_date(value)
    except ValueError as exc:
        raise invalid(name, str(exc)) from None
    if today is not None and day > today:
        raise invalid(name, _("{day} is later than the day of recording; the latest allowed day is {today}").format(
            day=day, today=today))
    return day


def _fen(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, _("is required: a whole number of fen (1 yuan = 100 fen)"))
        return None
    try:
        return parse_fen(value)
    except MoneyError as exc:
        raise invalid(name, str(exc)) from None


def _uscc(data: dict[str, Any]) -> str:
    value = data.get("uscc")
    if value is None:
        raise invalid("uscc", _("is required: the 18-character unified social credit code"))
    code = clean("uscc", value, key=True, max_len=18 * 4).upper()
    problem = uscc_problem(code)
    if problem:
        raise invalid("uscc", _("{code} {problem}").format(code=shown(code), problem=problem))
    return code


def _by(data: dict[str, Any], default_by: str) -> str:
    return _key(data, "by", required=False) or _key({"by": default_by}, "by")  # type: ignore[return-value]


def _only(data: dict[str, Any], op: str, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed - {"op"}, key=str)
    if extra:
        name = extra[0]
        if isinstance(name, str) and safe(name) == name and len(name) <= 100:
            raise invalid(name, _("is not a field of {op}; its fields are: {fields}").format(
                op=op, fields=", ".join(sorted(allowed))))
        raise invalid("line", _("{name} is not a field of {op}; its fields are: {fields}").format(
            name=shown(name), op=op, fields=", ".join(sorted(allowed))))


@dataclass(frozen=True)
class AdoptPolicy:
    effective: date
    version: str | None
    catalogue: str | None
    date: date
    by: str
    edition: dict[str, Any] | None = None  # an edition's content (checked by the rules against its rule set)


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
class Redecide:
    """改判: an award in force whose top-up (就高不重复) was reckoned against a lower award since revoked is
    raised, as of its date, to what the awards in force that day leave due."""

    ref: str
    date: date
    by: str
    reason: str


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


@dataclass(frozen=True)
class RegisterOperator:
    """An operator and its roles; the first one switches the ledger to enforced mode for good."""

    name: str
    display_name: str
    roles: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    date: date
    by: str


@dataclass(frozen=True)
class ChangeRoles:
    """The whole new set of an operator's roles."""

    name: str
    roles: tuple[str, ...]
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class SuspendOperator:
    name: str
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class ReinstateOperator:
    name: str
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class SetAside:
    """An admin sets aside the malformed event stored at ``position`` (a row written past the ledger): its
    stream replays without it from then on; the row itself stays in the log."""

    position: int
    reason: str
    date: date
    by: str


OperatorCommand = RegisterOperator | ChangeRoles | SuspendOperator | ReinstateOperator

Command = (AdoptPolicy | Register | Apply | Approve | Reject | Pay | ExternalAward | Amend | Withdraw | Revoke
           | ReversePayment | Recover | Redecide | RegisterOperator | ChangeRoles | SuspendOperator | ReinstateOperator
           | SetAside)


def parse_adopt(data: dict[str, Any], default_by: str, today: date | None = None) -> AdoptPolicy:
    _only(data, "adopt-policy", {"effective", "version", "catalogue", "date", "by", "edition"})
    effective = _date(data, "effective", today=today)
    assert effective is not None
    edition = data.get("edition")
    if edition is not None and not isinstance(edition, dict):
        raise invalid("edition", _("must be the content of an edition (an object), as `grants policy adopt "
                                   "--edition FILE` reads it"))
    if edition is not None and data.get("catalogue") is not None:
        raise invalid("catalogue", _("give an edition or a built-in catalogue, not both"))
    return AdoptPolicy(
        effective=effective,
        version=_key(data, "version", required=False),
        catalogue=_key(data, "catalogue", required=False),
        date=_date(data, "date", required=False, today=today) or effective,
        by=_by(data, default_by),
        edition=edition,
    )


def parse_register(data: dict[str, Any], default_by: str, today: date | None = None) -> Register:
    _only(data, "register", {"uscc", "name", "area", "date", "by"})
    uscc = _uscc(data)
    name = _text(data, "name")
    area = _key(data, "area")
    if area not in AREAS:
        raise invalid("area", _("{area} is not a county-level area of Shiyan; allowed: {areas}").format(
            area=shown(area), areas=", ".join(AREAS)))
    return Register(uscc=uscc, name=name, area=area,  # type: ignore[arg-type]
                    date=_date(data, "date", required=False, today=today), by=_by(data, default_by))


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    facts = data.get("facts", {})
    if facts is None:
        facts = {}
    if not isinstance(facts, dict):
        raise invalid("facts", _("must be an object of the measure's facts, e.g. {example}").format(
            example='{"tier": "national"}'))
    return facts


def _payer(data: dict[str, Any]) -> str:
    payer = data.get("payer")
    if payer is None:
        raise invalid("payer", _("is required: city (市级财政) or county (the enterprise's area)"))
    if isinstance(payer, str):
        payer = canonical(payer, key=True)
    if payer not in PAYERS:
        raise invalid("payer", _("{payer} is not a payer; allowed: city (市级财政), county (the enterprise's "
                                 "area)").format(payer=shown(payer)))
    return str(payer)


def parse_apply(data: dict[str, Any], default_by: str, today: date | None = None) -> Apply:
    _only(data, "apply", {"ref", "uscc", "measure", "project", "date", "facts", "by"})
    facts = _facts(data)
    return Apply(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        uscc=_uscc(data),
        measure=_key(data, "measure"),  # type: ignore[arg-type]
        project=_key(data, "project", max_len=200),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        facts=facts,
        by=_by(data, default_by),
    )


def parse_approve(data: dict[str, Any], default_by: str, today: date | None = None) -> Approve:
    _only(data, "approve", {"ref", "date", "by", "amount_fen", "basis"})
    return Approve(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        amount_fen=_fen(data, "amount_fen", required=False),
        basis=_text(data, "basis", required=False),
    )


def _with_reason(data: dict[str, Any], op: str, default_by: str, today: date | None) -> dict[str, Any]:
    """The fields of a decision on an application that only needs its reason: reject, withdraw."""
    _only(data, op, {"ref", "date", "by", "reason"})
    return {"ref": _key(data, "ref"), "date": _date(data, "date", today=today), "by": _by(data, default_by),
            "reason": _text(data, "reason")}


def parse_reject(data: dict[str, Any], default_by: str, today: date | None = None) -> Reject:
    return Reject(**_with_reason(data, "reject", default_by, today))


def _money(data: dict[str, Any], op: str, extra: set[str], default_by: str, today: date | None) -> dict[str, Any]:
    """The fields of a movement of one payer's money under a voucher: pay, recover."""
    _only(data, op, {"ref", "payer", "amount_fen", "voucher", "date", "by"} | extra)
    payer = _payer(data)
    return {"ref": _key(data, "ref"), "payer": payer, "amount_fen": _fen(data, "amount_fen"),
            "voucher": _key(data, "voucher"), "date": _date(data, "date", today=today), "by": _by(data, default_by)}


def parse_pay(data: dict[str, Any], default_by: str, today: date | None = None) -> Pay:
    return Pay(**_money(data, "pay", set(), default_by, today))


def parse_external(data: dict[str, Any], default_by: str, today: date | None = None) -> ExternalAward:
    _only(data, "external-award", {"uscc", "project", "policy", "amount_fen", "date", "by", "note"})
    return ExternalAward(
        uscc=_uscc(data),
        project=_key(data, "project", max_len=200),  # type: ignore[arg-type]
        policy=_key(data, "policy", max_len=MAX_TEXT),  # type: ignore[arg-type]
        amount_fen=_fen(data, "amount_fen"),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        note=_text(data, "note", required=False),
    )


def parse_amend(data: dict[str, Any], default_by: str, today: date | None = None) -> Amend:
    _only(data, "amend", {"ref", "facts", "date", "by", "reason"})
    if "facts" not in data:
        raise invalid("facts", _("is required: the whole new set of facts (补正 replaces every fact)"))
    return Amend(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        facts=_facts(data),
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_withdraw(data: dict[str, Any], default_by: str, today: date | None = None) -> Withdraw:
    return Withdraw(**_with_reason(data, "withdraw", default_by, today))


def parse_revoke(data: dict[str, Any], default_by: str, today: date | None = None) -> Revoke:
    _only(data, "revoke", {"ref", "date", "by", "reason", "document"})
    return Revoke(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
        document=_text(data, "document"),  # type: ignore[arg-type]
    )


def parse_redecide(data: dict[str, Any], default_by: str, today: date | None = None) -> Redecide:
    _only(data, "redecide", {"ref", "date", "by", "reason"})
    return Redecide(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_reverse_payment(data: dict[str, Any], default_by: str, today: date | None = None) -> ReversePayment:
    _only(data, "reverse-payment", {"ref", "payer", "voucher", "date", "by", "reason"})
    payer = _payer(data)
    return ReversePayment(
        ref=_key(data, "ref"),  # type: ignore[arg-type]
        payer=payer,
        voucher=_key(data, "voucher"),  # type: ignore[arg-type]
        date=_date(data, "date", today=today),  # type: ignore[arg-type]
        by=_by(data, default_by),
        reason=_text(data, "reason"),  # type: ignore[arg-type]
    )


def parse_recover(data: dict[str, Any], default_by: str, today: date | None = None) -> Recover:
    return Recover(**_money(data, "recover", {"reason"}, default_by, today),
                   reason=_text(data, "reason", required=False))


ROLES = ("clerk", "reviewer", "treasurer", "auditor", "admin")
OPERATOR_NAME = re.compile(r"[a-z][a-z0-9._-]{0,62}")


def _operator_name(data: dict[str, Any]) -> str:
    """An operator's name: it is also its PostgreSQL role, so lower-case ASCII letters, digits, ``. _ -``."""
    name = _key(data, "name", max_len=63)
    if not OPERATOR_NAME.fullmatch(name):  # type: ignore[arg-type]
        raise invalid("name", _("{name} is not an operator name: 1 to 63 characters, a lower-case letter first, "
                                "then lower-case letters, digits, “.”, “_” or “-” (it is also the database "
                                "role)").format(name=shown(name)))
    return name  # type: ignore[return-value]


def _roles_allowed() -> str:
    """The roles, as typed (``clerk``) and as read (经办人)."""
    return ", ".join(role if label(role) == role else f"{role} ({label(role)})" for role in ROLES)


def _roles(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("roles")
    if not isinstance(value, list) or not value:
        raise invalid("roles", _("is required: a list of one or more of {roles}").format(roles=_roles_allowed()))
    roles = set()
    for role in value:
        if not isinstance(role, str) or canonical(role, key=True) not in ROLES:
            raise invalid("roles", _("{role} is not a role; allowed: {roles}").format(
                role=shown(role), roles=_roles_allowed()))
        roles.add(canonical(role, key=True))
    return tuple(r for r in ROLES if r in roles)


def parse_register_operator(data: dict[str, Any], default_by: str, today: date | None = None) -> RegisterOperator:
    _only(data, "register-operator", {"name", "display_name", "roles", "valid_from", "valid_to", "date", "by"})
    day = _date(data, "date", today=today)
    valid_from = _date(data, "valid_from", required=False) or day
    valid_to = _date(data, "valid_to", required=False)
    if valid_to is not None and valid_to < valid_from:  # type: ignore[operator]
        raise invalid("valid_to", _("{valid_to} is before valid_from {valid_from}").format(
            valid_to=valid_to, valid_from=valid_from))
    return RegisterOperator(
        name=_operator_name(data),
        display_name=_text(data, "display_name"),  # type: ignore[arg-type]
        roles=_roles(data),
        valid_from=valid_from,  # type: ignore[arg-type]
        valid_to=valid_to,
        date=day,  # type: ignore[arg-type]
        by=_by(data, default_by),
    )


def parse_change_roles(data: dict[str, Any], default_by: str, today: date | None = None) -> ChangeRoles:
    _only(data, "change-roles", {"name", "roles", "date", "by", "reason"})
    return ChangeRoles(name=_operator_name(data), roles=_roles(data),
                       date=_date(data, "date", today=today),  # type: ignore[arg-type]
                       by=_by(data, default_by), reason=_text(data, "reason"))  # type: ignore[arg-type]


def parse_suspend_operator(data: dict[str, Any], default_by: str, today: date | None = None) -> SuspendOperator:
    _only(data, "suspend-operator", {"name", "date", "by", "reason"})
    return SuspendOperator(name=_operator_name(data), date=_date(data, "date", today=today),  # type: ignore[arg-type]
                           by=_by(data, default_by), reason=_text(data, "reason"))  # type: ignore[arg-type]


def parse_reinstate_operator(data: dict[str, Any], default_by: str, today: date | None = None) -> ReinstateOperator:
    _only(data, "reinstate-operator", {"name", "date", "by", "reason"})
    return ReinstateOperator(name=_operator_name(data), date=_date(data, "date", today=today),  # type: ignore[arg-type]
                             by=_by(data, default_by), reason=_text(data, "reason"))  # type: ignore[arg-type]


def _position(data: dict[str, Any]) -> int:
    """A position in the event log (``grants audit verify`` names it): a whole number from 1."""
    value = data.get("position")
    if value is None:
        raise invalid("position", _("is required: the position of the event in the log, as audit verify "
                                    "names it"))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**62:
        raise invalid("position", _("{value} is not a position in the log: a whole number from 1").format(
            value=shown(value)))
    return value


def parse_set_aside(data: dict[str, Any], default_by: str, today: date | None = None) -> SetAside:
    _only(data, "set-aside", {"position", "reason", "date", "by"})
    return SetAside(position=_position(data), reason=_text(data, "reason"),  # type: ignore[arg-type]
                    date=_date(data, "date", today=today),  # type: ignore[arg-type]
                    by=_by(data, default_by))


def parse_command(data: Any, default_by: str, *, today: date | None = None) -> Command:
    """Turn one raw record (an import line, or the CLI's options) into a command.

    ``today`` is the day of recording, passed in by the edge (the CLI, the import):
    a date later than that day is refused. The parser reads no clock itself.
    """
    if not isinstance(data, dict):
        raise invalid("line", _("must be a JSON object with an “op” field"))
    from ledger.domain.kinds import BY_OP  # the registry of kinds names each command's parser

    op = data.get("op")
    if not isinstance(op, str) or op not in BY_OP:
        raise invalid("op", _("{op} is not an operation; allowed: {ops}").format(op=shown(op), ops=", ".join(BY_OP)))
    return BY_OP[op].parse(data, default_by, today)
