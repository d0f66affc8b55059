"""The CI gate: a CI-sized benchmark run (about 20,000 events) on SQLite, and on PostgreSQL
when it answers, fails when a ratio falls below half of the figure recorded for that size
in docs/benchmark.md.

    python -m bench.gate                     # what .ci/run runs after the tests
    python -m bench.gate --no-postgres       # SQLite only

The recorded figures are read from the table under ``## Recorded figures`` in
docs/benchmark.md, so updating the document updates the gate. Noise on a shared machine
stays well inside a factor of two; a change that halves a ratio does not.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmark.md"
HEADING = "## Recorded figures"
GATED = ("import_vs_raw_insert", "rebuild_vs_raw_read", "verify_vs_raw_read", "verify_chain_vs_raw_read")
STORE_COLUMNS = {"SQLite": "sqlite", "PostgreSQL": "postgresql"}
STORE_NAMES = {column: name for name, column in STORE_COLUMNS.items()}
FACTOR = 0.5  # a ratio below this share of its recorded figure fails
PG_URL = "postgresql://postgres@127.0.0.1:5432/grants_bench_gate_{pid}"

Recorded = dict[tuple[int, str, str], float]  # (events, ratio, store) -> the recorded figure


class RecordedFiguresError(Exception):
    """docs/benchmark.md has no usable table of recorded figures."""


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_recorded(text: str) -> Recorded:
    """The figures of the first table under ``## Recorded figures``: columns ``events``, ``ratio``
    (the ratio's key in backquotes), then one per store (``SQLite``, ``PostgreSQL``); a ``-``
    cell records nothing."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(HEADING))
    except StopIteration:
        raise RecordedFiguresError(f"no '{HEADING}' section") from None
    section: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        section.append(line)
    table = _table(section)
    if len(table) < 2:
        raise RecordedFiguresError(f"no table under '{HEADING}'")
    head = _cells(table[0])
    if head[:2] != ["events", "ratio"] or not set(head[2:]) <= set(STORE_COLUMNS) or len(head) < 3:
        raise RecordedFiguresError(f"the table under '{HEADING}' must have the columns events | ratio | "
                                   f"{' | '.join(STORE_COLUMNS)}, not {' | '.join(head)}")
    recorded: Recorded = {}
    for line in table[2:]:
        cells = _cells(line)
        if len(cells) != len(head):
            raise RecordedFiguresError(f"row {line!r} has {len(cells)} cells, the header {len(head)}")
        try:
            events = int(cells[0].replace(",", ""))
        except ValueError:
            raise RecordedFiguresError(f"row {line!r}: {cells[0]!r} is not a number of events") from None
        ratio = cells[1].strip("`")
        for column, cell in zip(head[2:], cells[2:], strict=True):
            if cell in ("", "-"):
                continue
            try:
                recorded[(events, ratio, STORE_COLUMNS[column])] = float(cell)
            except ValueError:
                raise RecordedFiguresError(f"row {line!r}: {cell!r} is not a figure") from None
    return recorded


def _table(section: list[str]) -> list[str]:
    """The first run of lines that start with '|' in ``section``."""
    table: list[str] = []
    for line in section:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table


@dataclass(frozen=True)
class Verdict:
    ratio: str
    store: str
    events: int
    measured: float | None
    recorded: float | None

    @property
    def threshold(self) -> float | None:
        return None if self.recorded is None else self.recorded * FACTOR

    @property
    def passed(self) -> bool:
        return self.measured is not None and self.threshold is not None and self.measured >= self.threshold

    def message(self) -> str:
        where = f"{self.ratio} on {STORE_NAMES[self.store]} at {self.events:,} events"
        if self.recorded is None:
            return (f"FAIL {where}: no figure recorded for it in docs/benchmark.md ({HEADING}); "
                    f"measured {self.measured}" + ("" if self.measured is None else ": record a typical figure"))
        if self.measured is None:
            return f"FAIL {where}: the run did not measure it (recorded {self.recorded:.3f})"
        verdict = "ok  " if self.passed else "FAIL"
        relation = "at or above" if self.passed else "below"
        return (f"{verdict} {where} is {self.measured:.3f}, {relation} half of the recorded {self.recorded:.3f} "
                f"(threshold {self.threshold:.3f})")


def check(measured: dict[str, float], store: str, events: int, recorded: Recorded) -> list[Verdict]:
    """One verdict per gated ratio; a ratio with no recorded figure, or not measured, fails."""
    return [Verdict(ratio, store, events, measured.get(ratio), recorded.get((events, ratio, store)))
            for ratio in GATED]


def postgres_reachable(url: str, admin_db: str) -> bool:
    try:
        import psycopg

        parts = urlsplit(url)
        psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or "postgres"),
                        password=unquote(parts.password or ""), dbname=admin_db, connect_timeout=5).close()
    except Exception:  # noqa: BLE001 - any reason it cannot be reached means: not measured here
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    from bench import run as bench

    parser = argparse.ArgumentParser(prog="python -m bench.gate", description=__doc__.split("\n\n")[0])
    bench.add_arguments(parser)
    parser.set_defaults(samples=0, pg_scratch=True)  # the commands' growth is not gated: not timed
    parser.add_argument("--doc", type=Path, default=DOC, help="where the recorded figures are (default "
                        "docs/benchmark.md)")
    parser.add_argument("--postgres", metavar="URL", default=PG_URL.format(pid=os.getpid()),
                        help="the PostgreSQL scratch database to create, measure and drop (default %(default)s)")
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args(argv)
    try:
        recorded = parse_recorded(args.doc.read_text(encoding="utf-8"))
    except (OSError, RecordedFiguresError) as exc:
        print(f"bench gate: FAIL: cannot read the recorded figures of {args.doc}: {exc}", file=sys.stderr)
        return 1
    bench.configure_logging()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still drop the scratch database, the files
    urls: list[str | None] = [None]
    if args.no_postgres:
        print("bench gate: PostgreSQL not measured (--no-postgres)", file=sys.stderr)
    elif postgres_reachable(args.postgres, args.pg_admin_db):
        urls.append(args.postgres)
    else:
        print(f"bench gate: PostgreSQL at {args.postgres} does not answer: measured on SQLite only", file=sys.stderr)
    verdicts: list[Verdict] = []
    results: list[dict[str, Any]] = []
    for url in urls:
        result = bench.run(url, args)
        results.append(result)
        store = "sqlite" if url is None else "postgresql"
        verdicts += check(result["ratios"], store, args.events, recorded)
    print(bench.markdown(results))
    print()
    for verdict in verdicts:
        print(f"bench gate: {verdict.message()}")
    failed = [v for v in verdicts if not v.passed]
    doc = os.path.relpath(args.doc, ROOT) if args.doc.resolve().is_relative_to(ROOT) else str(args.doc)
    if failed:
        print(f"bench gate: {len(failed)} of {len(verdicts)} ratios failed against {doc} "
              f"(a ratio must stay at or above half of its recorded figure)", file=sys.stderr)
        return 1
    print(f"bench gate: all {len(verdicts)} ratios at or above half of their recorded figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
