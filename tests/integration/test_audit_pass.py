"""`grants audit verify` walks the hash chain and replays the log for its checks in one pass over the
stored rows. What that pass finds is what the chain walk and a replay of their own find: the same events
read (the pass's reader against the library's mapper, event by event), the same findings, on SQLite and
on PostgreSQL, whether or not the read models had to be brought up to date after it."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import text

from ledger.domain import validation
from ledger.domain.aggregates import enterprise_id
from ledger.service.application import GrantsLedger
from ledger.store.chain import canonical_id
from ledger.store.storage import parse_store
from projections import audit_checks, audit_log, runner
from projections.runner import make_engine
from tests.conftest import new_ledger
from tests.helpers import cli

DEMO = resources.files("commands").joinpath("demo.jsonl")


def _demo(url: str, tmp_path: Path) -> str:
    path = tmp_path / "demo.jsonl"
    path.write_bytes(DEMO.read_bytes())
    result = cli(url, "import", str(path), "--json")  # it refuses six lines on purpose (exit 1)
    assert result.exit_code in (0, 1) and json.loads(result.stdout)["accepted"] == 75, result.stdout + result.stderr
    return url


def _forge_second_award(url: str) -> int:
    """An approval recorded through the aggregate, past every rule (a second award on a project already
    awarded, by a made-up name, split wrong); returns its position."""
    ledger = GrantsLedger(parse_store(url))
    try:
        found = [s for s in ledger.recorder.select_notifications(start=1, limit=10_000)
                 if s.topic == "grants:Enterprise.ApplicationApproved"]
        uscc_of = {}
        for n in ledger.recorder.select_notifications(start=1, limit=10_000):
            if n.topic == "grants:Enterprise.Registered":
                uscc_of[n.originator_id] = json.loads(n.state)["uscc"]
        enterprise = ledger.repository.get(enterprise_id(uscc_of[found[0].originator_id]))
        awarded = next(a for a in enterprise.applications.values() if a.status == "approved")
        enterprise.submit(ref="FORGED-1", measure=awarded.measure, project=awarded.project, facts=awarded.facts,
                          date=awarded.applied_on, policy_version=awarded.policy_version, by="forger")
        enterprise.approve(ref="FORGED-1", date=date(2024, 12, 1), by="forger", policy_version=awarded.policy_version,
                           entitlement_fen=awarded.entitlement_fen, awarded_fen=awarded.entitlement_fen,
                           city_share_fen=awarded.entitlement_fen, county_share_fen=0, basis=None, trace=[])
        ledger.save(enterprise)
        return ledger.recorder.max_notification_id()
    finally:
        ledger.close()


def _catch_up(url: str) -> None:
    ledger = GrantsLedger(parse_store(url))
    engine = make_engine(parse_store(url))
    try:
        runner.catch_up(ledger, engine)
    finally:
        ledger.close()
        engine.dispose()


def _verify(url: str) -> tuple[int, dict[str, Any]]:
    result = cli(url, "audit", "verify", "--json")
    return result.exit_code, json.loads(result.stdout)


def _both(url: str) -> tuple[audit_checks.Verified, tuple[int, list[validation.Finding]]]:
    """The one-pass verify and a replay of its own (``run_checks``), on the same ledger as it stands."""
    ledger = GrantsLedger(parse_store(url))
    engine = make_engine(parse_store(url))
    try:
        return audit_checks.verify(ledger, engine), audit_checks.run_checks(ledger, engine)
    finally:
        ledger.close()
        engine.dispose()


def test_the_pass_reads_every_stored_event_as_the_mapper_does(db_url, tmp_path):
    _demo(db_url, tmp_path)
    _forge_second_award(db_url)
    ledger = GrantsLedger(parse_store(db_url))
    engine = make_engine(parse_store(db_url))
    try:
        with audit_log.snapshot(engine) as raw:
            rows = list(audit_log.event_rows(raw.cursor(), ledger.recorder.events_table_name,
                                             engine.dialect.name == "postgresql"))
        read = list(audit_checks.decoded(ledger, rows))
        by_mapper = [ledger.mapper.to_domain_event(n) for n in ledger.recorder.select_notifications(start=1,
                                                                                                    limit=10_000)]
    finally:
        ledger.close()
        engine.dispose()
    assert len(read) == len(by_mapper) > 100
    assert [p for p, _ in read] == [row[0] for row in rows]
    for (_position, ours), theirs in zip(read, by_mapper, strict=True):
        assert type(ours) is type(theirs)
        assert vars(ours) == vars(theirs)
        assert type(ours.originator_id) is type(theirs.originator_id)


def test_a_row_the_mapper_cannot_read_is_unreadable_with_the_mappers_own_error(db_url, tmp_path):
    _demo(db_url, tmp_path)
    ledger = GrantsLedger(parse_store(db_url))
    try:
        _unreadable_rows_are_named(ledger)
    finally:
        ledger.close()


def _unreadable_rows_are_named(ledger: GrantsLedger) -> None:
    registered = next(n for n in ledger.recorder.select_notifications(start=1, limit=100)
                      if n.topic == "grants:Enterprise.Registered")
    good = (1, registered.originator_id, registered.originator_version, registered.topic, registered.state)
    cases = [
        (2, good[1], 1, "grants:Enterprise.NoSuchEvent", good[4]),  # a topic this code does not know
        (3, good[1], 1, good[3], b"{not json"),  # a state that is not JSON
        (4, good[1], 1, good[3], b'{"timestamp": {"_type_": "no_such_type", "_data_": 1}}'),
        (5, "not-a-uuid", 1, good[3], good[4]),  # an originator id that is no UUID
    ]
    read = list(audit_checks.decoded(ledger, [good, *cases]))
    assert vars(read[0][1]) == vars(ledger.mapper.to_domain_event(registered))
    for (position, found), case in zip(read[1:], cases, strict=True):
        assert position == case[0] and isinstance(found, validation.Unreadable) and found.topic == case[3]
        with pytest.raises(type(found.error)) as raised:
            ledger.mapper.to_domain_event(StoredEvent(case[1], case[2], case[3], case[4]))
        assert str(raised.value) == str(found.error)


def test_one_pass_finds_what_the_chain_walk_and_a_replay_of_their_own_find(db_url, tmp_path):
    _demo(db_url, tmp_path)
    position = _forge_second_award(db_url)
    _catch_up(db_url)
    verified, (replayed, found) = _both(db_url)
    assert verified.walk.broken is None and verified.mismatch is None
    assert verified.views_at == position  # the read models stood at the end of the log: compared there
    assert verified.replayed == replayed == verified.walk.events == position
    assert verified.findings == found
    codes = {(f.code, f.position) for f in found}
    assert {("already-awarded", position), ("split-mismatch", position)} <= codes or \
        {("duplicate-award", position), ("split-mismatch", position)} <= codes


def test_verify_finds_the_same_whether_the_read_models_stood_where_the_pass_compared_them_or_had_to_catch_up(
        db_url, tmp_path):
    _demo(db_url, tmp_path)
    position = _forge_second_award(db_url)  # the read models are now behind the log
    behind_code, behind = _verify(db_url)  # the pass compares them where they stood; verify replays again
    after_code, after = _verify(db_url)  # now they stand at the end: the pass's comparison is kept
    assert behind_code == after_code == 7
    assert behind["findings"] == after["findings"] and behind["checked_events"] == after["checked_events"] == position
    assert position in [f["position"] for f in after["findings"]]


def test_read_models_edited_behind_the_ledger_are_found_in_the_one_pass(db_url, tmp_path):
    _demo(db_url, tmp_path)
    engine = make_engine(parse_store(db_url))
    with engine.begin() as conn:
        ref = conn.execute(text("SELECT ref FROM rm_applications WHERE status = 'approved' ORDER BY ref")).scalar()
        conn.execute(text("UPDATE rm_applications SET awarded_fen = awarded_fen + 1 WHERE ref = :ref"), {"ref": ref})
    engine.dispose()
    verified, (_replayed, found) = _both(db_url)
    assert verified.views_at is not None and verified.findings == found
    assert [(f.code, f.ref) for f in found if f.code == "views-disagree"] == [("views-disagree", ref)]
    code, data = _verify(db_url)
    assert code == 7 and [f["ref"] for f in data["findings"]] == [ref]


def test_a_broken_chain_is_reported_and_the_checks_are_not(db_url, tmp_path):
    from tests.integration.test_audit_chain import _drop_guards, _events_table, _position_of, _sql

    _demo(db_url, tmp_path)
    t = _events_table(db_url)
    position = _position_of(db_url, "grants:Enterprise.ApplicationApproved")  # the first approval
    pos = "rowid" if db_url.startswith("sqlite") else "notification_id"
    state = ("CAST(replace(CAST(state AS TEXT), '\"awarded_fen\":', '\"awarded_fen\":1') AS BLOB)"
             if db_url.startswith("sqlite") else
             "convert_to(replace(convert_from(state, 'UTF8'), '\"awarded_fen\":', '\"awarded_fen\":1'), 'UTF8')")
    _sql(db_url, *_drop_guards(db_url), f"UPDATE {t} SET state = {state} WHERE {pos} = {position}")
    code, data = _verify(db_url)
    assert code == 6 and data["chain"] == "broken" and data["broken"]["code"] == "event-edited"
    assert data["broken"]["position"] == position and data["events"] == position - 1
    assert data["findings"] is None and data["checked_events"] is None


def test_running_only_the_checks_that_look_at_an_event_finds_what_running_every_check_finds(tmp_path, monkeypatch):
    url = _demo(new_ledger(tmp_path), tmp_path)
    _forge_second_award(url)
    _verified, (_n, by_table) = _both(url)

    class EveryCheck(dict[str, tuple[validation.Check, ...]]):
        def get(self, key: str, default: Any = None) -> tuple[validation.Check, ...]:
            return validation.EVENT_CHECKS

    monkeypatch.setattr(validation, "CHECKS_OF", EveryCheck())
    _verified, (_n, by_all) = _both(url)
    assert by_table == by_all and by_table


def test_paid_net_is_the_same_summed_directly_or_through_the_view_of_all_days(db_url, tmp_path):
    _demo(db_url, tmp_path)
    ledger = GrantsLedger(parse_store(db_url))
    try:
        apps = [app for n in ledger.recorder.select_notifications(start=1, limit=10_000)
                if n.topic == "grants:Enterprise.Registered"
                for app in ledger.repository.get(n.originator_id).applications.values()]
    finally:
        ledger.close()
    assert any(app.reversals for app in apps) and any(app.recoveries for app in apps)
    for app in apps:
        for payer in ("city", "county"):
            assert app.paid_fen(payer) == app.as_of(None).paid_fen(payer)


@pytest.mark.parametrize("text_id", ["2f1f1a36-6c7e-4c39-9a3e-0c6c1f7d2b10", "2F1F1A36-6C7E-4C39-9A3E-0C6C1F7D2B10",
                                     "{2f1f1a36-6c7e-4c39-9a3e-0c6c1f7d2b10}", "urn:uuid:2f1f1a36-6c7e-4c39-9a3e-0c6c1f7d2b10"])
def test_an_originator_id_as_text_is_the_uuids_hex_however_it_is_written(text_id):
    from uuid import UUID

    assert canonical_id(text_id) == UUID(text_id).hex == canonical_id(UUID(text_id))
