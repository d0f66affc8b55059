"""Every event topic the ledger records is either handled by the read models or named as
ignored: a new event without a handler fails here, and a misspelt handler key too."""

from __future__ import annotations

import pytest

from projections.runner import HANDLERS, IGNORED, UnknownTopic, ViewUpdater
from tests.test_docs import event_topics


def test_every_recorded_topic_is_handled_or_explicitly_ignored():
    topics = set(event_topics())
    assert len(topics) >= 19, topics  # the walk found the events
    assert topics - set(HANDLERS) - IGNORED == set()


def test_no_handler_or_ignore_entry_names_a_topic_that_does_not_exist():
    topics = set(event_topics())
    assert set(HANDLERS) - topics == set()
    assert IGNORED - topics == set()
    assert set(HANDLERS) & IGNORED == set()


def test_an_unknown_topic_stops_the_projection_instead_of_being_skipped():
    updater = ViewUpdater(conn=None)  # type: ignore[arg-type] - never reached: the topic is refused first
    with pytest.raises(UnknownTopic, match="grants:Enterprise.Misspelt"):
        updater.apply(7, "grants:Enterprise.Misspelt", object())
