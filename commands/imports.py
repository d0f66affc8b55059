"""`grants import FILE` (JSON Lines, one command a line, or a filled xlsx template) and `grants demo`."""

from __future__ import annotations

import csv
import hashlib
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from commands import clock, output, progress, report, spreadsheet
from commands.context import Context
from commands.options import All, Json, Limit
from commands.output import handled
from commands.records import render_show
from ledger.errors import Refused, invalid
from ledger.i18n import N_, _
from ledger.intake import jsonline
from ledger.intake.limits import CHUNK

if TYPE_CHECKING:  # the event store and the policy catalogue are imported when a file is imported
    from ledger.intake.commands import Command
    from ledger.service.application import GrantsLedger
    from ledger.service.importing import ImportStopped

    Parsed = Command | dict[str, Any] | ImportStopped  # the command, the line's refusal, or why the import stops there

DEMO_DB = "grants-demo.db"


def _apply_line(ledger: GrantsLedger, number: int, raw: bytes, operator: str) -> dict[str, Any]:
    """Apply one line: {} when accepted, {"refused": ...} or {"warning": ...} otherwise."""
    return _execute(ledger, number, _parse(number, raw, operator))


def _parse(number: int, raw: bytes, operator: str) -> Parsed:
    from ledger.intake.commands import parse_command
    from ledger.service.importing import ImportStopped

    try:
        return parse_command(jsonline.decode(raw), operator, today=clock.today())
    except Refused as refusal:
        return {"refused": {"line": number, **refusal.as_dict()}}
    except Exception as exc:  # noqa: BLE001 - raised when the line's turn comes, as if met there
        stopped = ImportStopped(f"line {number}: {type(exc).__name__}: {exc}")
        stopped.__cause__ = exc
        return stopped


def _execute(ledger: GrantsLedger, number: int, parsed: Parsed) -> dict[str, Any]:
    from eventsourcing.persistence import OperationalError, RecordConflictError

    from ledger.service.importing import ImportStopped

    if isinstance(parsed, ImportStopped):
        raise parsed
    if isinstance(parsed, dict):
        return parsed
    try:
        result = ledger.execute(parsed)
    except Refused as refusal:
        return {"refused": {"line": number, **refusal.as_dict()}}
    except (RecordConflictError, OperationalError):
        raise
    except Exception as exc:
        raise ImportStopped(_("line {number}: {kind}: {problem}").format(number=number, kind=type(exc).__name__,
                                                                          problem=exc)) from exc
    return {"warning": {"line": number, "message": result["warning"]}} if result.get("warning") else {}


class _Chunks:
    """Each chunk's lines parsed before it runs, once, so that the streams their commands
    read are fetched together (``GrantsLedger.prefetch``) rather than one query each."""

    def __init__(self, operator: str) -> None:
        self.operator = operator
        self.parsed: dict[int, Parsed] = {}

    def prepare(self, ledger: GrantsLedger, part: list[tuple[int, bytes]]) -> None:
        from ledger.service.importing import ImportStopped

        self.parsed = {number: _parse(number, raw, self.operator) for number, raw in part}
        ledger.prefetch(p for p in self.parsed.values() if not isinstance(p, (dict, ImportStopped)))

    def apply(self, ledger: GrantsLedger, number: int, raw: bytes, operator: str) -> dict[str, Any]:
        parsed = self.parsed.pop(number) if number in self.parsed else _parse(number, raw, operator)
        return _execute(ledger, number, parsed)


