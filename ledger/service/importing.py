"""Importing a file of commands exactly once.

The file is known by the SHA-256 of its bytes: its ``ImportRun`` aggregate holds how far
the lines are decided (they are decided in order) and the outcome of every line that was
refused or accepted with a warning. Lines are applied in chunks inside
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

The lines are read as the import goes (an iterable, such as ``read_lines`` of a file): what
it holds at any time is a chunk of lines and the outcomes of the refused lines, whatever
the size of the file.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, Protocol

import structlog
from eventsourcing.persistence import OperationalError, RecordConflictError

from ledger import i18n
from ledger.domain.aggregates import ImportRun
from ledger.intake.limits import CHUNK, CHUNK_BYTES, CHUNK_EVENT_BYTES
from ledger.service.application import Busy, GrantsLedger
from ledger.store.errors import LOCKED, StoreError, classify, is_conflict
from ledger.store.recorders import StaleRead, TooLarge

log = structlog.get_logger("grants")

MAX_FAILURES = 30  # chunks in a row that fail for a reason other than another import of the same file

ApplyLine = Callable[[GrantsLedger, int, bytes, str], dict[str, Any]]
Prepare = Callable[[GrantsLedger, list[tuple[int, bytes]]], None]  # a chunk's lines, before they are applied
Place = Callable[[int], str]  # a line's number as people find it: "line 12" (a workbook: its sheet and row)


class Readable(Protocol):
    """What ``read_lines`` needs of a stream: a binary file, or a wrapper that hashes what it reads."""

    def read(self, size: int, /) -> bytes: ...


def line_place(line: int) -> str:
    return i18n._("line {line}").format(line=line)


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


def numbered_commands(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines that hold a command, with their line numbers (blank lines and # comments skipped)."""
    return ((n, raw) for n, raw in enumerate(lines, 1) if is_command(raw))


def is_command(raw: bytes) -> bool:
    return bool(raw.strip()) and not raw.lstrip().startswith(b"#")


def count_commands(lines: Iterable[bytes]) -> int:
    """How many of the lines hold a command (an import's ``total``)."""
    return sum(map(is_command, lines))


READ_BLOCK = 1024 * 1024


def read_lines(stream: Readable, block: int = READ_BLOCK) -> Iterator[bytes]:
    """The lines of a binary stream, read a block at a time: the same lines as ``data.splitlines()``
    of all its bytes (``\n``, ``\r\n`` and ``\r`` end a line), holding one block at most."""
    rest = b""
    while True:
        data = stream.read(block)
        if not data:
            break
        pieces = (rest + data).splitlines(keepends=True)
        # The last piece may go on in the next block: a line without its end, or a \r whose \n follows.
        rest = pieces.pop() if pieces and not pieces[-1].endswith(b"\n") else b""
        for piece in pieces:
            yield piece.rstrip(b"\r\n") if piece.endswith(b"\r\n") else piece[:-1]
    if rest:
        yield from rest.splitlines()


def _stored(number: int, outcome: dict[str, Any]) -> dict[str, Any]:
    if "refused" in outcome:
        refusal = {k: v for k, v in outcome["refused"].items() if k != "line"}
        return {"line": number, "refused": refusal}
    if "warning" in outcome:
        return {"line": number, "warning": outcome["warning"]["message"]}
    return {"line": number}


def _take(numbered: Iterable[tuple[int, bytes]], size: int, max_bytes: int) -> list[tuple[int, bytes]]:
    part: list[tuple[int, bytes]] = []
    used = 0
    for n, raw in numbered:
        if len(part) == size or (part and used + len(raw) > max_bytes):
            break
        part.append((n, raw))
        used += len(raw)
    return part


