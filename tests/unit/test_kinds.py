"""Each kind named once (issue 21): every command and every event the ledger records is a kind of the registry
(ledger/domain/kinds.py), and every layer has its entry for each: the parser and the role (in the registry),
the service's handler, the read models' handler (or a reason to ignore it), the checks' fields, the trail's
label in both languages, the CLI's summary line. A kind added without one of them fails here."""

from __future__ import annotations

import typing

import pytest
from eventsourcing.utils import get_topic

from commands.records import SUMMARIES
from ledger.domain import aggregates, event_fields, kinds
from ledger.i18n import pgettext_zh
from ledger.intake import commands as intake
from ledger.service import handlers as service_handlers
from projections.runner import HANDLERS, IGNORED

KINDS = [pytest.param(kind, id=kind.op) for kind in kinds.KINDS]


def _service_handlers() -> set[str]:
    """The command classes ``GrantsLedger.execute`` hands to a handler (``ledger.service.handlers.HANDLERS``)."""
    return {command.__name__ for command in service_handlers.HANDLERS}


def test_every_command_class_is_one_kind_and_every_op_is_named_once():
    assert {kind.command for kind in kinds.KINDS} == set(typing.get_args(intake.Command))
    assert len(kinds.BY_OP) == len(kinds.OF_COMMAND) == len(kinds.KINDS)


def test_every_event_is_recorded_by_at_most_one_kind():
    recorded = [event for kind in kinds.KINDS for event in kind.events]
    assert len(recorded) == len(set(recorded))


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_has_its_parser_role_and_events(kind):
    assert typing.get_type_hints(kind.parse)["return"] is kind.command
    assert kind.role in intake.ROLES and kind.role != kinds.AUDITOR
    assert kind.events
    for event in kind.events:
        assert issubclass(event, aggregates.Aggregate.Event) and get_topic(event).startswith("grants:")


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_has_a_handler_in_the_service_and_a_summary_in_the_cli(kind):
    assert kind.command.__name__ in _service_handlers(), kind.op
    assert kind.op in SUMMARIES, kind.op


@pytest.mark.parametrize("kind", KINDS)
def test_each_event_of_a_kind_is_projected_or_ignored_and_read_with_its_fields(kind):
    for event in kind.events:
        topic = get_topic(event)
        assert (topic in HANDLERS) != (topic in IGNORED), topic
        if topic in HANDLERS:
            assert topic in event_fields.FIELDS, topic


@pytest.mark.parametrize("kind", KINDS)
def test_each_event_of_a_kind_has_a_trail_label_in_english_and_chinese(kind):
    for event, text in kind.events.items():
        assert text and kinds.TRAIL_LABELS[event.__name__] == text
        assert pgettext_zh(kinds.TRAIL, text) != text, text


def test_the_registry_names_nothing_the_layers_above_do_not_know():
    assert set(SUMMARIES) == set(kinds.BY_OP)
    assert _service_handlers() == {kind.command.__name__ for kind in kinds.KINDS}
