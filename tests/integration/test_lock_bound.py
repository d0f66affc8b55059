"""PostgreSQL: a wait for the ledger's write lock is bounded (issue 19, item 7). While another session holds
the lock taken through ``grants_lock_events()`` (the path operators' roles use), a payment waits the lock
timeout, then gives up ``locked`` (exit 4), writing nothing; the read models' catch-up is bounded the same."""

from __future__ import annotations

import json
import threading
import time

import pytest

from ledger.store import storage
from tests.conftest import USCC_A, init_ledger
from tests.helpers import SECURITY_FACTS, cli, cli_json


@pytest.mark.postgres
def test_a_payment_waiting_for_a_held_write_lock_gives_up_after_the_lock_timeout(pg_url, monkeypatch):
    psycopg = pytest.importorskip("psycopg")
    url = init_ledger(pg_url)
    cli_json(url, "policy", "adopt", "--effective", "2022-09-01")
    cli_json(url, "register", "--uscc", USCC_A, "--name", "甲", "--area", "张湾区")
    facts = [a for k, v in SECURITY_FACTS.items() for a in ("--fact", f"{k}={v}")]
    cli_json(url, "apply", "--ref", "L-1", "--uscc", USCC_A, "--measure", "M03-security", "--project", "L-1",
             "--date", "2023-01-10", *facts)
    cli_json(url, "approve", "L-1", "--date", "2023-02-01", "--by", "li.wei")
    monkeypatch.setattr(storage, "POSTGRES_LOCK_TIMEOUT", 2)
    held, done = threading.Event(), threading.Event()

    def hold() -> None:  # another session holds the lock for at most 20 s (without a bound, pay would wait it out)
        with psycopg.connect(url) as holder:
            found = holder.execute("SELECT to_regprocedure('public.grants_lock_events()') IS NOT NULL").fetchone()
            assert found is not None and found[0], "grants init installs the lock function on PostgreSQL"
            holder.execute("SELECT public.grants_lock_events()")  # held until the transaction ends
            held.set()
            done.wait(20)
            holder.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        result = cli(url, "pay", "L-1", "--payer", "city", "--amount-fen", "100", "--voucher", "V-1",
                     "--date", "2023-03-01", "--json")
        elapsed = time.monotonic() - started
    finally:
        done.set()
        thread.join()
    assert result.exit_code == 4, (result.stdout, result.stderr)
    error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "locked"
    assert 1.5 < elapsed < 15, elapsed
    shown = cli_json(url, "show", "L-1")
    assert shown["city_paid_fen"] == 0 and shown["payments"] == []  # nothing written


@pytest.mark.postgres
def test_every_ledger_connection_bounds_its_lock_waits_and_its_statements(pg_url):
    """Issue 19, item 7: the event store's connections and the read models' both carry lock_timeout and
    statement_timeout, so no statement of the ledger waits without end, whatever it waits for; a statement
    cancelled by its bound is reported `locked` (exit 4), like a lock wait."""
    from ledger.service.application import GrantsLedger
    from ledger.store.errors import classify
    from projections.runner import make_engine

    url = init_ledger(pg_url)
    store = storage.parse_store(url)
    ledger = GrantsLedger(store)
    engine = make_engine(store)
    try:
        with ledger.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            events = (conn.execute("SHOW lock_timeout").fetchone(), conn.execute("SHOW statement_timeout").fetchone())
        with engine.connect() as conn:
            views = (conn.exec_driver_sql("SHOW lock_timeout").scalar(),
                     conn.exec_driver_sql("SHOW statement_timeout").scalar())
            with pytest.raises(Exception) as cancelled:
                conn.exec_driver_sql("SET statement_timeout = 100")
                conn.exec_driver_sql("SELECT pg_sleep(2)")
    finally:
        engine.dispose()
        ledger.close()
    assert [next(iter(r.values())) for r in events] == ["30s", "5min"]
    assert views == ("30s", "5min")
    error = classify(cancelled.value, store)
    assert error is not None and error.code == "locked"