def import_lines(ledger: GrantsLedger, lines: Iterable[bytes], operator: str, *, chunk: int = CHUNK,
                 name: str = "-", digest: str | None = None, total: int | None = None,
                 stop: Callable[[], bool] | None = None, show_progress: bool = False,
                 place: Callable[[int], str] | None = None) -> dict[str, Any]:
    """Apply each line once, in order; a refused line changes nothing and the rest go on.

    The file is known by ``digest`` (the SHA-256 of its bytes; by default of the lines
    joined with newlines): lines an earlier run of it decided are reported, not
    decided again (``ledger/service/importing.py``). Given ``total`` (how many of the lines hold a
    command) and ``digest``, the lines are read as the import goes. With ``show_progress``,
    a terminal shows a bar. ``place(line)`` names a line in messages (by default "line N").
    """
    from ledger.service.importing import count_commands, digest_of, import_file, line_place

    if digest is None or total is None:
        lines = list(lines)
        digest = digest or digest_of(b"".join(line + b"\n" for line in lines))
        total = count_commands(lines)
    with progress.bar(_("importing {name}").format(name=name), total, as_json=not show_progress) as advance:
        chunks = _Chunks(operator)
        result = import_file(ledger, lines, digest=digest, name=name, operator=operator, apply_line=chunks.apply,
                             total=total, prepare=chunks.prepare, chunk=chunk, stop=stop, progress=advance,
                             place=place or line_place)
    result["refused_by_code"] = dict(Counter(r["code"] for r in result["refused"]).most_common())
    return result


BOM = b"\xef\xbb\xbf"


class Input:
    """A file to import, read as the import goes: its name, the SHA-256 of its bytes (without a
    UTF-8 byte-order mark), how many of its lines hold a command, and its lines, as often as
    asked (a second reading writes the refused lines' CSV). A workbook's rows are its lines."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        from ledger.service.importing import count_commands, digest_of, read_lines

        self.name, self._stream = name, stream
        self.book: spreadsheet.Workbook | None = None
        self._start = len(BOM) if stream.read(len(BOM)) == BOM else 0
        stream.seek(self._start)
        if spreadsheet.is_workbook(stream.read(8)):
            stream.seek(self._start)
            self.book = spreadsheet.read_workbook(stream.read())
            self._data: bytes | None = self.book.jsonl  # the same machinery, known by their digest
            self.digest = digest_of(self._data)
            self.total = count_commands(self._data.splitlines())
            return
        self._data = None
        digest = hashlib.sha256()
        stream.seek(self._start)
        self.total = count_commands(read_lines(_Hashing(stream, digest)))
        self.digest = digest.hexdigest()

    def place(self, line: int) -> str:
        """Where line ``line`` of the input is, as its reader finds it: "line 12", or a workbook's sheet and row."""
        from ledger.service.importing import line_place

        if self.book is None or not 0 < line <= len(self.book.where):
            return line_place(line)
        where = self.book.where[line - 1]
        return _("{sheet} row {row}").format(sheet=where.sheet, row=where.row)

    def lines(self) -> Iterator[bytes]:
        from ledger.service.importing import read_lines

        if self._data is not None:
            return iter(self._data.splitlines())
        self._stream.seek(self._start)
        return read_lines(self._stream)


class _Hashing:
    """A binary stream that adds what is read from it to a hash."""

    def __init__(self, stream: IO[bytes], digest: Any) -> None:
        self.stream, self.digest = stream, digest

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


@contextmanager
def open_input(file: Path) -> Iterator[Input]:
    """The file to import (``-``: standard input, kept in a temporary file, so it is read twice too).

    Notepad and WPS save UTF-8 with a BOM; it is not part of the first line."""
    from ledger.service.importing import READ_BLOCK

    if str(file) == "-":
        with tempfile.TemporaryFile() as kept:
            while block := sys.stdin.buffer.read(READ_BLOCK):
                kept.write(block)
            kept.seek(0)
            yield Input(kept, "-")
        return
    if not file.is_file():
        raise invalid("file", _("{file} is not a readable file (give - to read standard input)").format(
            file=repr(str(file))))
    with file.open("rb") as stream:
        yield Input(stream, file.name)


