"""The ledger's benchmark: each figure of issue 11 as a ratio against the raw store on the
very rows the ledger stored, measured in the same run on the same database.

    python -m bench.run                                  # CI size (about 20,000 events), temporary SQLite file
    python -m bench.run --events full --markdown         # about 1,000,000 events, the table for docs/benchmark.md
    python -m bench.run --db postgresql://postgres@127.0.0.1:5432/grants_bench --pg-scratch

One run, one database, the province of ``bench.generate`` imported in parts that end at
the sizes the figures compare (``stages``: at 1,000,000 events the parts end at about
10,000, 100,000 and 1,000,000 events; at 20,000, at 2,000 and 20,000):

1. ``grants init`` (only it creates a ledger), then each part with ``grants import FILE``
   in a process of its own (``bench/child.py``): the command's time, the process's time
   and its peak memory;
2. ``grants show``, ``grants report shares`` and ``grants report enterprise`` as whole
   processes, at the part that ends at about 10,000 events (a tenth of the size below
   100,000) and at the end; a ``grants projections rebuild`` process at a tenth of the
   size, for its peak memory;
3. at the end: the raw paged read (``recorder.select_notifications`` in pages of 1,000),
   ``grants projections rebuild``, ``grants audit verify`` and ``grants audit verify
   --chain-only`` processes (best of ``--repeat``), and the raw insert of the log's own
   payloads under fresh ids by ``recorder.insert_events``: ONE call (one transaction) on
   SQLite, calls of at most 5,000 events and 3 MB on PostgreSQL, where larger calls hang
   (see ``raw_insert``).

What each figure means, and the recorded figures the CI gate (``bench/gate.py``)
compares with: docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import structlog
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, create_engine, text

from ledger.service.application import GrantsLedger
from ledger.store import append_only, chain
from ledger.store.storage import POSTGRES, SQLITE, Store, parse_store

ROOT = Path(__file__).resolve().parent.parent
PAGE = 1000
RAW_BATCH = 5000  # events per insert_events call of the raw insert on PostgreSQL (see raw_insert)
RAW_BATCH_BYTES = 3_000_000
SIZES = {"ci": 20_000, "full": 1_000_000}
COMMANDS_BASE = 10_000  # the commands are compared at the end and at this many events (or a tenth of the size)
IMPORT_EXITS = (0, 1)  # 1: lines refused, which the workload does on purpose (about 5%)
VERIFY_EXITS = (0, 7)  # 7: the whole-ledger checks have findings (reported, not a failure of the run)

# Issue 11's targets: (">=", x) for a throughput against the raw store, ("<=", x) for a growth.
TARGETS: dict[str, tuple[str, float]] = {
    "import_vs_raw_insert": (">=", 0.10),
    "rebuild_vs_raw_read": (">=", 0.10),
    "verify_vs_raw_read": (">=", 0.40),
    "verify_chain_vs_raw_read": (">=", 0.40),
    "show_growth": ("<=", 1.25),
    "report_shares_growth": ("<=", 1.25),
    "report_enterprise_growth": ("<=", 1.25),
    "import_memory_growth": ("<=", 1.2),
    "rebuild_memory_growth": ("<=", 1.2),
}
COMMANDS = {  # name -> the arguments after `grants --db URL` (REF: the application shown)
    "show": ["show", "REF", "--json"],
    "report_shares": ["report", "shares", "--json"],
    "report_enterprise": ["report", "enterprise", "--json"],
}


def progress(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def met(ratio: float, target: tuple[str, float]) -> bool:
    sense, value = target
    return ratio >= value if sense == ">=" else ratio <= value


# --- sizes -------------------------------------------------------------------------------

def parse_size(value: str) -> int:
    """``ci``, ``full`` or a number of events (``1000000``, ``1_000_000`` or ``1,000,000``)."""
    if value in SIZES:
        return SIZES[value]
    try:
        events = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of events or one of {', '.join(SIZES)}") from None
    if events < 1000:
        raise argparse.ArgumentTypeError("the benchmark needs at least 1,000 events")
    return events


def enterprises_for(events: int) -> int:
    """How many of ``bench.generate``'s enterprises make about ``events`` events (measured, seed 1:
    1,000 enterprises give 19,246 events, 3,000 give 53,368, 50,000 give 893,450)."""
    per_enterprise = 19.2 if events <= 30_000 else 17.9
    return max(10, round(events / per_enterprise))


@dataclass(frozen=True)
class Stage:
    """A part of the province: its import ends the ledger at about ``events`` events."""
    events: int
    enterprises: int
    commands: bool  # the commands are timed here (and at the end)
    memory: bool  # a rebuild process runs here for its peak memory (the end's is compared with it)


def stages(events: int) -> list[Stage]:
    """The parts to import: one ending at the commands' base (10,000 events, or a tenth of a
    smaller size), one at a tenth of the size (the memory base), one at the size."""
    commands_base = min(COMMANDS_BASE, events // 10)
    memory_base = events // 10
    ends = sorted({commands_base, memory_base, events})
    return [Stage(end, enterprises_for(end), end in (commands_base, events), end in (memory_base, events))
            for end in ends]


# --- the database ------------------------------------------------------------------------

@contextmanager
def database(url: str | None, pg_scratch: bool, pg_admin_db: str, keep: bool, folder: str) -> Iterator[str]:
    """The URL of the ledger to measure: a new SQLite file in ``folder``, or the URL given (a
    PostgreSQL scratch database is created first and dropped afterwards with ``pg_scratch``)."""
    if url is None:
        yield f"sqlite:///{os.path.join(folder, 'bench.db')}"
        return
    store = parse_store(url)
    if not pg_scratch or store.kind != POSTGRES:
        if store.kind == SQLITE and store.sqlite_path and os.path.exists(store.sqlite_path) \
                and os.path.getsize(store.sqlite_path) > 0:
            raise SystemExit(f"{store.shown} exists; the benchmark needs a new SQLite file (or no --db)")
        yield url
        return
    import psycopg

    parts = urlsplit(url)
    name = store.event_store_env["POSTGRES_DBNAME"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise SystemExit(f"{name!r}: name the scratch database with letters, digits and _ only")
    admin = psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or "postgres"),
                            password=unquote(parts.password or ""), dbname=pg_admin_db, autocommit=True,
                            connect_timeout=10)
    try:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            raise SystemExit(f"database {name!r} already exists; --pg-scratch creates (and drops) a new one: "
                             "give another name")
        admin.execute(f'CREATE DATABASE "{name}"')
        progress(f"created scratch database {name}")
        try:
            yield url
        finally:
            if keep:
                progress(f"kept scratch database {name}")
            else:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                progress(f"dropped scratch database {name}")
    finally:
        admin.close()


def server_version(store: Store) -> str:
    if store.kind == SQLITE:
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(store.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


def events_table(ledger: GrantsLedger) -> str:
    recorder: Any = ledger.recorder
    schema = getattr(getattr(recorder, "datastore", None), "schema", None)
    return f'"{schema}"."{recorder.events_table_name}"' if schema else recorder.events_table_name


def log_end(store: Store) -> int:
    ledger = GrantsLedger(store, create_tables=False)
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


# --- processes ---------------------------------------------------------------------------

def grants_command() -> list[str]:
    """The console script next to this interpreter (what a user runs), else the same entry point."""
    script = Path(sys.executable).parent / "grants"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from commands.entry import run; run()"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTS_")}  # only the flags choose
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, not at every command's start
    return env


@dataclass(frozen=True)
class Process:
    exit: int
    seconds: float  # the whole process, wall clock
    peak_rss_mb: float  # ru_maxrss of os.wait4: the child's, but never less than this process's peak (see child.py)
    stdout: str
    stderr: str


def run_process(argv: list[str], folder: str, timeout: float | None = None) -> Process:
    """Run ``argv`` (cwd ``folder``, so no grants.toml of the caller's is read) and wait for it
    with ``os.wait4``: its rusage is its own, not the sum over every child so far (though Linux
    floors its ru_maxrss at this process's peak: ``bench/child.py`` reports the child's own)."""
    out_path, err_path = os.path.join(folder, "stdout.txt"), os.path.join(folder, "stderr.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=folder, env=child_env())
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return Process(child.returncode, seconds, round(peak, 1), Path(out_path).read_text("utf-8", "replace"),
                   Path(err_path).read_text("utf-8", "replace"))


@dataclass(frozen=True)
class Command:
    """A `grants` command run by ``bench/child.py``: its own time, its peak memory (the child's
    VmHWM; where there is none, ``os.wait4``'s, which is at least this process's), its process."""
    seconds: float
    peak_rss_mb: float
    process: Process

    def output(self) -> Any:
        return json.loads(self.process.stdout) if self.process.stdout.strip() else None


def grants(url: str, args: list[str], folder: str, exits: tuple[int, ...] = (0,)) -> Command:
    timing = os.path.join(folder, "timing.json")
    if os.path.exists(timing):
        os.remove(timing)
    proc = run_process([sys.executable, "-m", "bench.child", timing, "--db", url, *args], folder)
    if proc.exit not in exits or not os.path.exists(timing):
        tail = "\n".join(proc.stderr.splitlines()[-20:] + proc.stdout.splitlines()[-5:])
        raise RuntimeError(f"grants {' '.join(args)} exited {proc.exit} (expected {exits}):\n{tail}")
    with open(timing, encoding="utf-8") as f:
        reported = json.load(f)
    return Command(reported["seconds"], reported.get("peak_rss_mb") or proc.peak_rss_mb, proc)


def best(runs: list[Command]) -> Command:
    return min(runs, key=lambda c: c.seconds)


# --- the workload ------------------------------------------------------------------------

def generate_part(folder: str, seed: int, first: int, enterprises: int) -> tuple[str, int, str | None]:
    """Enterprises ``first`` to ``enterprises - 1`` as a JSON Lines file (by ``bench.generate`` in a
    process of its own, so this one stays small); its path, its lines and its first paid application."""
    path = os.path.join(folder, f"province-{first}-{enterprises}.jsonl")
    with open(path, "wb") as out:
        done = subprocess.run([sys.executable, "-m", "bench.generate", "--enterprises", str(enterprises),
                               "--first", str(first), "--seed", str(seed)], stdout=out, cwd=ROOT, env=child_env(),
                              check=False)
    if done.returncode:
        raise RuntimeError(f"bench.generate exited {done.returncode}")
    lines, paid = 0, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            if paid is None and '"op": "pay"' in line:
                paid = json.loads(line)["ref"]
    return path, lines, paid


# --- the raw store ------------------------------------------------------------------------

def read_log(ledger: GrantsLedger) -> int:
    """The whole log in pages of 1,000, as the rebuild and the catch-up read it."""
    recorder = ledger.recorder
    count, start = 0, 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE)
        if not page:
            return count
        count += len(page)
        start = page[-1].id + 1


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (the least disturbed by the rest of the machine)."""
    runs = [timed(fn) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


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
        (only the insert_events calls are timed) and one call at a time."""
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

    fastest: float | None = None
    transactions = count = 0
    for _ in range(repeat):
        seconds, transactions, count = 0.0, 0, 0
        for events in calls():
            took, _ = timed(lambda: ledger.recorder.insert_events(events))  # noqa: B023 - called at once
            seconds += took
            transactions += 1
            count += len(events)
        fastest = seconds if fastest is None else min(fastest, seconds)
        with engine.begin() as conn:  # a scratch ledger: lift the append-only guards to take them out again
            for statement in append_only.drop_statements(ledger.store.kind, ledger.recorder.events_table_name):
                conn.exec_driver_sql(statement)
            conn.execute(text(f"DELETE FROM {table} WHERE {id_column} > :last"), {"last": last})
            conn.execute(text(f"DELETE FROM {chain.CHAIN_TABLE} WHERE position > :last"), {"last": last})
        ledger.recorder.create_table()  # the guards back
    if (ledger.recorder.max_notification_id() or 0) != last:
        raise RuntimeError("the raw events were not removed from the log")
    assert fastest is not None
    return {"events": count, "transactions": transactions, "seconds": round(fastest, 4),
            "events_per_s": rate(count, fastest)}


# --- the commands at two sizes -------------------------------------------------------------

def time_commands(url: str, ref: str, samples: int, folder: str) -> dict[str, Any]:
    """``grants show REF``, ``report shares`` and ``report enterprise`` as whole processes: per
    command the median, min and max wall time in ms of ``samples`` runs, after one run each that
    warms the caches. The commands take turns, so a moment of load is spread over all three.

    When ``bench/commands_scale.py`` (the reports' own whole-process timer) is there, its
    ``time_commands(url, ref, repeat)`` does this; else the timer here."""
    try:
        from bench import commands_scale  # type: ignore[attr-defined]
    except ImportError:
        commands_scale = None
    if commands_scale is not None and hasattr(commands_scale, "time_commands"):
        figures: dict[str, Any] = commands_scale.time_commands(url, ref, samples)
        return {name: {**figures[name], "samples": samples} for name in COMMANDS}
    argvs = {name: grants_command() + ["--db", url] + [ref if a == "REF" else a for a in args]
             for name, args in COMMANDS.items()}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for n in range(samples + 1):
        for name, argv in argvs.items():
            proc = run_process(argv, folder)
            if proc.exit != 0:
                raise RuntimeError(f"{' '.join(argv)} exited {proc.exit}:\n{proc.stderr[-2000:]}")
            if n:  # the first round warms the caches
                times[name].append(proc.seconds * 1000)
    return {name: {"median_ms": round(statistics.median(t), 1), "min_ms": round(min(t), 1),
                   "max_ms": round(max(t), 1), "samples": samples} for name, t in times.items()}


# --- one run -------------------------------------------------------------------------------

def run(url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark on one database; the figures as a dict (see ``render``)."""
    plan = stages(args.events)
    folder = tempfile.mkdtemp(prefix="grants-bench-")
    try:
        with database(url, args.pg_scratch, args.pg_admin_db, args.keep, folder) as db:
            return _run(db, plan, args, folder)
    finally:
        if args.keep:
            progress(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _run(url: str, plan: list[Stage], args: argparse.Namespace, folder: str) -> dict[str, Any]:
    store = parse_store(url)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "db": store.shown, "server": server_version(store),
        "machine": machine(), "load_average_at_start": load_average(), "events_requested": args.events,
        "seed": args.seed, "repeat": args.repeat, "samples": args.samples, "targets": TARGETS,
    }
    progress(f"{store.shown}: grants init")
    grants(url, ["init", "--json"], folder)  # only `grants init` creates a ledger
    if log_end(store):
        raise SystemExit(f"{store.shown} already holds events; the benchmark needs an empty ledger")

    parts: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    rebuild_base: dict[str, Any] | None = None
    first, show_ref = 0, None
    for stage in plan:
        progress(f"generating enterprises {first:,} to {stage.enterprises - 1:,} (seed {args.seed})")
        path, lines, paid = generate_part(folder, args.seed, first, stage.enterprises)
        show_ref = show_ref or paid
        before = log_end(store)
        progress(f"grants import: {lines:,} lines, to about {stage.events:,} events")
        imported = grants(url, ["import", path, "--json"], folder, IMPORT_EXITS)
        os.remove(path)
        after = log_end(store)
        outcome = imported.output() or {}
        parts.append({"enterprises": [first, stage.enterprises], "lines": lines, "events": after - before,
                      "events_after": after, "seconds": round(imported.seconds, 3),
                      "process_seconds": round(imported.process.seconds, 3),
                      "peak_rss_mb": imported.peak_rss_mb, "accepted": outcome.get("accepted"),
                      "refused": len(outcome.get("refused", []))})
        progress(f"  {after - before:,} events in {imported.seconds:.1f} s, peak {imported.peak_rss_mb:.0f} MB")
        if stage.commands and args.samples:
            if show_ref is None:
                raise RuntimeError("the first part has no payment to show")
            progress(f"timing show {show_ref}, report shares, report enterprise at {after:,} events")
            commands.append({"events": after, **time_commands(url, show_ref, args.samples, folder)})
        if stage.memory and stage is not plan[-1]:
            progress(f"grants projections rebuild at {after:,} events (its peak memory)")
            rebuilt = grants(url, ["projections", "rebuild", "--json"], folder)
            rebuild_base = {"events": after, "seconds": round(rebuilt.seconds, 3),
                            "peak_rss_mb": rebuilt.peak_rss_mb}
        first = stage.enterprises
    total = log_end(store)

    ledger = GrantsLedger(store, create_tables=False)
    engine = create_engine(store.sqlalchemy_url)
    try:
        progress(f"raw paged read of {total:,} events (best of {args.repeat})")
        read_s, read_n = best_of(args.repeat, lambda: read_log(ledger))
        progress(f"grants projections rebuild (best of {args.repeat})")
        rebuilds = [grants(url, ["projections", "rebuild", "--json"], folder) for _ in range(args.repeat)]
        progress(f"grants audit verify (best of {args.repeat})")
        verifies = [grants(url, ["audit", "verify", "--json"], folder, VERIFY_EXITS) for _ in range(args.repeat)]
        progress(f"grants audit verify --chain-only (best of {args.repeat})")
        chains = [grants(url, ["audit", "verify", "--chain-only", "--json"], folder) for _ in range(args.repeat)]
        progress(f"raw insert of {total:,} events (best of {args.repeat})")
        raw = raw_insert(ledger, engine, args.seed, args.repeat, args.raw_batch)
    finally:
        ledger.close()
        engine.dispose()

    read = {"events": read_n, "seconds": round(read_s, 4), "events_per_s": rate(read_n, read_s)}
    import_s = sum(p["seconds"] for p in parts)
    imp = {"events": sum(p["events"] for p in parts), "lines": sum(p["lines"] for p in parts),
           "seconds": round(import_s, 3), "process_seconds": round(sum(p["process_seconds"] for p in parts), 3),
           "refused": sum(p["refused"] for p in parts), "parts": parts}
    imp["events_per_s"] = rate(imp["events"], import_s)

    def command_figures(runs: list[Command], events: int) -> dict[str, Any]:
        fastest = best(runs)
        return {"events": events, "seconds": round(fastest.seconds, 4),
                "process_seconds": round(fastest.process.seconds, 4), "events_per_s": rate(events, fastest.seconds),
                "peak_rss_mb": max(r.peak_rss_mb for r in runs)}

    rebuild = command_figures(rebuilds, (best(rebuilds).output() or {}).get("events", total))
    verify = command_figures(verifies, total)
    verify["findings"] = len((best(verifies).output() or {}).get("findings") or [])
    verify_chain = command_figures(chains, (best(chains).output() or {}).get("events", total))
    ratios = {
        "import_vs_raw_insert": round(imp["events_per_s"] / raw["events_per_s"], 4),
        "rebuild_vs_raw_read": round(rebuild["events_per_s"] / read["events_per_s"], 4),
        "verify_vs_raw_read": round(verify["events_per_s"] / read["events_per_s"], 4),
        "verify_chain_vs_raw_read": round(verify_chain["events_per_s"] / read["events_per_s"], 4),
        "import_memory_growth": round(parts[-1]["peak_rss_mb"] / parts[-2]["peak_rss_mb"], 3),
    }
    small, large = (commands[0], commands[-1]) if commands else (None, None)
    if small is not None and large is not None:
        ratios.update({f"{name}_growth": round(large[name]["median_ms"] / small[name]["median_ms"], 3)
                       for name in COMMANDS})
    if rebuild_base is not None:
        ratios["rebuild_memory_growth"] = round(rebuild["peak_rss_mb"] / rebuild_base["peak_rss_mb"], 3)
    result.update({
        "events": total, "show_ref": show_ref, "raw_insert": raw, "raw_paged_read": read, "import": imp,
        "rebuild": rebuild, "rebuild_at_base": rebuild_base, "audit_verify": verify,
        "audit_verify_chain": verify_chain, "commands": {"small": small, "large": large}, "ratios": ratios,
        "load_average_at_end": load_average(),
    })
    return result


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

    memory = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = round(int(f.readline().split()[1]) / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "memory_gb": memory,
            "python": platform.python_version(), "eventsourcing": version("eventsourcing"),
            "sqlalchemy": version("sqlalchemy"), "psycopg": version("psycopg"), "commit": commit()}


def commit() -> str:
    """The ledger's commit (read only; '+changes' when its code in the working tree differs from it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "ledger", "commands",
                                "projections"], cwd=ROOT, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


# --- the report ----------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:,.0f}"


def _target(key: str) -> str:
    sense, value = TARGETS[key]
    return f"{'≥' if sense == '>=' else '≤'} {value:.2f}"


def _met(r: dict[str, Any], key: str) -> str:
    ratio = r["ratios"].get(key)
    if ratio is None:
        return "not measured"
    return "met" if met(ratio, TARGETS[key]) else "**not met**"


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """The table's rows for one run: command, machine, absolute figures, ratio, target, met."""
    where = f"{r['server']}, {r['machine']['cpus']} CPUs"
    ratios, raw, read = r["ratios"], r["raw_insert"], r["raw_paged_read"]
    imp, small, large = r["import"], r["commands"]["small"], r["commands"]["large"]
    raw_text = f"raw insert {_n(raw['events_per_s'])} events/s ({raw['transactions']:,} transaction" \
               f"{'s' if raw['transactions'] > 1 else ''})"
    read_text = f"raw paged read {_n(read['events_per_s'])} events/s"
    out = [
        (f"`grants import` ({len(imp['parts'])} files)", where,
         f"{_n(imp['events'])} events in {imp['seconds']:,.1f} s: {_n(imp['events_per_s'])} events/s; {raw_text}",
         f"{ratios['import_vs_raw_insert']:.3f}", _target("import_vs_raw_insert"), _met(r, "import_vs_raw_insert")),
    ]
    for key, label, fig in (("rebuild_vs_raw_read", "`grants projections rebuild`", r["rebuild"]),
                            ("verify_vs_raw_read", "`grants audit verify`", r["audit_verify"]),
                            ("verify_chain_vs_raw_read", "`grants audit verify --chain-only`",
                             r["audit_verify_chain"])):
        out.append((label, where, f"{_n(fig['events'])} events in {fig['seconds']:,.2f} s: "
                    f"{_n(fig['events_per_s'])} events/s; {read_text}",
                    f"{ratios[key]:.3f}", _target(key), _met(r, key)))
    for name in COMMANDS if small is not None else ():
        label = f"`grants {' '.join(a for a in COMMANDS[name] if a != '--json').replace('REF', r['show_ref'])}`"
        out.append((label, where, f"{small[name]['median_ms'] / 1000:.2f} s at {_n(small['events'])} events, "
                    f"{large[name]['median_ms'] / 1000:.2f} s at {_n(large['events'])} (whole process, median of "
                    f"{large[name]['samples']})", f"{ratios[f'{name}_growth']:.2f}", _target(f"{name}_growth"),
                    _met(r, f"{name}_growth")))
    before, last = imp["parts"][-2], imp["parts"][-1]
    out.append(("peak memory of `grants import`", where,
                f"{before['peak_rss_mb']:.0f} MB for {_n(before['events'])} events (to {_n(before['events_after'])}), "
                f"{last['peak_rss_mb']:.0f} MB for {_n(last['events'])} (to {_n(last['events_after'])})",
                f"{ratios['import_memory_growth']:.2f}", _target("import_memory_growth"),
                _met(r, "import_memory_growth")))
    base = r["rebuild_at_base"]
    if base is not None:
        out.append(("peak memory of `grants projections rebuild`", where,
                    f"{base['peak_rss_mb']:.0f} MB at {_n(base['events'])} events, {r['rebuild']['peak_rss_mb']:.0f} "
                    f"MB at {_n(r['rebuild']['events'])}", f"{ratios['rebuild_memory_growth']:.2f}",
                    _target("rebuild_memory_growth"), _met(r, "rebuild_memory_growth")))
    return out


def header(r: dict[str, Any]) -> str:
    m = r["machine"]
    load = r["load_average_at_start"], r["load_average_at_end"]
    return (f"{r['when']}, {r['db']}: {r['events']:,} events (asked for {r['events_requested']:,}; "
            f"{r['import']['lines']:,} lines, {r['import']['refused']:,} refused on purpose), seed {r['seed']}, "
            f"best of {r['repeat']}; {m['platform']}, {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, "
            f"eventsourcing {m['eventsourcing']}, SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}, "
            f"{r['server']}; ledger at commit {m['commit']}; load average "
            f"{load[0][0] if load[0] else '?'} at the start, {load[1][0] if load[1] else '?'} at the end")


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [f"- {header(r)}" for r in results] + [
        "",
        "| command | machine | absolute | ratio | target | met |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for r in results:
        lines += ["| " + " | ".join(row) + " |" for row in rows(r)]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=parse_size, default=SIZES["ci"],
                        help="about how many events: a number, or ci (20,000, the default) or full (1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the raw figures, the rebuild and verify; the "
                        "fastest counts (default 3)")
    parser.add_argument("--samples", type=int, default=5, help="whole-process runs of each command at each size; "
                        "the median counts (default 5; 0: the commands are not timed)")
    parser.add_argument("--raw-batch", type=int, default=None, help="events per insert_events call (one "
                        "transaction each) of the raw insert (default: the whole log on SQLite, "
                        f"{RAW_BATCH:,} on PostgreSQL, where a call also holds at most "
                        f"{RAW_BATCH_BYTES // 1_000_000} MB)")
    parser.add_argument("--pg-scratch", action="store_true", help="create each PostgreSQL database named by --db "
                        "first and drop it at the end (SQLite files are left alone)")
    parser.add_argument("--pg-admin-db", default="test", help="database to connect to for CREATE/DROP DATABASE "
                        "(default: test)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the work folder afterwards")


def configure_logging() -> None:
    # Warnings such as the overlap of an external award go nowhere: stdout is the report's.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", metavar="URL", action="append", help="database URL, once per store to measure "
                        "(default: a temporary SQLite file); it must hold no ledger yet, or be created with "
                        "--pg-scratch")
    add_arguments(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the figures as JSON")
    output.add_argument("--markdown", action="store_true", help="print the table for docs/benchmark.md (the default)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.samples < 0 or (args.raw_batch is not None and args.raw_batch < 1):
        parser.error("--repeat and --raw-batch must be at least 1, --samples at least 0")
    if args.pg_scratch and not any(parse_store(url).kind == POSTGRES for url in args.db or []):
        parser.error("--pg-scratch needs --db postgresql://user@host:5432/NAME")
    configure_logging()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still drop the scratch database, the files
    results = [run(url, args) for url in (args.db or [None])]
    print(json.dumps(results, ensure_ascii=False, indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
