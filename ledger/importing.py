"""Importing a file of commands exactly once.

The file is known by the SHA-256 of its bytes: its ``ImportRun`` aggregate holds the
outcome of every line decided so far. Lines are applied in chunks inside
``GrantsLedger.batch()``; each chunk's events and the ``LinesDecided`` event with its
lines' outcomes are written in one transaction, so a line's outcome is recorded if
and only if its events are. Running the file again reports the recorded outcomes
and applies only the lines after them.

A chunk is discarded and run again, on fresh state, when its write meets a concurrent
writer, when a stream it read (even only to refuse a line) moved before the write
(``StaleRead``), or when a line failed unexpectedly on state that has since moved.
After such a conflict the next chunk is half as long (down to one line), and grows
back after each chunk that commits. Two processes importing the same file collide on
the ``ImportRun`` stream: the loser reloads it, skips the lines the winner recorded,
and both go on with the lines left, so each line is decided once and both print the
outcome of every line.

A chunk is bounded by lines, by input bytes and by the bytes of the events it writes: a
write over ``CHUNK_EVENT_BYTES`` is refused before anything is written (``TooLarge``) and
the same lines run again in smaller chunks. Before a chunk's lines run, ``prepare`` may read
ahead what they need (``commands/imports.py`` parses them and calls
``GrantsLedger.prefetch``); what was read ahead or kept from earlier chunks is checked by
version at the chunk's write like any other read.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

import structlog
from eventsourcing.persistence import OperationalError, RecordConflictError

from ledger import i18n
from ledger.domain import ImportRun, import_run_id
from ledger.recorders import StaleRead, TooLarge
from ledger.service import Busy, GrantsLedger

log = structlog.get_logger("grants")

CHUNK = 500  # lines per transaction at most
CHUNK_BYTES = 256 * 1024  # input bytes per transaction at most (the events are a few times that; see docs)
# Bytes of events per transaction at most: a chunk whose events hold more is split (a line's
# events are always written whole). Well below the ~6 MB at which a pipelined PostgreSQL insert
# used to hang (docs/benchmark.md), and it bounds what one transaction holds in memory.
CHUNK_EVENT_BYTES = 4 * 1024 * 1024
MAX_FAILURES = 30  # chunks in a row that fail for a reason other than another import of the same file

ApplyLine = Callable[[GrantsLedger, int, bytes, str], dict[str, Any]]
Prepare = Callable[[GrantsLedger, list[tuple[int, bytes]]], None]  # a chunk's lines, before they are applied


class Interrupted(Exception):
    """The import was asked to stop (Ctrl-C); it stopped between two chunks, all recorded so far kept."""

    def __init__(self, recorded: int, resume_at: int | None) -> None:
        super().__init__(f"{recorded} lines recorded")
        self.recorded = recorded
        self.resume_at = resume_at


class ImportStopped(Exception):
    """A line failed in a way that is not a refusal (a bug): the import stops there."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def command_lines(lines: list[bytes]) -> list[tuple[int, bytes]]:
    """The lines that hold a command, with their line numbers (blank lines and # comments skipped)."""
    return [(n, raw) for n, raw in enumerate(lines, 1) if raw.strip() and not raw.lstrip().startswith(b"#")]


def _stored(number: int, outcome: dict[str, Any]) -> dict[str, Any]:
    if "refused" in outcome:
        refusal = {k: v for k, v in outcome["refused"].items() if k != "line"}
        return {"line": number, "refused": refusal}
    if "warning" in outcome:
        return {"line": number, "warning": outcome["warning"]["message"]}
    return {"line": number}


def _take(numbered: list[tuple[int, bytes]], pos: int, size: int, max_bytes: int) -> list[tuple[int, bytes]]:
    part: list[tuple[int, bytes]] = []
    used = 0
    for n, raw in numbered[pos:pos + size]:
        if part and used + len(raw) > max_bytes:
            break
        part.append((n, raw))
        used += len(raw)
    return part


