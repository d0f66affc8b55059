"""Two processes deciding on the same enterprise at once never both break a rule.

Each racer is held, after its rules have decided and before it saves, until the
other has decided too: both decide on the same state, so both would win without
the store's optimistic concurrency. Exactly one write succeeds; the other is
re-run against the new state, where the rule refuses it.
"""

from __future__ import annotations

import multiprocessing
from datetime import date
from typing import Any

from ledger.domain.aggregates import APPROVED
from tests.conftest import USCC_A
from tests.helpers import cli, cli_json, write_lines

SETUP = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
    {"op": "apply", "ref": "R-1", "uscc": USCC_A, "measure": "M03-platform", "project": "P1", "date": "2023-01-10",
     "facts": {"route": "dual-cross"}},
    {"op": "apply", "ref": "R-2", "uscc": USCC_A, "measure": "M03-platform", "project": "P2", "date": "2023-01-11",
     "facts": {"route": "dual-cross"}},
]


def _racer(db_url: str, rule: str, command: Any, barrier: Any, results: Any) -> None:
    from ledger.domain import rules
    from ledger.errors import Refused
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store

    original = getattr(rules, rule)
    held: list[bool] = []

    def decide_then_wait(*args: Any, **kwargs: Any) -> Any:
        decision = original(*args, **kwargs)
        if not held:  # only the first attempt waits; the retry runs free
            held.append(True)
            barrier.wait(timeout=60)
        return decision

    setattr(rules, rule, decide_then_wait)
    ledger = GrantsLedger(parse_store(db_url))
    try:
        ledger.execute(command)
        results.put((command.by, "ok"))
    except Refused as refusal:
        results.put((command.by, refusal.code))
    finally:
        ledger.close()


def _race(db_url: str, rule: str, commands: list[Any]) -> dict[str, str]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(commands))
    results = ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(db_url, rule, c, barrier, results)) for c in commands]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0, f"racer exited with {p.exitcode}"
    return dict(results.get(timeout=5) for _ in commands)


def _setup(db_url: str, tmp_path: Any, extra: list[dict[str, Any]] = ()) -> None:
    result = cli(db_url, "import", str(write_lines(tmp_path / "setup.jsonl", [*SETUP, *extra])))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_two_processes_racing_to_approve_the_same_one_time_award_exactly_one_wins(db_url, tmp_path):
    from ledger.intake.commands import Approve

    _setup(db_url, tmp_path)
    outcome = _race(db_url, "decide_approval", [Approve("R-1", date(2023, 2, 1), "reviewer.1"),
                                                Approve("R-2", date(2023, 2, 1), "reviewer.2")])
    assert sorted(outcome.values()) == ["already-awarded", "ok"]
    statuses = [cli_json(db_url, "show", ref)["status"] for ref in ("R-1", "R-2")]
    assert statuses.count(APPROVED) == 1
    report = cli_json(db_url, "report", "enterprise")["enterprises"]
    assert report[0]["awarded_fen"] == 200000000


def test_two_processes_racing_to_pay_the_whole_city_share_pay_it_once(db_url, tmp_path):
    from ledger.intake.commands import Pay

    _setup(db_url, tmp_path, [{"op": "approve", "ref": "R-1", "date": "2023-02-01", "by": "li.wei"}])
    outcome = _race(db_url, "decide_payment", [
        Pay("R-1", "city", 100000000, "V-A", date(2023, 3, 1), "treasurer.1"),
        Pay("R-1", "city", 100000000, "V-B", date(2023, 3, 1), "treasurer.2"),
    ])
    assert sorted(outcome.values()) == ["ok", "over-payment"]
    shown = cli_json(db_url, "show", "R-1")
    assert shown["city_paid_fen"] == 100000000 and len(shown["payments"]) == 1