def write_refusals(path: Path, result: dict[str, Any], lines: Iterable[bytes]) -> None:
    """The refused lines, with their codes and messages, as CSV (UTF-8 with a BOM, for Excel and WPS)."""
    wanted = {r["line"] for r in result["refused"]}
    raws = {n: raw for n, raw in enumerate(lines, 1) if n in wanted}
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["line 行号", "code 代码", "field 字段", "message 说明", "content 原文"])
        for r in result["refused"]:
            raw = raws.get(r["line"], b"").decode("utf-8", errors="replace")
            writer.writerow([r["line"], r["code"], r.get("field", ""), r["message"], raw])


class _StopOnInterrupt:
    """Ctrl-C once: finish the chunk under way, then stop (a second Ctrl-C stops at once)."""

    def __init__(self) -> None:
        self.asked = False

    def __enter__(self) -> _StopOnInterrupt:
        self._previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_signal: Any) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        output.stderr(_("stopping after the chunk under way (Ctrl-C again to stop at once; that chunk is then "
                        "not recorded)"))

    def __exit__(self, *_: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous)

    def __call__(self) -> bool:
        return self.asked


EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


def _bring_views_up_to_date(context: Context) -> None:
    try:
        context.views()
    except Exception as exc:  # noqa: BLE001 - the lines are recorded; say so rather than fail
        output.stderr(_("warning: recorded, but the reports could not be brought up to date ({problem}); run "
                        "`grants projections rebuild`").format(problem=exc))


def render_import(result: dict[str, Any], limit: int | None = None) -> str:
    lines = [_("accepted {accepted}, refused {refused}").format(accepted=result["accepted"],
                                                                refused=len(result["refused"]))
             + (_("; {already} of these lines were recorded by an earlier run and not decided again").format(
                 already=result["already"]) if result.get("already") else "")]
    if result.get("refused_by_code"):
        lines.append(_("refused by code: {counts}").format(
            counts=", ".join(f"{code} {n}" for code, n in result["refused_by_code"].items())))
    warnings, left_out = output.first_rows(result["warnings"], limit)
    # A workbook's refusals and warnings carry their sheet and row (in the message too): the row is its number.
    lines += [_("warning: {message}").format(message=w["message"]) if "row" in w else
              _("warning, line {line}: {message}").format(line=w["line"], message=w["message"]) for w in warnings]
    lines += [left_out] if left_out else []
    if result["refused"]:
        rows = any("row" in r for r in result["refused"])
        lines.append("")
        lines.append(output.paged_table([_("row") if rows else _("line"), _("code"), _("message")],
                                        result["refused"],
                                        lambda r: [r.get("row", r["line"]), output.Alert(r["code"]), r["message"]],
                                        limit, right=(0,)))
    return "\n".join(lines)


def _import_input(context: Context, source: Input, *, as_json: bool, chunk: int, refusals: Path | None,
                  rows: int | None = None) -> None:
    from ledger.service.importing import Interrupted

    name, book = source.name, source.book
    ledger = context.ledger()
    try:
        with _StopOnInterrupt() as stop:
            result = import_lines(ledger, source.lines(), context.operator, chunk=chunk, name=name,
                                  digest=source.digest, total=source.total, stop=stop,
                                  show_progress=not as_json, place=source.place)
    except Interrupted as interrupted:
        ledger.forget()
        _bring_views_up_to_date(context)
        output.error(_("interrupted: {recorded} lines of {name} are recorded, up to {place}; run the "
                       "same import again to go on from {place} (the lines recorded are not decided "
                       "again)").format(recorded=interrupted.recorded, name=name,
                                        place=source.place(interrupted.resume_at or 0)), as_json=as_json,
                     data={"code": "interrupted", "recorded": interrupted.recorded,
                           "resume_at": interrupted.resume_at})
        raise typer.Exit(EXIT_INTERRUPTED) from None
    ledger.forget()  # the aggregates kept between chunks: not needed to bring the views up to date
    if book is not None:
        book.annotate(result)
    if refusals is not None:
        write_refusals(refusals, result, source.lines())
    _bring_views_up_to_date(context)
    output.log.info("import", file=name, accepted=result["accepted"], refused=len(result["refused"]),
                    already=result["already"])
    if as_json:
        output.emit_json(result)
    else:
        output.echo(_("ledger: {db}").format(db=context.store.shown))
        output.echo(render_import(result, rows))
    if result["refused"]:
        raise typer.Exit(output.EXIT_REFUSED)


