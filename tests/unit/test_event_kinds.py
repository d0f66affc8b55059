"""The kinds of event the database accepts from an operator's role (PostgreSQL, issue 19): every event class
of the domain is one, with the fields the ledger writes and the roles whose commands record it."""

from __future__ import annotations

import dataclasses

from eventsourcing.utils import get_topic

from ledger.domain import aggregates as domain
from ledger.domain.kinds import ROLE_OF_OP
from ledger.domain.operators import ADMIN, WRITING_ROLES
from ledger.domain.validation import EVENT_OPS
from projections.identity import event_kinds


def test_every_event_class_of_the_domain_is_a_kind_with_its_fields_and_roles():
    kinds = event_kinds()
    assert kinds["grants:Enterprise.PaymentRecorded"][1] == (ROLE_OF_OP["pay"],)
    assert kinds["grants:PolicyBook.PolicyAdopted"][1] == (ADMIN,)
    assert kinds["grants:ImportRun.Started"][1] == WRITING_ROLES
    for event, op in EVENT_OPS.items():  # each act of an enterprise: the role of its command, and only that
        assert kinds[get_topic(event)][1] == (ROLE_OF_OP[op],), event
    fields, _ = kinds["grants:Enterprise.PaymentRecorded"]
    assert set(fields) == {f.name for f in dataclasses.fields(domain.Enterprise.PaymentRecorded)} - {
        "originator_id", "originator_version"}
    assert "timestamp" in fields and "amount_fen" in fields
    recorded = {get_topic(cls) for cls in (domain.Enterprise.Registered, domain.ApplicationRef.Filed,
                                           domain.VoucherRef.Used, domain.ReceiptRef.Used, domain.TaskQuota.ItemAwarded,
                                           domain.OperatorRoster.RolesChanged)}
    assert recorded <= set(kinds)
    assert all(topic.startswith("grants:") and roles for topic, (_, roles) in kinds.items())
