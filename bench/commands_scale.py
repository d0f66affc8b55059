"""Do `show`, `report shares` and `report enterprise` grow with the history? Each command
run as a whole process (`grants ...`, output read from a pipe) on two synthetic
provinces of ``bench.generate`` (the same seed, ``small`` and ``large`` enterprises), on
SQLite and on PostgreSQL, and the ratio of the large to the small (issue 11's target:
at most 1.25 at 1,000,000 events against 10,000).

    python -m bench.commands_scale --small 520 --large 10400          # about 10,000 and 200,000 events
    python -m bench.commands_scale --small 520 --large 10400 \\
        --pg postgresql://postgres@127.0.0.1:5432 --dir /tmp/scale --json

The provinces are imported once (``commands.imports.import_lines``, then a catch-up of
the views) into ``DIR/grants-scale-N-sS.db`` and, on PostgreSQL, into databases named
``grants_scale_N_sS``; an existing one with the same name is used again (``--dir``
and ``--reuse``), so a second run, or the same run on another commit, measures the same
rows. Each command is run once to warm the caches and bring the views up to date, then
``repeat`` times; the figure is the median wall time of the process.

``bench/run.py`` calls ``measure(...)`` (see its docstring) and gets the same dict as
``--json`` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

COMMANDS: dict[str, tuple[str, ...]] = {
    "show": ("show", "{ref}"),
    "report_shares": ("report", "shares"),
    "report_enterprise": ("report", "enterprise"),
}
TARGET = 1.25  # large / small, at 1,000,000 events against 10,000


def progress(message: str) -> None:
    print(f"[commands_scale] {message}", file=sys.stderr, flush=True)


def grants_argv() -> list[str]:
    """The `grants` console script of this interpreter's environment (its entry point, as installed)."""
    return [sys.executable, "-c", "import sys; from commands.entry import run; sys.exit(run())"]


def show_ref(enterprises: int, seed: int) -> str:
    """The application `show` reads at both sizes: the first one paid in the province (the same one
    at every size, since enterprise i says the same thing whatever N is)."""
    from bench.generate import generate

    lines = generate(min(enterprises, 50), seed)
    return next(str(line["ref"]) for line in lines if line["op"] == "pay")


def prepare(url: str, enterprises: int, seed: int) -> int:
    """Import the province of ``enterprises`` into the (empty) ledger at ``url`` and bring its views up
    to date; returns the number of events."""
    from bench.generate import dumps, generate
    from commands.imports import import_lines
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store
    from projections import runner

    store = parse_store(url)
    ledger = GrantsLedger(store)
    engine = runner.make_engine(store)
    try:
        runner.create_views(engine)
        if ledger.recorder.max_notification_id():
            raise SystemExit(f"{store.shown} already holds events; give --reuse to measure it as it is")
        lines = [dumps(line).encode("utf-8") for line in generate(enterprises, seed)]
        progress(f"importing {len(lines)} lines ({enterprises} enterprises) into {store.shown}")
        import_lines(ledger, lines, "bench")
        runner.catch_up(ledger, engine)
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()
        engine.dispose()


def events_in(url: str) -> int:
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store

    ledger = GrantsLedger(parse_store(url), create_tables=False)
    try:
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


