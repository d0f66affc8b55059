"""Importing in chunks (one transaction each) gives the same ledger as one line at a time,
and a chunk that meets a concurrent writer is run again on the new state."""

from __future__ import annotations

from importlib import resources

from commands.imports import import_lines
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, memory_ledger

DEMO = resources.files("commands").joinpath("demo.jsonl").read_bytes().splitlines()
REFS = sorted({line.split(b'"ref": "')[1].split(b'"')[0].decode() for line in DEMO if b'"ref": "' in line})


def _everything(ledger: GrantsLedger) -> dict:
    shown = {}
    for ref in REFS:
        try:
            data = ledger.show(ref)
            # the recording times differ between two ledgers; everything else must not
            data["history"] = [{k: v for k, v in h.items() if k != "recorded_at"} for h in data["history"]]
            shown[ref] = data
        except Exception as exc:  # noqa: BLE001 - refused applications are part of the comparison
            shown[ref] = type(exc).__name__
    return shown


def test_chunked_import_equals_line_by_line_import():
    chunked, single = memory_ledger(), memory_ledger()
    assert import_lines(chunked, DEMO, "t", chunk=500) == import_lines(single, DEMO, "t", chunk=1)
    assert _everything(chunked) == _everything(single)


def test_a_chunk_that_meets_a_concurrent_writer_is_run_again_on_the_new_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    ours, theirs = GrantsLedger(parse_store(url)), GrantsLedger(parse_store(url))
    setup = [b'{"op":"adopt-policy","effective":"2022-09-01"}',
             f'{{"op":"register","uscc":"{USCC_A}","name":"x","area":"张湾区"}}'.encode()]
    assert import_lines(ours, setup, "t")["refused"] == []
    lines = [f'{{"op":"apply","ref":"B-1","uscc":"{USCC_A}","measure":"M07-base","project":"P","date":"2023-01-10",'
             f'"facts":{{"tier":"national"}}}}'.encode(),
             b'{"op":"approve","ref":"B-1","date":"2023-02-01"}']
    original = ours.execute
    interfered = []

    def execute_then_interfere(command):
        result = original(command)
        if ours._batch is not None and not interfered:  # another process writes the same enterprise mid-chunk
            interfered.append(True)
            theirs.execute(parse_command({"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "其他",
                                          "amount_fen": 20000000, "date": "2022-12-01"}, "other"))
        return result

    ours.execute = execute_then_interfere
    result = import_lines(ours, lines, "t")
    assert interfered and result == {"accepted": 2, "refused": [], "warnings": [], "already": 0, "refused_by_code": {}}
    shown = ours.show("B-1")
    assert shown["awarded_fen"] == 30000000  # 50万 less the 20万 the other writer recorded first (就高补差)
    ours.close()
    theirs.close()
