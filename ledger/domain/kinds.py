"""Each kind of command named once: its op (the import line's and the result's ``"op"``), its command class,
its parser, the role it needs and the events it records, each with what the audit trail calls it.

Everything else is reached from here. The layers above register their own piece by these keys, and
``tests/unit/test_kinds.py`` fails when a kind or an event lacks one: the service's handler by command class
(``ledger/service/application.py``), the read models' handler by event class (``projections/runner.py``),
the summary line by op (``commands/records.py``). The derived tables below (``ROLE_OF_OP``, the parsers,
the op of a command or an event) are views of ``KINDS``, not lists of their own. Adding a kind: see
docs/architecture.md, "Adding a command, an event or a measure".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.domain.aggregates import Enterprise, OperatorRoster, PolicyBook, SetAsideEvent, SetAsides
from ledger.i18n import NC_
from ledger.intake import commands as intake
from ledger.intake.commands import ROLES

CLERK, REVIEWER, TREASURER, AUDITOR, ADMIN = ROLES

Parser = Callable[[dict[str, Any], str, "date | None"], intake.Command]
TRAIL = "trail"  # the gettext context (written out in each NC_ for the extractor) of the trail's labels ("approved" is a status elsewhere)


def event_class(aggregate: type[Aggregate], name: str) -> type[Aggregate.Event]:
    """An aggregate's event class by its name: the library's ``@event`` makes it, unseen by the type checker.
    A misspelt name fails at import, never at the first event."""
    found = getattr(aggregate, name)
    if not (isinstance(found, type) and issubclass(found, Aggregate.Event)):
        raise TypeError(f"{aggregate.__name__}.{name} is not an event class")
    return found


def event_classes(aggregate: type[Aggregate], *names: str) -> tuple[type[Aggregate.Event], ...]:
    return tuple(event_class(aggregate, name) for name in names)


@dataclass(frozen=True)
class Kind:
    """One kind of command: ``events`` maps each event class it records to its label in the audit trail
    (marked for translation, translated where shown; English is the label itself)."""

    op: str
    command: type[intake.Command]
    parse: Parser
    role: str
    events: Mapping[type[Aggregate.Event], str]


KINDS: tuple[Kind, ...] = (
    Kind("adopt-policy", intake.AdoptPolicy, intake.parse_adopt, ADMIN,
         {event_class(PolicyBook, "PolicyAdopted"): NC_("trail", "policy adopted")}),
    Kind("register", intake.Register, intake.parse_register, CLERK,
         {event_class(Enterprise, "Registered"): NC_("trail", "registered")}),
    Kind("apply", intake.Apply, intake.parse_apply, CLERK,
         {event_class(Enterprise, "ApplicationSubmitted"): NC_("trail", "applied")}),
    Kind("approve", intake.Approve, intake.parse_approve, REVIEWER,
         {event_class(Enterprise, "ApplicationApproved"): NC_("trail", "approved")}),
    Kind("reject", intake.Reject, intake.parse_reject, REVIEWER,
         {event_class(Enterprise, "ApplicationRejected"): NC_("trail", "rejected")}),
    Kind("pay", intake.Pay, intake.parse_pay, TREASURER,
         {event_class(Enterprise, "PaymentRecorded"): NC_("trail", "payment")}),
    Kind("external-award", intake.ExternalAward, intake.parse_external, CLERK,
         {event_class(Enterprise, "ExternalAwardRecorded"): NC_("trail", "external award")}),
    Kind("amend", intake.Amend, intake.parse_amend, CLERK,
         {event_class(Enterprise, "ApplicationAmended"): NC_("trail", "amended")}),
    Kind("withdraw", intake.Withdraw, intake.parse_withdraw, CLERK,
         {event_class(Enterprise, "ApplicationWithdrawn"): NC_("trail", "withdrawn")}),
    Kind("revoke", intake.Revoke, intake.parse_revoke, REVIEWER,
         {event_class(Enterprise, "AwardRevoked"): NC_("trail", "revoked")}),
    Kind("reverse-payment", intake.ReversePayment, intake.parse_reverse_payment, TREASURER,
         {event_class(Enterprise, "PaymentReversed"): NC_("trail", "reversal")}),
    Kind("recover", intake.Recover, intake.parse_recover, TREASURER,
         {event_class(Enterprise, "RecoveryRecorded"): NC_("trail", "recovery")}),
    Kind("redecide", intake.Redecide, intake.parse_redecide, REVIEWER,
         {event_class(Enterprise, "AwardRedecided"): NC_("trail", "re-decided")}),
    Kind("register-operator", intake.RegisterOperator, intake.parse_register_operator, ADMIN,
         {event_class(OperatorRoster, "EnforcementStarted"): NC_("trail", "enforcement started"),
          event_class(OperatorRoster, "OperatorRegistered"): NC_("trail", "operator registered")}),
    Kind("change-roles", intake.ChangeRoles, intake.parse_change_roles, ADMIN,
         {event_class(OperatorRoster, "RolesChanged"): NC_("trail", "roles changed")}),
    Kind("suspend-operator", intake.SuspendOperator, intake.parse_suspend_operator, ADMIN,
         {event_class(OperatorRoster, "OperatorSuspended"): NC_("trail", "operator suspended")}),
    Kind("reinstate-operator", intake.ReinstateOperator, intake.parse_reinstate_operator, ADMIN,
         {event_class(OperatorRoster, "OperatorReinstated"): NC_("trail", "operator reinstated")}),
    Kind("set-aside", intake.SetAside, intake.parse_set_aside, ADMIN,
         {event_class(SetAsides, "MalformedEventSetAside"): NC_("trail", "malformed event set aside")}),
)

#: Shown in an enterprise's trail though no command records it: an event an admin set aside, in its place.
OTHER_LABELS: Mapping[type, str] = {SetAsideEvent: NC_("trail", "set aside (malformed)")}

BY_OP: dict[str, Kind] = {kind.op: kind for kind in KINDS}
OF_COMMAND: dict[type[intake.Command], Kind] = {kind.command: kind for kind in KINDS}
OF_EVENT: dict[type[Aggregate.Event], Kind] = {event: kind for kind in KINDS for event in kind.events}
OF_TOPIC: dict[str, Kind] = {get_topic(event): kind for event, kind in OF_EVENT.items()}

#: The role each command needs (by its op). Auditors give no command: they read.
ROLE_OF_OP: dict[str, str] = {kind.op: kind.role for kind in KINDS}
#: What the trail calls each event (by its class name), English; translated with ``pgettext(TRAIL, ...)``.
TRAIL_LABELS: dict[str, str] = {
    event.__name__: text for event, text in [*((e, t) for k in KINDS for e, t in k.events.items()),
                                             *OTHER_LABELS.items()]}


def op_of(command: intake.Command) -> str:
    """The op of a command (as its import line names it)."""
    return OF_COMMAND[type(command)].op


def event_name(event: Any) -> str:
    """An event's class name without its aggregate (``PaymentRecorded``), as the checks and the trail key it."""
    return type(event).__qualname__.rsplit(".", 1)[-1]