def run_command(url: str, argv: Sequence[str]) -> tuple[float, int]:
    """Seconds the whole `grants` process took, and the bytes it printed (read from a pipe, dropped)."""
    env = {**os.environ, "GRANTS_DB": url, "NO_COLOR": "1"}
    started = time.perf_counter()
    done = subprocess.run([*grants_argv(), *argv], env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"grants {' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return seconds, len(done.stdout)


def time_commands(url: str, ref: str, repeat: int) -> dict[str, Any]:
    """Median (and min, max) wall time of each command, in ms, after one warm-up run each, and the bytes
    it printed (a report prints a row per enterprise, or per award paid by one payer only, so its
    output grows with the province whatever the queries cost). The commands take turns, so a moment
    of load on the shared machine is spread over all of them."""
    argvs = {name: [part.format(ref=ref) for part in argv] for name, argv in COMMANDS.items()}
    printed = {name: run_command(url, argv)[1] for name, argv in argvs.items()}
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(repeat):
        for name, argv in argvs.items():
            times[name].append(run_command(url, argv)[0] * 1000)
    return {name: {"median_ms": round(statistics.median(t), 1), "min_ms": round(min(t), 1),
                   "max_ms": round(max(t), 1), "output_bytes": printed[name]} for name, t in times.items()}


@contextmanager
def sqlite_ledgers(folder: str | None, sizes: Sequence[int], seed: int, reuse: bool) -> Iterator[dict[int, str]]:
    made = folder is None
    where = folder or tempfile.mkdtemp(prefix="grants-scale-")
    os.makedirs(where, exist_ok=True)
    urls = {}
    try:
        for size in sizes:
            path = os.path.join(where, f"grants-scale-{size}-s{seed}.db")
            if not (reuse and os.path.exists(path)):
                if os.path.exists(path):
                    raise SystemExit(f"{path} exists; give --reuse to measure it, or remove it")
                prepare(f"sqlite:///{path}", size, seed)
            urls[size] = f"sqlite:///{path}"
        yield urls
    finally:
        if made:
            for size in sizes:
                path = os.path.join(where, f"grants-scale-{size}-s{seed}.db")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
            os.rmdir(where)


@contextmanager
def postgres_ledgers(base: str, sizes: Sequence[int], seed: int, reuse: bool, keep: bool,
                     admin_db: str = "test") -> Iterator[dict[int, str]]:
    """One database per size on the server of ``base`` (postgresql://user@host:port), created and
    filled unless ``reuse`` finds it; dropped afterwards unless ``keep``."""
    import psycopg

    parts = urlsplit(base)
    admin = psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or "postgres"),
                            password=unquote(parts.password or ""), dbname=admin_db, autocommit=True,
                            connect_timeout=10)
    root = f"{parts.scheme}://{parts.netloc}"
    created: list[str] = []
    try:
        urls = {}
        for size in sizes:
            name = f"grants_scale_{size}_s{seed}"
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists and not reuse:
                raise SystemExit(f"database {name} exists; give --reuse to measure it, or drop it")
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
                prepare(f"{root}/{name}", size, seed)
            urls[size] = f"{root}/{name}"
        yield urls
    finally:
        if not keep:
            for name in created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _scale(urls: dict[int, str], small: int, large: int, ref: str, repeat: int) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for label, size in (("small", small), ("large", large)):
        url = urls[size]
        progress(f"timing {', '.join(COMMANDS)} on {size} enterprises ({url})")
        sizes[label] = {"enterprises": size, "events": events_in(url), "commands": time_commands(url, ref, repeat)}
        progress(f"{label}: {json.dumps(sizes[label])}")
    ratios = {name: round(sizes["large"]["commands"][name]["median_ms"] / sizes["small"]["commands"][name]["median_ms"], 3)
              for name in COMMANDS}
    output = {name: round(sizes["large"]["commands"][name]["output_bytes"]
                          / max(1, sizes["small"]["commands"][name]["output_bytes"]), 2) for name in COMMANDS}
    return {**sizes, "history_growth": round(sizes["large"]["events"] / max(1, sizes["small"]["events"]), 1),
            "ratios": ratios, "output_growth": output, "met": {name: ratio <= TARGET for name, ratio in ratios.items()}}


def measure(*, small: int = 520, large: int = 10_400, seed: int = 1, repeat: int = 5, sqlite: bool = True,
            pg: str | None = None, folder: str | None = None, reuse: bool = False, keep: bool = False) -> dict[str, Any]:
    """Time the three commands as whole processes on provinces of ``small`` and ``large`` enterprises
    (about 19 events each), on SQLite (files in ``folder``, a temporary folder by default) and, given
    ``pg`` (postgresql://user@host:port), on PostgreSQL; returns, per store, the median milliseconds
    at each size, the ratios large / small and whether each is within ``TARGET``."""
    ref = show_ref(small, seed)
    result: dict[str, Any] = {"seed": seed, "repeat": repeat, "show_ref": ref, "target": TARGET, "stores": {}}
    if sqlite:
        with sqlite_ledgers(folder, (small, large), seed, reuse) as urls:
            result["stores"]["sqlite"] = _scale(urls, small, large, ref, repeat)
    if pg:
        with postgres_ledgers(pg, (small, large), seed, reuse, keep) as urls:
            result["stores"]["postgresql"] = _scale(urls, small, large, ref, repeat)
    return result


def render(result: dict[str, Any]) -> str:
    lines = [f"whole processes, median of {result['repeat']} (ms); show {result['show_ref']}; "
             f"target large/small <= {result['target']}",
             "| store | command | small | large | ratio | output ratio | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for store, found in result["stores"].items():
        head = (f"{store} ({found['small']['events']:,} -> {found['large']['events']:,} events, "
                f"x{found['history_growth']})")
        for name in COMMANDS:
            lines.append(f"| {head} | {name} | {found['small']['commands'][name]['median_ms']} | "
                         f"{found['large']['commands'][name]['median_ms']} | {found['ratios'][name]} | "
                         f"{found['output_growth'][name]} | {'yes' if found['met'][name] else 'no'} |")
            head = ""
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commands_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=520, help="enterprises of the small province (default 520, "
                                                               "about 10,000 events)")
    parser.add_argument("--large", type=int, default=10_400, help="enterprises of the large province (default "
                                                                  "10,400, about 200,000 events)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command per size (default 5)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--pg", metavar="URL", help="postgresql://user@host:port: also measure on PostgreSQL")
    parser.add_argument("--dir", help="keep the SQLite ledgers in this folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="measure the ledgers already there")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases created")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    if not 0 < args.small < args.large:
        raise SystemExit("--small must be more than 0 and less than --large")
    result = measure(small=args.small, large=args.large, seed=args.seed, repeat=args.repeat,
                     sqlite=not args.no_sqlite, pg=args.pg, folder=args.dir, reuse=args.reuse, keep=args.keep)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