def install(app: typer.Typer) -> None:
    @app.command("import", help=N_("Apply a file of commands in order; refused lines change nothing and are "
                                   "listed.\n\n"
                                   "Ctrl-C stops after the chunk under way; running the same file again goes "
                                   "on from there."))
    @handled
    def import_(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help=N_("JSON Lines file: one command a line (see docs/cli.md), or "
                                                  "a workbook from `grants template xlsx`; - reads standard input."))],
        as_json: Json = False,
        chunk: Annotated[int, typer.Option(min=1, max=CHUNK, help=N_("Lines per transaction at most."))] = CHUNK,
        refusals: Annotated[Path | None, typer.Option(
            "--refusals", metavar="FILE.csv", help=N_("Also write the refused lines, with their codes and messages, "
                                                   "to this CSV file (UTF-8 with BOM, opens in Excel and WPS)."))] = None,
        limit: Limit = None,
        every: All = False,
    ) -> None:
        context: Context = ctx.obj
        rows = output.row_limit(limit, every)
        with open_input(file) as source:
            _import_input(context, source, as_json=as_json, chunk=chunk, refusals=refusals, rows=rows)

    @app.command(help=N_("Create a demo ledger (as `grants init` does), load a realistic sample of the policy's "
                         "cases and print the reports.\n\n"
                         "Without a database given (--db, GRANTS_DB or grants.toml) it creates ./grants-demo.db, "
                         "replacing an earlier demo file. Given a database, it creates the ledger there if there is "
                         "none; a ledger already there must be empty."))
    @handled
    def demo(ctx: typer.Context, as_json: Json = False) -> None:
        from projections import reports

        context: Context = ctx.obj
        if context.settings["db"].source.startswith("default"):
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(DEMO_DB + suffix).unlink(missing_ok=True)
            context.use_db(f"sqlite:///{DEMO_DB}")
        context.init()  # the demo makes its own ledger, explicitly, as `grants init` would
        ledger = context.ledger()
        if ledger.recorder.max_notification_id():
            raise invalid("db", _("{db} already holds events; the demo needs an empty ledger (run it without --db "
                                  "to use ./grants-demo.db)").format(db=context.store.shown))
        sample = resources.files("commands").joinpath("demo.jsonl").read_bytes().splitlines()
        result = import_lines(ledger, sample, "demo", name="demo.jsonl", show_progress=not as_json)
        engine = context.views()
        enterprises = reports.enterprise_report(engine)
        shares = reports.shares_report(engine)
        example = ledger.show("SY-2023-0001")
        if as_json:
            output.emit_json({"db": context.store.shown, "import": result, "enterprises": enterprises["enterprises"],
                              "areas": shares["areas"], "example": example})
            return
        output.echo(_("Demo ledger created at {url} (as `grants init` would) and loaded with the sample").format(
            url=context.store.shown))
        output.echo(render_import(result))
        output.echo("  " + _("(the refused lines are deliberate: each shows a rule of the policy at work)"))
        output.echo("\n== grants report enterprise ==")
        output.echo(report.render_enterprises(enterprises))
        output.echo("\n== grants report shares ==")
        output.echo(report.render_shares(shares))
        output.echo("\n== grants show SY-2023-0001 ==")
        output.echo(render_show(example))
        output.echo("\n" + _("Explore it: {command}").format(
            command=f"grants --db {context.store.shown} show SY-2024-0003"))
