"""Eight processes fire colliding commands at one ledger (SQLite, PostgreSQL) for a bounded time.

Approvals of the same applications, payments on the same few enterprises, new
applications on them: every command is retried on conflict or stale read, none may
break a rule, and what the workers were told was recorded is exactly what the ledger
holds. It reports commands/s and retries (docs/reliability.md records a 20 s run):

    GRANTS_LOAD_SECONDS=20 .venv/bin/pytest -q -s tests/integration/test_load.py

In the ordinary suite each process sends a fixed number of commands (40), however long they take, and what is
checked is what holds under any load: no rule broken, nothing lost, nothing recorded twice. A command that
stayed busy through every retry (`Busy`: nothing written, the caller told so) is counted, not failed: how often
that happens is a matter of speed, which the benchmark measures, not this test.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from typing import Any

from ledger.domain.uscc import make_uscc

TIMED = "GRANTS_LOAD_SECONDS" in os.environ  # a throughput run for the record; else a fixed number of commands
SECONDS = float(os.environ.get("GRANTS_LOAD_SECONDS", "0"))
COMMANDS = 40  # per process, when not timed
WORKERS = 8
ENTERPRISES = [make_uscc(f"9142030{i}MA4F0L{i}D{i}") for i in range(4)]
APPS = [(f"L-{e}-{a}", uscc) for e, uscc in enumerate(ENTERPRISES) for a in range(3)]
SHARE_FEN = 25000000  # each half of a 50万 award


def _setup(url: str) -> None:
    import json

    from commands.imports import import_lines
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store

    lines: list[dict[str, Any]] = [{"op": "adopt-policy", "effective": "2022-09-01"}]
    lines += [{"op": "register", "uscc": u, "name": f"负载{i}", "area": "张湾区"} for i, u in enumerate(ENTERPRISES)]
    # three applications for one base per enterprise: clause 7's base is one-time per base, so their approvals
    # race for `already-awarded`
    lines += [{"op": "apply", "ref": ref, "uscc": uscc, "measure": "M07-base", "project": f"BASE-{uscc}",
               "date": "2023-01-10", "facts": {"tier": "national"}} for ref, uscc in APPS]
    ledger = GrantsLedger(parse_store(url))
    assert import_lines(ledger, [json.dumps(x, ensure_ascii=False).encode() for x in lines], "setup")["refused"] == []
    ledger.close()


def _worker(url: str, n: int, start: float, stop: float, results: Any) -> None:
    import logging

    import structlog

    from ledger.errors import Refused
    from ledger.intake import commands as intake
    from ledger.service.application import Busy, GrantsLedger
    from ledger.store.storage import parse_store

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    ledger = GrantsLedger(parse_store(url))
    rng = random.Random(n)
    tally: dict[str, Any] = {"commands": 0, "ok": 0, "refused": 0, "busy": 0, "approved": [], "paid": [],
                             "applied": [], "codes": {}}
    time.sleep(max(0.0, start - time.time()))
    count = 0
    while (time.time() < stop) if TIMED else (count < COMMANDS):
        count += 1
        ref, uscc = rng.choice(APPS)
        kind = rng.choice(("approve", "pay", "pay", "pay", "apply"))
        if kind == "approve":
            line: dict[str, Any] = {"op": "approve", "ref": ref, "date": "2023-02-01"}
        elif kind == "pay":
            line = {"op": "pay", "ref": ref, "payer": rng.choice(("city", "county")),
                    "amount_fen": rng.randint(100, 500) * 10000, "voucher": f"V-{n}-{count}", "date": "2023-03-01"}
        else:
            line = {"op": "apply", "ref": f"N-{n}-{count}", "uscc": uscc, "measure": "M07-base",
                    "project": f"N-{n}-{count}", "date": "2023-01-11", "facts": {"tier": "national"}}
        command = intake.parse_command(line, f"w{n}")
        tally["commands"] += 1
        try:
            result = ledger.execute(command)
        except Refused as refusal:
            tally["refused"] += 1
            tally["codes"][refusal.code] = tally["codes"].get(refusal.code, 0) + 1
            continue
        except Busy:
            tally["busy"] += 1
            continue
        tally["ok"] += 1
        if result.get("already_recorded"):
            tally["already"] = tally.get("already", 0) + 1  # the same approval sent again: answered, not made twice
        elif kind == "approve":
            tally["approved"].append(ref)
        elif kind == "pay":
            tally["paid"].append((ref, command.payer, command.amount_fen))
        else:
            tally["applied"].append(command.ref)
    tally["retries"] = ledger.retries
    ledger.close()
    results.put(tally)


def test_eight_processes_firing_colliding_commands_break_no_rule_and_lose_nothing(db_url):
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store

    _setup(db_url)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = time.time() + 3  # let every process start and import the ledger first
    procs = [ctx.Process(target=_worker, args=(db_url, n, start, start + SECONDS, results)) for n in range(WORKERS)]
    for p in procs:
        p.start()
    tallies = [results.get(timeout=SECONDS + 600) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    total = {k: sum(t[k] for t in tallies) for k in ("commands", "ok", "refused", "busy", "retries")}
    rate = f" ({total['commands'] / SECONDS:.0f}/s)" if TIMED else ""
    print(f"\nload on {db_url.split(':')[0]}: {WORKERS} processes: {total['commands']} commands{rate}, "
          f"{total['ok']} recorded, {total['refused']} refused, {total['busy']} busy, {total['retries']} retries")
    codes: dict[str, int] = {}
    for t in tallies:
        for code, k in t["codes"].items():
            codes[code] = codes.get(code, 0) + k
    print(f"refusals: {codes}")

    ledger = GrantsLedger(parse_store(db_url))
    approved = [ref for t in tallies for ref in t["approved"]]
    paid: dict[tuple[str, str], int] = {}
    for t in tallies:
        for ref, payer, amount in t["paid"]:
            paid[ref, payer] = paid.get((ref, payer), 0) + amount
    assert len(approved) == len(set(approved))  # an application is approved once
    for ref, _ in APPS:
        shown = ledger.show(ref)
        assert (shown["status"] == "approved") == (ref in approved)
        assert shown["city_paid_fen"] == paid.get((ref, "city"), 0) <= SHARE_FEN  # every payment told "ok", no other
        assert shown["county_paid_fen"] == paid.get((ref, "county"), 0) <= SHARE_FEN
    for ref in (r for t in tallies for r in t["applied"]):
        assert ledger.show(ref)["status"] == "submitted"
    ledger.close()
    assert total["commands"] == (total["ok"] + total["refused"] + total["busy"])
    assert total["ok"] > 0
    if not TIMED:
        assert total["commands"] == WORKERS * COMMANDS
