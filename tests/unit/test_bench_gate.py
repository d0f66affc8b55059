"""The benchmark's CI gate (bench/gate.py): reading the recorded figures from
docs/benchmark.md and judging a run against them. Nothing here times anything."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import gate
from bench.run import SIZES, parse_size, stages

DOC = """# Benchmark

Some prose with a table that is not the one:

| events | ratio | SQLite | PostgreSQL |
| ---: | --- | ---: | ---: |
| 20,000 | `import_vs_raw_insert` | 9.9 | 9.9 |

## Recorded figures

What the gate compares with.

| events | ratio | SQLite | PostgreSQL |
| ---: | --- | ---: | ---: |
| 20,000 | `import_vs_raw_insert` | 0.080 | 0.200 |
| 20,000 | `rebuild_vs_raw_read` | 0.300 | 0.250 |
| 20,000 | `verify_vs_raw_read` | 0.100 | - |
| 20,000 | `verify_chain_vs_raw_read` | 0.500 | 0.400 |
| 1,000,000 | `import_vs_raw_insert` | 0.050 | 0.060 |

## Import: profile and changes

| events | ratio | SQLite | PostgreSQL |
| ---: | --- | ---: | ---: |
| 20,000 | `rebuild_vs_raw_read` | 7.0 | 7.0 |
"""

MEASURED = {"import_vs_raw_insert": 0.081, "rebuild_vs_raw_read": 0.2, "verify_vs_raw_read": 0.06,
            "verify_chain_vs_raw_read": 0.45}


def test_the_recorded_figures_are_read_from_the_table_under_its_heading_only() -> None:
    recorded = gate.parse_recorded(DOC)
    assert recorded == {
        (20_000, "import_vs_raw_insert", "sqlite"): 0.08, (20_000, "import_vs_raw_insert", "postgresql"): 0.2,
        (20_000, "rebuild_vs_raw_read", "sqlite"): 0.3, (20_000, "rebuild_vs_raw_read", "postgresql"): 0.25,
        (20_000, "verify_vs_raw_read", "sqlite"): 0.1,
        (20_000, "verify_chain_vs_raw_read", "sqlite"): 0.5, (20_000, "verify_chain_vs_raw_read", "postgresql"): 0.4,
        (1_000_000, "import_vs_raw_insert", "sqlite"): 0.05, (1_000_000, "import_vs_raw_insert", "postgresql"): 0.06,
    }


def test_a_run_at_or_above_half_of_every_recorded_figure_passes() -> None:
    verdicts = gate.check(MEASURED, "sqlite", 20_000, gate.parse_recorded(DOC))
    assert [v.ratio for v in verdicts] == list(gate.GATED)
    assert all(v.passed for v in verdicts), [v.message() for v in verdicts]


def test_exactly_half_of_the_recorded_figure_passes() -> None:
    recorded = {(20_000, ratio, "sqlite"): 0.5 for ratio in gate.GATED}
    verdicts = gate.check({ratio: 0.25 for ratio in gate.GATED}, "sqlite", 20_000, recorded)
    assert all(v.passed for v in verdicts)


def test_a_ratio_below_half_of_its_recorded_figure_fails_naming_ratio_figure_record_and_threshold() -> None:
    measured = {**MEASURED, "rebuild_vs_raw_read": 0.149}  # recorded 0.300: the threshold is 0.150
    verdicts = gate.check(measured, "sqlite", 20_000, gate.parse_recorded(DOC))
    failed = [v for v in verdicts if not v.passed]
    assert [v.ratio for v in failed] == ["rebuild_vs_raw_read"]
    message = failed[0].message()
    assert message.startswith("FAIL rebuild_vs_raw_read on SQLite at 20,000 events")
    assert "0.149" in message and "recorded 0.300" in message and "threshold 0.150" in message


def test_a_ratio_with_no_recorded_figure_fails_loudly() -> None:
    measured = {**MEASURED, "import_vs_raw_insert": 0.2}
    verdicts = gate.check(measured, "postgresql", 20_000, gate.parse_recorded(DOC))  # verify: '-' on PostgreSQL
    failed = [v for v in verdicts if not v.passed]
    assert [v.ratio for v in failed] == ["verify_vs_raw_read"]
    assert "no figure recorded" in failed[0].message() and "PostgreSQL at 20,000 events" in failed[0].message()


def test_a_size_with_no_recorded_figures_fails_every_ratio() -> None:
    verdicts = gate.check(MEASURED, "sqlite", 50_000, gate.parse_recorded(DOC))
    assert not any(v.passed for v in verdicts)


def test_a_ratio_the_run_did_not_measure_fails() -> None:
    measured = {k: v for k, v in MEASURED.items() if k != "import_vs_raw_insert"}
    verdicts = gate.check(measured, "sqlite", 20_000, gate.parse_recorded(DOC))
    assert [v.ratio for v in verdicts if not v.passed] == ["import_vs_raw_insert"]
    assert "did not measure" in verdicts[0].message()


@pytest.mark.parametrize("text, complaint", [
    ("# Benchmark\n\nno section at all\n", "no '## Recorded figures' section"),
    ("## Recorded figures\n\nprose only\n\n## Next\n\n| events | ratio | SQLite |\n| --- | --- | --- |\n",
     "no table"),
    ("## Recorded figures\n\n| size | what | SQLite |\n| --- | --- | --- |\n| 1 | `x` | 0.1 |\n", "columns"),
    ("## Recorded figures\n\n| events | ratio | SQLite |\n| --- | --- | --- |\n| 20,000 | `x` | fast |\n",
     "not a figure"),
    ("## Recorded figures\n\n| events | ratio | SQLite |\n| --- | --- | --- |\n| many | `x` | 0.1 |\n",
     "not a number of events"),
    ("## Recorded figures\n\n| events | ratio | SQLite |\n| --- | --- | --- |\n| 20,000 | `x` |\n", "cells"),
])
def test_a_document_without_a_usable_table_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(gate.RecordedFiguresError, match=complaint):
        gate.parse_recorded(text)


def test_the_gate_fails_when_the_document_has_no_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "benchmark.md"
    doc.write_text("# Benchmark\n", encoding="utf-8")
    assert gate.main(["--doc", str(doc), "--no-postgres"]) == 1  # before anything runs
    assert "cannot read the recorded figures" in capsys.readouterr().err


def test_docs_benchmark_records_every_gated_ratio_at_the_ci_size_on_both_stores() -> None:
    recorded = gate.parse_recorded(gate.DOC.read_text(encoding="utf-8"))
    for store in ("sqlite", "postgresql"):
        for ratio in gate.GATED:
            assert (SIZES["ci"], ratio, store) in recorded, (ratio, store)


def test_the_full_size_compares_commands_at_ten_thousand_and_memory_at_a_tenth() -> None:
    plan = stages(parse_size("full"))
    assert [s.events for s in plan] == [10_000, 100_000, 1_000_000]
    assert [s.commands for s in plan] == [True, False, True]
    assert [s.memory for s in plan] == [False, True, True]
    assert plan[0].enterprises < plan[1].enterprises < plan[2].enterprises


def test_the_ci_size_compares_both_at_a_tenth() -> None:
    plan = stages(parse_size("ci"))
    assert [(s.events, s.commands, s.memory) for s in plan] == [(2_000, True, True), (20_000, True, True)]


@pytest.mark.parametrize("value, events", [("1000000", 1_000_000), ("1,000,000", 1_000_000), ("200_000", 200_000),
                                           ("ci", 20_000)])
def test_sizes_are_numbers_of_events_or_names(value: str, events: int) -> None:
    assert parse_size(value) == events


@pytest.mark.parametrize("value", ["999", "lots", ""])
def test_a_size_that_is_too_small_or_not_a_number_is_refused(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(value)


def test_the_commands_are_timed_by_bench_commands_scale_when_it_is_there(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    import sys
    import types

    import bench
    from bench import run

    calls = []

    def time_commands(url: str, ref: str, repeat: int) -> dict[str, dict[str, float]]:
        calls.append((url, ref, repeat))
        return {name: {"median_ms": 10.0 + i, "min_ms": 9.0, "max_ms": 12.0} for i, name in enumerate(run.COMMANDS)}

    module = types.ModuleType("bench.commands_scale")
    module.time_commands = time_commands  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.commands_scale", module)
    monkeypatch.setattr(bench, "commands_scale", module, raising=False)
    figures = run.time_commands("sqlite:///x.db", "SY-2022-0000001", 4, str(tmp_path))
    assert calls == [("sqlite:///x.db", "SY-2022-0000001", 4)]
    assert figures["report_shares"] == {"median_ms": 11.0, "min_ms": 9.0, "max_ms": 12.0, "samples": 4}
    assert set(figures) == set(run.COMMANDS)