class _Ahead:
    """The command lines not yet decided, read from ``lines`` as they are needed: the first ``size``
    of them stay at hand until a chunk of them is decided (or run again, after a failure)."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._source = numbered_commands(lines)
        self._ahead: deque[tuple[int, bytes]] = deque()
        self.passed = 0  # command lines decided (by this run or another) and left behind

    def first(self, size: int) -> Iterator[tuple[int, bytes]]:
        """The next ``size`` lines (fewer at the end of the file)."""
        while len(self._ahead) < size:
            found = next(self._source, None)
            if found is None:
                break
            self._ahead.append(found)
        return islice(self._ahead, size)

    def next_line(self) -> int | None:
        """The number of the next line not yet decided; None at the end of the file."""
        return next((n for n, _ in self.first(1)), None)

    def skip_through(self, line: int) -> None:
        """Leave behind the lines up to ``line``: decided already."""
        while (n := self.next_line()) is not None and n <= line:
            self._ahead.popleft()
            self.passed += 1

    def drop(self, count: int) -> None:
        for _ in range(count):
            self._ahead.popleft()
        self.passed += count


def import_file(ledger: GrantsLedger, lines: Iterable[bytes], *, digest: str, name: str, operator: str,
                apply_line: ApplyLine, total: int | None = None, prepare: Prepare | None = None, chunk: int = CHUNK,
                chunk_bytes: int = CHUNK_BYTES, event_bytes: int = CHUNK_EVENT_BYTES,
                stop: Callable[[], bool] | None = None,
                progress: Callable[[int], None] | None = None, place: Place = line_place) -> dict[str, Any]:
    """Apply each command line of a file once, in order; return every line's outcome.

    ``accepted``, ``refused`` and ``warnings`` describe all the lines of the file,
    whichever run decided them; ``already`` counts those an earlier run (or another
    process importing the same file at the same time) decided. When ``stop()`` says so
    between two chunks, the import ends there with ``Interrupted`` (a later run resumes).
    ``progress(done)``, after each committed chunk, gets how many of the file's command
    lines (``numbered_commands``) are decided so far, by this run or an earlier one.
    ``prepare(ledger, lines)``, inside each chunk's batch before its lines are applied, may
    read ahead what they need (``GrantsLedger.prefetch``). ``lines`` are read once, as the
    import goes; ``total`` is how many of them hold a command (counted from them if not given,
    which then holds them all).

    A store failure that is no write conflict is classified as a single command's is
    (``ledger.store.errors.classify``) and raised at once as that ``StoreError``, naming the line
    the import stopped at (``place``) and carrying it as ``resume_at``; a held lock only once the
    store's lock timeout has passed without any writer getting through.
    """
    if total is None:
        lines = list(lines)
        total = count_commands(lines)
    previous, ledger.operator = ledger.operator, operator  # who ran it: checked and stamped on every event
    try:
        return _import(ledger, lines, total, digest=digest, name=name, operator=operator, apply_line=apply_line,
                       prepare=prepare, chunk=chunk, chunk_bytes=chunk_bytes, event_bytes=event_bytes, stop=stop,
                       progress=progress, place=place)
    finally:
        ledger.operator = previous


def _import(ledger: GrantsLedger, lines: Iterable[bytes], total: int, *, digest: str, name: str, operator: str,
            apply_line: ApplyLine, prepare: Prepare | None, chunk: int, chunk_bytes: int, event_bytes: int,
            stop: Callable[[], bool] | None,
            progress: Callable[[int], None] | None, place: Place) -> dict[str, Any]:
    ahead = _Ahead(lines)
    run_id = ledger.import_run_key(digest, operator)
    mine = 0  # lines this run decided
    size, failures, stop_before = chunk, 0, None
    log_end: int | None = None  # the log's end at the last failure: while others commit, the ledger is not stuck
    since = time.monotonic()  # when the chunk under way was first tried, or another writer last got through
    while True:
        if stop is not None and stop() and (resume_at := ahead.next_line()) is not None:
            run_now = ledger.import_run_at(run_id)
            raise Interrupted(run_now.decided if run_now is not None else 0, resume_at)
        part: list[tuple[int, bytes]] = []
        seen = 0
        current: int | None = None
        try:
            with ledger.batch(max_bytes=event_bytes):
                run = ledger.import_run_at(run_id)
                seen = run.version if run is not None else 0
                ahead.skip_through(run.through if run is not None else 0)
                most = size if stop_before is None else stop_before
                part = _take(ahead.first(most), most, chunk_bytes)
                if part:
                    if prepare is not None:
                        prepare(ledger, part)
                    outcomes = []
                    for current, raw in part:
                        outcomes.append(_stored(current, apply_line(ledger, current, raw, operator)))
                    if run is None:
                        run = ImportRun(digest=digest, file=name, lines=total, by=operator)
                    run.decide(outcomes=outcomes, by=operator)
                    ledger.save(run)
        except ImportStopped as stopped:  # (not ``stop``: Python unbinds the name when the clause ends)
            # A failure on the current state (the batch turns one on moved state into
            # StaleRead): record the lines before it, then stop at it.
            if current is not None and current != part[0][0]:
                stop_before = next(i for i, (n, _) in enumerate(part) if n == current)
                continue
            raise ImportStopped(i18n._("{problem}. The lines before line {line} are recorded; nothing from line {line} on "
                                  "is. Import the rest from line {line} on, in a new file.").format(
                problem=stopped, line=current)) from stopped
        except TooLarge as exc:
            if len(part) == 1:  # cannot happen with lines of at most 64 KiB; stop rather than loop
                raise ImportStopped(i18n._("line {line}: {problem}").format(line=part[0][0], problem=exc)) from exc
            half = max(1, len(part) // 2)  # nothing was written: the same lines again, in smaller chunks
            size = min(size, half)
            stop_before = None if stop_before is None else min(stop_before, half)
            log.debug("import chunk too large, splitting it", error=str(exc), next_chunk=half)
            continue
        except (RecordConflictError, OperationalError) as exc:
            conflict = isinstance(exc, RecordConflictError) or is_conflict(exc)
            failure = None if conflict else classify(exc, ledger.store)
            if not conflict and failure is None:
                raise  # as a single command: a database failure we do not know is not retried
            if failure is not None and (failure.code != LOCKED
                                        or time.monotonic() >= since + ledger.store.lock_timeout):
                line = part[0][0] if part else ahead.next_line()
                raise StoreError(failure.code, i18n._("{problem}. The import stopped at {place}: the lines before it "
                                                      "are recorded; import the same file again to go on from "
                                                      "there").format(problem=failure.message.rstrip("."),
                                                                      place=place(line or 0)),
                                 resume_at=line) from exc
            if _moved(ledger, exc, run_id, seen):
                failures = 0  # another process recorded lines of this file: skip them and go on
            else:
                now = _log_end(ledger)
                if now != log_end:  # another writer committed meanwhile: wait our turn, this is no deadlock
                    failures, log_end, since = 0, now, time.monotonic()
                failures += 1
                size = max(1, size // 2)
                if failures >= MAX_FAILURES:
                    line = part[0][0] if part else ahead.next_line()
                    raise Busy(i18n._("the ledger stayed busy for {attempts} attempts, with no writer getting through, at "
                                      "the chunk from {place}; the lines before it are recorded. Import the file again "
                                      "to go on from there").format(attempts=MAX_FAILURES,
                                                                    place=place(line or 0))) from exc
            ledger.retries += 1
            log.debug("import chunk discarded, running it again", error=type(exc).__name__, failures=failures,
                      next_chunk=size)
            time.sleep(random.uniform(0.001, 0.01 * (failures + 1)))  # noqa: S311 - jitter, not security
            continue
        if not part:
            break
        ahead.drop(len(part))
        mine += len(part)
        failures, stop_before, since = 0, None, time.monotonic()
        size = min(chunk, size * 2)
        if progress is not None:
            progress(ahead.passed)
    return _result(ledger.import_run_at(run_id), total, mine)


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


def _result(run: ImportRun | None, total: int, mine: int) -> dict[str, Any]:
    """Every line's outcome (each line is decided when the loop ends): the refused lines and the
    warnings listed, the rest counted; ``already``: the lines not decided by this run."""
    decided = run.decided if run is not None else 0
    refused = [o.as_dict() for o in run.refused] if run is not None else []
    warnings = [{"line": line, "message": warning} for line, warning in run.warnings] if run is not None else []
    assert decided == total, (decided, total)
    return {"accepted": decided - len(refused), "refused": refused, "warnings": warnings, "already": decided - mine}
