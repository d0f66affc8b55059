"""The ledger's benchmark: each throughput as a ratio of the raw store's own speed,
measured in the same run on the same database.

    python -m bench.run                                   # a temporary SQLite file, 300 enterprises
    python -m bench.run --enterprises 3000 --json         # bigger; JSON on stdout
    python -m bench.run --db postgresql://postgres@127.0.0.1:5432/grants_bench --pg-scratch

One run, one database:

1. import a small province (``--small`` enterprises of ``bench.generate``) with
   ``commands.imports.import_lines``, bring the read models up to date, and time
   ``show`` of one application and the two reports;
2. import the rest of the province (to ``--enterprises``), catch up, and time the same
   ``show`` and reports again: the second history is about ten times the first;
3. raw paged read: the whole log through ``recorder.select_notifications`` in pages of
   1,000 (best of ``--repeat``);
4. rebuild of the read models (``projections.runner.rebuild``, best of ``--repeat``),
   and, to split its cost, the same paged read with every notification decoded into
   its domain event;
5. raw insert: the log's own (topic, state) payloads, under fresh aggregate ids, written
   by ``ledger.recorder.insert_events`` in ONE call (one transaction) on SQLite, and in
   calls of at most 5,000 events and 3 MB on PostgreSQL, where larger calls hang (see
   ``raw_insert``); then deleted again (best of ``--repeat``).

Ratios: import / raw insert (target >= 0.25), rebuild / raw paged read (target >= 0.4);
``show`` and the reports at the larger history / at the smaller (target 1.0).
What each figure means: docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import structlog
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, text

from bench.generate import dumps, generate
from commands.imports import import_lines
from commands.progress import bar
from ledger import append_only, chain
from ledger.service import GrantsLedger
from ledger.storage import POSTGRES, SQLITE, Store, parse_store
from projections import audit_log, reports, runner

PAGE = 1000
RAW_BATCH = 5000  # events per insert_events call of the raw insert on PostgreSQL (see raw_insert)
RAW_BATCH_BYTES = 3_000_000
TARGETS = {"import_vs_raw_insert": 0.25, "rebuild_vs_raw_read": 0.4, "latency_growth": 1.0, "verify_vs_raw_read": 0.4}


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


# --- the database -------------------------------------------------------------------

@contextmanager
def database(args: argparse.Namespace) -> Iterator[Store]:
    """The store to measure on: a temporary SQLite file, or the URL given (a PostgreSQL
    scratch database is created first and dropped afterwards with --pg-scratch)."""
    if args.db is None:
        if args.pg_scratch:
            raise SystemExit("--pg-scratch needs --db postgresql://user@host:5432/NAME")
        folder = tempfile.mkdtemp(prefix="grants-bench-")
        try:
            yield parse_store(f"sqlite:///{os.path.join(folder, 'bench.db')}")
        finally:
            if args.keep:
                progress(f"kept {folder}/bench.db")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return
    store = parse_store(args.db)
    if not args.pg_scratch:
        if store.kind == SQLITE and store.sqlite_path and os.path.exists(store.sqlite_path) \
                and os.path.getsize(store.sqlite_path) > 0:
            raise SystemExit(f"{store.shown} exists; the benchmark needs a new SQLite file (or no --db)")
        yield store
        return
    if store.kind != POSTGRES:
        raise SystemExit("--pg-scratch is for a postgresql:// URL")
    import psycopg

    parts = urlsplit(args.db)
    name = store.event_store_env["POSTGRES_DBNAME"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise SystemExit(f"{name!r}: name the scratch database with letters, digits and _ only")
    admin = psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or "postgres"),
                            password=unquote(parts.password or ""), dbname=args.pg_admin_db, autocommit=True,
                            connect_timeout=10)
    try:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            raise SystemExit(f"database {name!r} already exists; --pg-scratch creates (and drops) a new one: "
                             "give another name")
        admin.execute(f'CREATE DATABASE "{name}"')
        progress(f"created scratch database {name}")
        try:
            yield store
        finally:
            if args.keep:
                progress(f"kept scratch database {name}")
            else:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                progress(f"dropped scratch database {name}")
    finally:
        admin.close()


def server_version(store: Store, engine: Engine) -> str:
    if store.kind == SQLITE:
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as conn:
        return "PostgreSQL " + str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]


def events_table(ledger: GrantsLedger) -> str:
    recorder: Any = ledger.recorder
    schema = getattr(getattr(recorder, "datastore", None), "schema", None)
    return f'"{schema}"."{recorder.events_table_name}"' if schema else recorder.events_table_name


# --- the measurements -----------------------------------------------------------------

def verify_log(ledger: GrantsLedger, engine: Engine) -> int:
    """`grants audit verify`'s chain walk over the whole log; how many events it checked."""
    with bar("verify", ledger.recorder.max_notification_id() or 0) as advance:
        walk, _ = audit_log.verify_chain(engine, ledger.recorder.events_table_name, progress=advance)
    if walk.broken is not None:
        raise RuntimeError(f"the chain is broken: {walk.broken}")
    return walk.events


