"""One `grants` command in a process of its own, for the benchmark: the command's own time
(after the interpreter, the command modules and the modules they load as they run have
loaded: ``PRELOADED``) and the process's own peak
memory go to a JSON file, so that ``bench/run.py`` gets three figures per command: that
time, the whole process's wall time, and the peak memory.

    python -m bench.child TIMING.json grants-arguments...
"""

from __future__ import annotations

import importlib
import json
import sys
import time

# The libraries and modules the measured commands load as they run: loaded before the clock, as all of
# them were when the command modules imported them at their top, so a command's time is its own work
# (as the raw store's is, whose modules are loaded too). A whole process's wall time includes them.
PRELOADED = ("sqlalchemy", "eventsourcing.persistence", "psycopg", "structlog", "ledger.service.application", "ledger.service.importing",
             "ledger.intake.commands", "projections.runner", "projections.reports", "projections.audit_log",
             "projections.audit_checks")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m bench.child TIMING.json ARGS...", file=sys.stderr)
        return 2
    timing_file, args = argv[0], argv[1:]
    from commands import main as grants  # loaded before the clock starts, as the console script does

    for module in PRELOADED:  # what the commands load when they run (lazily, so that start-up is fast)
        importlib.import_module(module)

    sys.argv = ["grants", *args]
    started = time.perf_counter()
    code: int
    try:
        grants.run()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    seconds = time.perf_counter() - started
    sys.stdout.flush()
    with open(timing_file, "w", encoding="utf-8") as out:
        json.dump({"seconds": seconds, "exit": code, "peak_rss_mb": peak_rss_mb()}, out)
    return code


def peak_rss_mb() -> float | None:
    """This process's own peak resident memory: VmHWM, the high-water mark of the memory it
    has had since it started this program. (``ru_maxrss`` is not: Linux carries into it the
    peak of the memory the process had before ``exec``, which for a child started with
    ``vfork``, as Python's subprocess does, is the parent's.) None where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