def import_file(ledger: GrantsLedger, lines: list[bytes], *, digest: str, name: str, operator: str,
                apply_line: ApplyLine, prepare: Prepare | None = None, chunk: int = CHUNK,
                chunk_bytes: int = CHUNK_BYTES, event_bytes: int = CHUNK_EVENT_BYTES,
                stop: Callable[[], bool] | None = None,
                progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Apply each command line of a file once, in order; return every line's outcome.

    ``accepted``, ``refused`` and ``warnings`` describe all the lines of the file,
    whichever run decided them; ``already`` counts those an earlier run (or another
    process importing the same file at the same time) decided. When ``stop()`` says so
    between two chunks, the import ends there with ``Interrupted`` (a later run resumes).
    ``progress(done)``, after each committed chunk, gets how many of the file's command
    lines (``command_lines``) are decided so far, by this run or an earlier one.
    ``prepare(ledger, lines)``, inside each chunk's batch before its lines are applied, may
    read ahead what they need (``GrantsLedger.prefetch``).
    """
    previous, ledger.operator = ledger.operator, operator  # who ran it: checked and stamped on every event
    try:
        return _import(ledger, lines, digest=digest, name=name, operator=operator, apply_line=apply_line,
                       prepare=prepare, chunk=chunk, chunk_bytes=chunk_bytes, event_bytes=event_bytes, stop=stop,
                       progress=progress)
    finally:
        ledger.operator = previous


def _import(ledger: GrantsLedger, lines: list[bytes], *, digest: str, name: str, operator: str,
            apply_line: ApplyLine, prepare: Prepare | None, chunk: int, chunk_bytes: int, event_bytes: int,
            stop: Callable[[], bool] | None,
            progress: Callable[[int], None] | None) -> dict[str, Any]:
    numbered = command_lines(lines)
    run_id = import_run_id(digest)
    mine: set[int] = set()
    pos, size, failures, stop_before = 0, chunk, 0, None
    log_end: int | None = None  # the log's end at the last failure: while others commit, the ledger is not stuck
    while True:
        if stop is not None and stop() and pos < len(numbered):
            run_now = ledger.import_run(digest)
            done = len(run_now.outcomes) if run_now is not None else 0
            raise Interrupted(done, numbered[pos][0])
        part: list[tuple[int, bytes]] = []
        seen = 0
        current: int | None = None
        try:
            with ledger.batch(max_bytes=event_bytes):
                run = ledger.import_run(digest)
                seen = run.version if run is not None else 0
                decided = run.outcomes if run is not None else {}
                while pos < len(numbered) and numbered[pos][0] in decided:
                    pos += 1
                part = _take(numbered, pos, size if stop_before is None else stop_before, chunk_bytes)
                if part:
                    if prepare is not None:
                        prepare(ledger, part)
                    outcomes = []
                    for current, raw in part:
                        outcomes.append(_stored(current, apply_line(ledger, current, raw, operator)))
                    if run is None:
                        run = ImportRun(digest=digest, file=name, lines=len(numbered), by=operator)
                    run.decide(outcomes=outcomes, by=operator)
                    ledger.save(run)
        except ImportStopped as stop:
            # A failure on the current state (the batch turns one on moved state into
            # StaleRead): record the lines before it, then stop at it.
            if current is not None and current != part[0][0]:
                stop_before = next(i for i, (n, _) in enumerate(part) if n == current)
                continue
            raise ImportStopped(i18n._("{problem}. The lines before line {line} are recorded; nothing from line {line} on "
                                  "is. Import the rest from line {line} on, in a new file.").format(
                problem=stop, line=current)) from stop
        except TooLarge as exc:
            if len(part) == 1:  # cannot happen with lines of at most 64 KiB; stop rather than loop
                raise ImportStopped(i18n._("line {line}: {problem}").format(line=part[0][0], problem=exc)) from exc
            half = max(1, len(part) // 2)  # nothing was written: the same lines again, in smaller chunks
            size = min(size, half)
            stop_before = None if stop_before is None else min(stop_before, half)
            log.debug("import chunk too large, splitting it", error=str(exc), next_chunk=half)
            continue
        except (RecordConflictError, OperationalError) as exc:
            if _moved(ledger, exc, run_id, seen):
                failures = 0  # another process recorded lines of this file: skip them and go on
            else:
                now = _log_end(ledger)
                if now != log_end:  # another writer committed meanwhile: wait our turn, this is no deadlock
                    failures, log_end = 0, now
                failures += 1
                size = max(1, size // 2)
                if failures >= MAX_FAILURES:
                    raise Busy(i18n._("the ledger stayed busy for {attempts} attempts, with no writer getting through, at "
                                 "the chunk from line {line}; the lines before it are recorded. Import the file again "
                                 "to go on from there").format(attempts=MAX_FAILURES,
                                                               line=part[0][0] if part else "?")) from exc
            ledger.retries += 1
            log.debug("import chunk discarded, running it again", error=type(exc).__name__, failures=failures,
                      next_chunk=size)
            time.sleep(random.uniform(0.001, 0.01 * (failures + 1)))  # noqa: S311 - jitter, not security
            continue
        if not part:
            break
        mine.update(n for n, _ in part)
        pos += len(part)
        failures, stop_before = 0, None
        size = min(chunk, size * 2)
        if progress is not None:
            progress(pos)
    return _result(ledger.import_run(digest), numbered, mine)


def _log_end(ledger: GrantsLedger) -> int | None:
    try:
        end: int | None = ledger.recorder.max_notification_id()
        return end
    except OperationalError:
        return None


def _moved(ledger: GrantsLedger, exc: Exception, run_id: Any, seen: int) -> bool:
    """Whether the file's own ImportRun moved: another process is importing it."""
    if isinstance(exc, StaleRead):
        return run_id in exc.moved
    try:
        current: dict[Any, int] = ledger.recorder.current_versions([run_id])
        return current.get(run_id, 0) != seen
    except OperationalError:
        return False


def _result(run: ImportRun | None, numbered: list[tuple[int, bytes]], mine: set[int]) -> dict[str, Any]:
    accepted, refused, warnings, already = 0, [], [], 0
    for n, _ in numbered:
        outcome = run.outcomes[n]  # type: ignore[union-attr] # every line is decided when the loop ends
        already += n not in mine
        if "refused" in outcome:
            refused.append({"line": n, **outcome["refused"]})
            continue
        accepted += 1
        if "warning" in outcome:
            warnings.append({"line": n, "message": outcome["warning"]})
    return {"accepted": accepted, "refused": refused, "warnings": warnings, "already": already}