def rebuild_views(ledger: GrantsLedger, engine: Engine) -> int:
    """`grants projections rebuild`; how many events it replayed."""
    with bar("rebuild", ledger.recorder.max_notification_id() or 0) as advance:
        return runner.rebuild(ledger, engine, advance)


def read_log(ledger: GrantsLedger, decode: bool = False) -> int:
    """The whole log in pages of 1,000, as the rebuild and the catch-up read it."""
    recorder, mapper = ledger.recorder, ledger.mapper
    count, start = 0, 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE)
        if not page:
            return count
        if decode:
            for notification in page:
                mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1


def best_of(repeat: int, fn: Callable[[], Any], before: Callable[[], Any] | None = None) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (the least disturbed by the rest of the machine)."""
    best: tuple[float, Any] | None = None
    for _ in range(repeat):
        if before is not None:
            before()
        result = timed(fn)
        if best is None or result[0] < best[0]:
            best = result
    assert best is not None
    return best


def latency_ms(samples: int, fn: Callable[[], Any]) -> dict[str, float]:
    fn()  # warm: the first call pays for imports and prepared statements
    times = [timed(fn)[0] * 1000 for _ in range(samples)]
    return {"median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
            "max_ms": round(max(times), 3), "samples": samples}


def latencies(ledger: GrantsLedger, engine: Engine, ref: str, samples: int) -> dict[str, Any]:
    """`grants show REF` and `grants report enterprise|shares`, less the process start:
    a report first catches the views up (here: nothing new, one locked read), then queries."""
    def report_enterprise() -> Any:
        runner.catch_up(ledger, engine)
        return reports.enterprise_report(engine)

    def report_shares() -> Any:
        runner.catch_up(ledger, engine)
        return reports.shares_report(engine)

    return {
        "events": ledger.recorder.max_notification_id() or 0,
        "show": latency_ms(samples, lambda: ledger.show(ref)),
        "report_enterprise": latency_ms(max(3, samples // 3), report_enterprise),
        "report_shares": latency_ms(max(3, samples // 3), report_shares),
    }


def raw_insert(ledger: GrantsLedger, engine: Engine, seed: int, repeat: int, batch: int | None) -> dict[str, Any]:
    """The store's own write speed: the log's payloads again, under fresh ids, written by
    ``insert_events``, each call one transaction; deleted after each run.

    On SQLite the whole log is ONE call (unless ``batch`` says otherwise). On PostgreSQL a
    call of more than about 6 MB of payload (some 10,000 of these events) never returns:
    psycopg's pipeline, which the library's recorder uses, deadlocks with the server
    (psycopg 3.3.9, PostgreSQL 15; see docs/benchmark.md). There the calls are of at most
    RAW_BATCH events and RAW_BATCH_BYTES of payload.
    """
    last = ledger.recorder.max_notification_id() or 0
    rng = random.Random(seed)
    table = events_table(ledger)
    id_column = "rowid" if ledger.store.kind == SQLITE else "notification_id"
    postgres = ledger.store.kind == POSTGRES
    max_bytes = RAW_BATCH_BYTES if postgres else float("inf")
    if batch is None:
        batch = RAW_BATCH if postgres else sys.maxsize

    def calls() -> Iterator[list[StoredEvent]]:
        """The log read again page by page and cut into calls; built outside the clock
        (only the insert_events calls are timed) and one call at a time (little memory)."""
        events: list[StoredEvent] = []
        size, start = 0, 1
        while start <= last:
            page = ledger.recorder.select_notifications(start=start, limit=PAGE, stop=last)
            if not page:
                break
            for n in page:
                if events and (len(events) >= batch or size + len(n.state) > max_bytes):
                    yield events
                    events, size = [], 0
                events.append(StoredEvent(originator_id=UUID(int=rng.getrandbits(128), version=4),
                                          originator_version=1, topic=n.topic, state=n.state))
                size += len(n.state)
            start = page[-1].id + 1
        if events:
            yield events

    best: float | None = None
    transactions = count = payload = 0
    for _ in range(repeat):
        seconds, transactions, count, payload = 0.0, 0, 0, 0
        for events in calls():
            took, _ = timed(lambda: ledger.recorder.insert_events(events))  # noqa: B023 - called at once
            seconds += took
            transactions += 1
            count += len(events)
            payload += sum(len(e.state) for e in events)
        best = seconds if best is None else min(best, seconds)
        with engine.begin() as conn:  # a scratch ledger: lift the append-only guards to take them out again
            for statement in append_only.drop_statements(ledger.store.kind, ledger.recorder.events_table_name):
                conn.exec_driver_sql(statement)
            conn.execute(text(f"DELETE FROM {table} WHERE {id_column} > :last"), {"last": last})
            conn.execute(text(f"DELETE FROM {chain.CHAIN_TABLE} WHERE position > :last"), {"last": last})
        ledger.recorder.create_table()  # the guards back
    if (ledger.recorder.max_notification_id() or 0) != last:
        raise RuntimeError("the raw events were not removed from the log")
    assert best is not None
    return {"events": count, "transactions": transactions, "seconds": round(best, 4),
            "events_per_s": rate(count, best), "payload_bytes": payload}


# --- one run ---------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    small = args.small if args.small is not None else max(10, args.enterprises // 10)
    if not 0 < small < args.enterprises:
        raise SystemExit("--small must be more than 0 and less than --enterprises")
    rss: dict[str, float] = {}

    progress(f"generating {args.enterprises} enterprises (seed {args.seed}), the first {small} as the small history")
    gen_seconds, (first_lines, rest_lines) = timed(lambda: (generate(small, args.seed),
                                                            generate(args.enterprises, args.seed, first=small)))
    first_bytes = [dumps(line).encode("utf-8") for line in first_lines]
    rest_bytes = [dumps(line).encode("utf-8") for line in rest_lines]
    # The application shown at both sizes: the first one paid (approved, with a trace and payments).
    show_ref = next(line["ref"] for line in first_lines if line["op"] == "pay")
    busiest_ref, busiest_lines = busiest(first_lines + rest_lines)
    rss["generated"] = peak_rss_mb()

    with database(args) as store:
        ledger = GrantsLedger(store)
        engine = runner.make_engine(store)
        try:
            runner.create_views(engine)
            if ledger.recorder.max_notification_id():
                raise SystemExit(f"{store.shown} already holds events; the benchmark needs an empty ledger")
            result: dict[str, Any] = {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "load_average_at_start": load_average(),
                "store": store.kind, "db": store.shown if args.db else "sqlite (temporary file)",
                "server": server_version(store, engine), "machine": machine(),
                "workload": {"enterprises": args.enterprises, "small_enterprises": small, "seed": args.seed,
                             "lines": len(first_lines) + len(rest_lines), "generate_seconds": round(gen_seconds, 3),
                             "ops": dict(Counter(line["op"] for line in first_lines + rest_lines))},
                "targets": TARGETS,
            }
            rss["opened"] = peak_rss_mb()

            # 1. the small history
            progress(f"importing {len(first_bytes)} lines (small history)")
            imp1 = import_phase(ledger, first_bytes)
            cu1 = catch_up_phase(ledger, engine)
            rss["small_imported"] = peak_rss_mb()
            progress(f"timing show {show_ref} and the reports at {imp1['events_after']} events")
            lat_small = latencies(ledger, engine, show_ref, args.samples)

            # 2. the rest
            progress(f"importing {len(rest_bytes)} lines (the rest)")
            imp2 = import_phase(ledger, rest_bytes)
            cu2 = catch_up_phase(ledger, engine)
            rss["all_imported"] = peak_rss_mb()
            progress(f"timing show {show_ref} and the reports at {imp2['events_after']} events")
            lat_large = latencies(ledger, engine, show_ref, args.samples)
            lat_large["show_busiest"] = latency_ms(args.samples, lambda: ledger.show(busiest_ref))
            total_events = imp2["events_after"]

            # 3. raw paged read, 4. rebuild (and read + decode)
            progress(f"raw paged read of {total_events} events (best of {args.repeat})")
            read_s, read_n = best_of(args.repeat, lambda: read_log(ledger))
            progress(f"rebuild of the read models (best of {args.repeat})")
            rebuild_s, rebuild_n = best_of(args.repeat, lambda: rebuild_views(ledger, engine))
            decode_s, decode_n = best_of(args.repeat, lambda: read_log(ledger, decode=True))
            progress(f"audit verify of {total_events} events (best of {args.repeat})")
            verify_s, verify_n = best_of(args.repeat, lambda: verify_log(ledger, engine))
            rss["rebuilt"] = peak_rss_mb()

            # 5. raw insert of the same payloads
            progress(f"raw insert of {total_events} events (best of {args.repeat})")
            raw = raw_insert(ledger, engine, args.seed, args.repeat, args.raw_batch)
            rss["raw_inserted"] = peak_rss_mb()
        finally:
            ledger.close()
            engine.dispose()

    import_s = imp1["seconds"] + imp2["seconds"]
    import_events = imp1["events"] + imp2["events"]
    import_lines_n = imp1["lines"] + imp2["lines"]
    read = {"events": read_n, "seconds": round(read_s, 4), "events_per_s": rate(read_n, read_s)}
    imp = {"events": import_events, "lines": import_lines_n, "seconds": round(import_s, 3),
           "events_per_s": rate(import_events, import_s), "lines_per_s": rate(import_lines_n, import_s),
           "accepted": imp1["accepted"] + imp2["accepted"], "refused": imp1["refused"] + imp2["refused"],
           "warnings": imp1["warnings"] + imp2["warnings"],
           "refused_codes": dict(imp1["codes"] + imp2["codes"]),
           "phases": [{k: v for k, v in p.items() if k != "codes"} for p in (imp1, imp2)]}
    catch = {"events": cu1["events"] + cu2["events"], "seconds": round(cu1["seconds"] + cu2["seconds"], 4)}
    catch["events_per_s"] = rate(catch["events"], catch["seconds"])
    rebuild = {"events": rebuild_n, "seconds": round(rebuild_s, 4), "events_per_s": rate(rebuild_n, rebuild_s)}
    decode = {"events": decode_n, "seconds": round(decode_s, 4), "events_per_s": rate(decode_n, decode_s)}
    verify = {"events": verify_n, "seconds": round(verify_s, 4), "events_per_s": rate(verify_n, verify_s)}
    history_growth = round(lat_large["events"] / lat_small["events"], 2)
    growth = {name: round(lat_large[name]["median_ms"] / lat_small[name]["median_ms"], 2)
              for name in ("show", "report_enterprise", "report_shares")}
    result.update({
        "raw_insert": raw,
        "raw_paged_read": read,
        "import": imp,
        "catch_up": catch,
        "rebuild": rebuild,
        "read_and_decode": decode,
        "audit_verify": verify,
        "latency": {"show_ref": show_ref, "busiest_ref": busiest_ref, "busiest_lines": busiest_lines,
                    "small": lat_small, "large": lat_large,
                    "history_growth": history_growth, "latency_growth": growth},
        "ratios": {
            "import_vs_raw_insert": round(imp["events_per_s"] / raw["events_per_s"], 4),
            "rebuild_vs_raw_read": round(rebuild["events_per_s"] / read["events_per_s"], 4),
            "catch_up_vs_raw_read": round(catch["events_per_s"] / read["events_per_s"], 4),
            "read_and_decode_vs_raw_read": round(decode["events_per_s"] / read["events_per_s"], 4),
            "verify_vs_raw_read": round(verify["events_per_s"] / read["events_per_s"], 4),
        },
        "load_average_at_end": load_average(),
        "peak_rss_mb": peak_rss_mb(),
        "rss_checkpoints_mb": rss,
    })
    return result


def busiest(lines: list[dict[str, Any]]) -> tuple[str, int]:
    """An application of the enterprise with the most lines (the longest stream to replay for `show`)."""
    owner: dict[str, str] = {}
    count: Counter[str] = Counter()
    for line in lines:
        if line["op"] == "apply":
            owner[line["ref"]] = line["uscc"]
        uscc = line.get("uscc") or owner.get(line.get("ref", ""))
        if uscc:
            count[uscc] += 1
    uscc, n = count.most_common(1)[0]
    ref = next(line["ref"] for line in lines if line["op"] == "pay" and owner.get(line["ref"]) == uscc)
    return ref, n


def import_phase(ledger: GrantsLedger, lines: list[bytes]) -> dict[str, Any]:
    before = ledger.recorder.max_notification_id() or 0
    seconds, outcome = timed(lambda: import_lines(ledger, lines, "bench", show_progress=True))
    after = ledger.recorder.max_notification_id() or 0
    return {"lines": len(lines), "events": after - before, "events_after": after, "seconds": round(seconds, 4),
            "events_per_s": rate(after - before, seconds), "lines_per_s": rate(len(lines), seconds),
            "accepted": outcome["accepted"], "refused": len(outcome["refused"]),
            "warnings": len(outcome.get("warnings", [])),
            "codes": Counter(r["code"] for r in outcome["refused"])}


def catch_up_phase(ledger: GrantsLedger, engine: Engine) -> dict[str, Any]:
    seconds, applied = timed(lambda: runner.catch_up(ledger, engine))
    return {"events": applied, "seconds": seconds}


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine slows every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "eventsourcing": version("eventsourcing"), "sqlalchemy": version("sqlalchemy"),
            "psycopg": version("psycopg"), "commit": commit()}


def commit() -> str:
    """The ledger's commit (read only; '+changes' when its code in the working tree differs from it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "ledger", "commands",
                                "projections"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


# --- the report --------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:,.0f}"


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio >= target else "NOT met"


def _load(value: list[float] | None) -> str:
    return "?" if not value else f"{value[0]:.2f}"


def render(r: dict[str, Any]) -> str:
    ratios, lat = r["ratios"], r["latency"]
    w, m = r["workload"], r["machine"]
    rows = [
        (f"raw insert ({r['raw_insert']['transactions']} transaction"
         f"{'s' if r['raw_insert']['transactions'] > 1 else ''})",
         f"{_n(r['raw_insert']['events_per_s'])} events/s", "1 (base)", ""),
        ("raw paged read (pages of 1,000)", f"{_n(r['raw_paged_read']['events_per_s'])} events/s", "1 (base)", ""),
        ("import (import_lines)", f"{_n(r['import']['events_per_s'])} events/s, {_n(r['import']['lines_per_s'])} "
                                  "lines/s",
         f"{ratios['import_vs_raw_insert']:.3f} x raw insert",
         f">= {TARGETS['import_vs_raw_insert']}: {_verdict(ratios['import_vs_raw_insert'], TARGETS['import_vs_raw_insert'])}"),
        ("rebuild (projections.runner.rebuild)", f"{_n(r['rebuild']['events_per_s'])} events/s",
         f"{ratios['rebuild_vs_raw_read']:.3f} x raw read",
         f">= {TARGETS['rebuild_vs_raw_read']}: {_verdict(ratios['rebuild_vs_raw_read'], TARGETS['rebuild_vs_raw_read'])}"),
        ("  of which: read + decode", f"{_n(r['read_and_decode']['events_per_s'])} events/s",
         f"{ratios['read_and_decode_vs_raw_read']:.3f} x raw read", ""),
        ("catch-up after import", f"{_n(r['catch_up']['events_per_s'])} events/s",
         f"{ratios['catch_up_vs_raw_read']:.3f} x raw read", ""),
        ("audit verify (hash chain)", f"{_n(r['audit_verify']['events_per_s'])} events/s",
         f"{ratios['verify_vs_raw_read']:.3f} x raw read",
         f">= {TARGETS['verify_vs_raw_read']}: {_verdict(ratios['verify_vs_raw_read'], TARGETS['verify_vs_raw_read'])}"),
    ]
    small, large = lat["small"], lat["large"]
    for name, label in (("show", f"show {lat['show_ref']}"), ("report_enterprise", "report enterprise"),
                        ("report_shares", "report shares")):
        g = lat["latency_growth"][name]
        rows.append((label, f"{small[name]['median_ms']:.2f} ms -> {large[name]['median_ms']:.2f} ms",
                     f"{g:.2f} x for {lat['history_growth']:.1f} x history",
                     "1.0: " + ("met" if g <= 1.25 else "NOT met")))
    c = r["rss_checkpoints_mb"]
    rows.append((f"show {lat['busiest_ref']} (busiest enterprise)", f"{large['show_busiest']['median_ms']:.2f} ms",
                 f"its enterprise has {lat['busiest_lines']} lines", ""))
    rows.append(("peak RSS", f"{c['generated']:.0f} MB generated, {c['all_imported']:.0f} MB imported, "
                 f"{c['rebuilt']:.0f} MB rebuilt, {r['peak_rss_mb']:.0f} MB at the end", "", ""))
    widths = [max(len(row[i]) for row in rows + [("figure", "absolute", "ratio", "target")]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    header = [
        f"grants-ledger benchmark, {r['when']}",
        f"store: {r['server']} ({r['db']})",
        f"machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, eventsourcing {m['eventsourcing']}, "
        f"SQLAlchemy {m['sqlalchemy']}; ledger at commit {m['commit']}",
        f"workload: {w['enterprises']:,} enterprises (seed {w['seed']}; small history: the first "
        f"{w['small_enterprises']:,}), {w['lines']:,} lines -> {r['import']['events']:,} events; "
        f"{r['import']['refused']:,} lines refused on purpose ({r['import']['refused'] / w['lines']:.1%})",
        f"load average (1 min) {_load(r['load_average_at_start'])} at the start, {_load(r['load_average_at_end'])} "
        f"at the end, on {m['cpus']} CPUs",
        f"latencies at {small['events']:,} and {large['events']:,} events (median of "
        f"{small['show']['samples']} / {small['report_enterprise']['samples']} calls)",
        "",
        line(("figure", "absolute", "ratio", "target")),
        line(tuple("-" * n for n in widths)),
    ]
    return "\n".join(header + [line(row) for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", metavar="URL", help="database URL (default: a temporary SQLite file); it must hold "
                        "no ledger yet, or be created with --pg-scratch")
    parser.add_argument("--pg-scratch", action="store_true", help="create the PostgreSQL database named in --db "
                        "first and drop it at the end")
    parser.add_argument("--pg-admin-db", default="test", help="database to connect to for CREATE/DROP DATABASE "
                        "(default: test)")
    parser.add_argument("--enterprises", type=int, default=300, help="enterprises in the province (default 300)")
    parser.add_argument("--small", type=int, default=None, help="enterprises in the small history (default a tenth)")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each raw figure and of the rebuild; the "
                        "best counts (default 3)")
    parser.add_argument("--samples", type=int, default=30, help="calls of show per history size (reports: a "
                        "third; default 30)")
    parser.add_argument("--raw-batch", type=int, default=None, help="events per insert_events call (one "
                        "transaction each) of the raw insert (default: the whole log on SQLite, "
                        f"{RAW_BATCH:,} on PostgreSQL, where a call also holds at most "
                        f"{RAW_BATCH_BYTES // 1_000_000} MB)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.samples < 1 or (args.raw_batch is not None and args.raw_batch < 1):
        parser.error("--repeat, --samples and --raw-batch must be at least 1")
    # Warnings such as the overlap of an external award go nowhere: stdout is the report's.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
