"""One place for what the CLI prints: data on stdout (a table, or JSON with --json),
messages and logs on stderr, and the table that maps failures to exit codes."""

from __future__ import annotations

import functools
import io
import json
import os
import re
import secrets
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from commands import logs
from commands.context import Context, NoLedger
from ledger import i18n
from ledger.domain.money import format_fen
from ledger.errors import INVALID_INPUT, Refused, invalid
from ledger.i18n import _
from ledger.store.chain import ChainMismatch
from ledger.store.errors import LOCKED, PERMISSION_DENIED, READ_ONLY, StoreError, classify
from ledger.text import safe

log = logs.log

EXIT_OK = 0
EXIT_REFUSED = 1  # the ledger turned the command down under a rule of the policy
EXIT_INVALID = 2  # malformed input (also Typer's own usage errors)
EXIT_NO_LEDGER = 3  # no ledger at that database, or it cannot be reached
EXIT_BUSY = 4  # the store stayed contended, or another writer held its lock; nothing was written, try again
EXIT_NOT_PERMITTED = 5  # the ledger is there, but this user or a read-only URL/file may not write it
EXIT_TAMPERED = 6  # `grants audit verify`, or a write: the event log or its hash chain was changed behind the ledger's back
EXIT_FINDINGS = 7  # `grants audit verify`: the chain holds, but a whole-ledger check found something
EXIT_GAP = 8  # `grants audit reconcile`: one payer has paid what the other has not
EXIT_INTERNAL = 70  # a bug: the traceback is shown with GRANTS_DEBUG=1

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def emit_json(data: Any) -> None:
    """``data`` as indented JSON, written in pieces of about 64 KB: the text of a long result (an import's
    28,000 refused lines) is never held whole, nor copied whole by ``safe`` (the same text as ``json.dumps``
    with ``indent=2``, which encodes piece by piece too)."""
    pieces: list[str] = []
    size = 0
    for piece in _JSON.iterencode(data):
        pieces.append(piece)
        size += len(piece)
        if size >= 65_536:
            typer.echo(safe("".join(pieces)), nl=False)
            pieces, size = [], 0
    typer.echo(safe("".join(pieces)))


_JSON = json.JSONEncoder(ensure_ascii=False, indent=2, sort_keys=False)


@contextmanager
def english(when: bool = True) -> Iterator[None]:
    """Within it, every message is English (then the language in force comes back): the texts a command
    puts in its JSON (a fact's description, a finding) are the same whatever language people read."""
    previous = i18n.language()
    if not when or previous == "en":
        yield
        return
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language(previous)


def render(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print data: as JSON for scripts, or as ``human(data)`` for people."""
    if as_json:
        emit_json(data)
    else:
        echo(human(data))


def error(message: str, *, as_json: bool = False, data: dict[str, Any] | None = None) -> None:
    if as_json:
        typer.echo(safe(json.dumps({"error": data or {"message": message}}, ensure_ascii=False)), err=True)
    else:
        typer.echo(safe(_("error: {message}").format(message=message)), err=True)


def exit_code_for(refusal: Refused) -> int:
    return EXIT_INVALID if refusal.code == INVALID_INPUT else EXIT_REFUSED


def exit_code_for_store(failure: StoreError) -> int:
    """4 for a held lock, 5 for a ledger this user may not write, 3 for any other database that cannot be used."""
    if failure.code == LOCKED:
        return EXIT_BUSY
    if failure.code in (READ_ONLY, PERMISSION_DENIED):
        return EXIT_NOT_PERMITTED
    return EXIT_NO_LEDGER


def _store_of(args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """The Store of the command's context, if it was opened (to classify a driver's error)."""
    for value in (*args, *kwargs.values()):
        context = getattr(value, "obj", None)
        if isinstance(context, Context):
            return context._store  # noqa: SLF001 - only if parsed; a bad URL is not parsed again here
    return None


def _busy() -> type[Exception] | tuple[()]:
    """``ledger.service.application.Busy`` once a command has opened the ledger; before that nothing can have raised
    it, and importing it would load the event store into every command (even `grants config`)."""
    service = sys.modules.get("ledger.service.application")
    return service.Busy if service is not None else ()


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the ledger's refusals and the store's failures into messages and exit codes.

    No traceback reaches a user for a mistake of theirs; a bug prints one only
    when GRANTS_DEBUG is set.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json"))
        if as_json:
            logs.quiet_for_json()
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except Refused as refusal:
            error(f"{refusal.code}: {refusal.message}", as_json=as_json, data=refusal.as_dict())
            log.info("refused", command=func.__name__, code=refusal.code, field=refusal.field)
            raise typer.Exit(exit_code_for(refusal)) from None
        except NoLedger as exc:
            shown = str(exc) if exc.code == "no-ledger" else f"{exc.code}: {exc}"
            error(shown, as_json=as_json, data={"code": exc.code, "message": str(exc)})
            raise typer.Exit(EXIT_NO_LEDGER) from None
        except _busy() as exc:
            error(str(exc), as_json=as_json, data={"code": "busy", "message": str(exc)})
            raise typer.Exit(EXIT_BUSY) from None
        except ChainMismatch as exc:  # the log was changed behind the ledger's back: no retry can help
            error(f"{exc.code}: {exc}", as_json=as_json, data={"code": exc.code, "message": str(exc),
                                                                 "position": exc.position})
            log.info("chain mismatch", command=func.__name__, position=exc.position)
            raise typer.Exit(EXIT_TAMPERED) from None
        except StoreError as failure:
            fail_store(failure, func.__name__, as_json)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            store = _store_of(args, kwargs)
            classified = classify(exc, store) if store is not None else None
            if classified is not None:
                fail_store(classified, func.__name__, as_json)
            if os.environ.get("GRANTS_DEBUG"):
                traceback.print_exc()
            message = _("internal error ({kind}: {error}); the command did not complete and its own events were "
                        "written all or none. Set GRANTS_DEBUG=1 to see the traceback, and report it.").format(
                            kind=type(exc).__name__, error=exc)
            error(message, as_json=as_json, data={"code": "internal-error", "message": message})
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def fail_store(failure: StoreError, command: str, as_json: bool) -> NoReturn:
    error(f"{failure.code}: {failure.message}", as_json=as_json, data=failure.as_dict())
    log.info("store failure", command=command, code=failure.code)
    raise typer.Exit(exit_code_for_store(failure)) from None


def yuan(fen: int | None) -> str:
    return "-" if fen is None else format_fen(fen)


class Alert(str):
    """A cell to emphasise on a colour terminal: a refusal, an amount still due."""


def due(fen: int | None) -> str:
    """``yuan(fen)``, emphasised when it is not zero (an amount still owed or to recover)."""
    return Alert(yuan(fen)) if fen else yuan(fen)


_NONCE = secrets.token_hex(8)  # a stored text cannot forge the marks of our own styles without it
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_MARK = re.compile("\ue000" + _NONCE + r"([0-9;]*)\ue001")
_RULE = "    \n    \n -  \n    \n    \n    \n    \n    \n"  # a Rich box: a dashed line under the headers, nothing else
SHORT = 24  # a column whose cells are all this narrow is kept whole rather than wrapped
PIPE_WIDTH = 120  # tables written to a pipe or a file: stable whatever the terminal
LONG = 500  # rows from which a table is plain, one line a row, however wide (``_plain_table``)
ROWS = 100  # rows of a long list a command prints unless told (--limit N, --all); --json has every row


def first_rows(rows: Sequence[T], limit: int | None, count: int | None = None) -> tuple[Sequence[T], str]:
    """The rows of a long list to print (the first ``limit``; every one when None) and the line that
    says how many were left out and how to see them ('' when none was). ``count``: the rows the list
    has in all, when ``rows`` holds only the first of them."""
    count = len(rows) if count is None else count
    if limit is None or count <= limit:
        return rows, ""
    return rows[:limit], _("({shown} of {count} rows shown; --all prints every row, --json gives them "
                           "all)").format(shown=f"{limit:,}", count=f"{count:,}")


def paged_table(headers: Sequence[str], items: Sequence[T], to_row: Callable[[T], Sequence[Any]],
                limit: int | None, *, count: int | None = None, right: Sequence[int] = (),
                after: Sequence[Sequence[Any]] = ()) -> str:
    """``table`` of the first ``limit`` of ``items`` (``first_rows``), each made a row by ``to_row``, then the
    rows ``after`` (a total); a page of a longer list is one line a row, followed by the line that says how
    many were left out."""
    shown, left_out = first_rows(items, limit, count)
    text = table(headers, [*map(to_row, shown), *after], right=right, page=bool(left_out))
    return f"{text}\n{left_out}" if left_out else text


def row_limit(limit: int | None, every: bool) -> int | None:
    """The rows of each long list to print, from ``--limit`` and ``--all`` (None: every row)."""
    if every and limit is not None:
        raise invalid("limit", _("give --limit or --all, not both"))
    return None if every else ROWS if limit is None else limit


def styled() -> bool:
    """Colour and emphasis: only on a terminal, and never under NO_COLOR (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def table_width() -> int:
    """The terminal's width; on a pipe COLUMNS if it is set, else 120."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = (),
          page: bool = False) -> str:
    """An aligned table that fits the terminal (Rich: wide CJK characters count double).

    Columns in ``right`` (amounts, counts) are right-aligned and never wrapped; the
    others wrap at spaces, or fold a word longer than the column, so that no cell is cut.
    Cells that are ``Alert`` are emphasised on a colour terminal; every cell is ``safe``.
    A table of more than ``LONG`` rows, or a ``page`` of a longer list (``first_rows``), is one
    line a row however wide, as the whole list would be: it is read by search and sort.
    """
    cells = [[safe(str(c)) for c in row] for row in rows]
    heads = [safe(str(h)) for h in headers]
    color = styled()
    long = page or len(cells) > LONG
    if long or not color:  # a long table is plain even on a colour terminal: Rich would take minutes over it
        plain = _plain_table(heads, cells, right, None if long else table_width())
        if plain is not None:
            return plain
    return _rich_table(heads, cells, rows, right, color)


def _rich_table(heads: list[str], cells: list[list[str]], rows: Sequence[Sequence[Any]], right: Sequence[int],
                color: bool) -> str:
    from rich.box import Box  # Rich is imported by the commands that print a table, not by every command
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=Box(_RULE), show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                 header_style="bold" if color else "")
    needed = 0
    for i, (head, (width, fixed)) in enumerate(zip(heads, _column_widths(heads, cells, right), strict=True)):
        if fixed:  # amounts, counts, codes, dates, refs: never wrapped
            grid.add_column(Text(head), justify="right" if i in right else "left", width=width, overflow="fold")
            needed += width + 2
        else:  # text (names, messages): wraps at spaces, folds a longer word
            grid.add_column(Text(head), overflow="fold")
            needed += 12
    for raw, row in zip(rows, cells, strict=True):
        grid.add_row(*(Text(text, style="bold red" if color and isinstance(value, Alert) else "")
                       for value, text in zip(raw, row, strict=True)))
    buffer = io.StringIO()
    console = Console(file=buffer, width=max(table_width(), needed), force_terminal=color, no_color=False,
                      color_system="standard" if color else None, highlight=False, emoji=False, markup=False,
                      legacy_windows=False, soft_wrap=False)
    console.print(grid)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))
    return _SGR.sub(lambda m: "\ue000" + _NONCE + m.group(1) + "\ue001", text) if color else text


def _column_widths(heads: list[str], cells: list[list[str]], right: Sequence[int]) -> list[tuple[int, bool]]:
    """Each column's width, and whether it is fixed (kept whole) rather than wrapped."""
    from rich.cells import cell_len

    widths = []
    for i, head in enumerate(heads):
        widest = max((cell_len(r[i]) for r in cells), default=0)
        if i in right or widest <= SHORT:
            widths.append((max([widest, *(cell_len(w) for w in head.split())]), True))
        else:
            widths.append((max(widest, cell_len(head)), False))
    return widths


_AWKWARD = re.compile(r"[\t\n\r]|^\s|\s$")  # cells Rich lays out its own way (tabs, lines, edge spaces)


def _plain_table(heads: list[str], cells: list[list[str]], right: Sequence[int], width: int | None) -> str | None:
    """``table``'s text without colour when no cell wraps: each cell padded to its column, the columns
    two apart, the headers over a dashed line. The same text as Rich lays out
    (``tests/unit/test_table_layout.py``), in a fraction of its time on long tables (Rich lays out every
    cell as a renderable: 13 s for a report of 2,000 rows); None where Rich would wrap a cell, or
    when a cell is of a kind Rich lays out differently, which then goes to Rich.

    ``width`` None (a table of more than ``LONG`` rows): one line a row, however wide, a column as wide
    as its header too; a listing of thousands of enterprises is read by search and sort, and Rich would
    take minutes over it."""
    from rich.cells import cell_len

    widths = _column_widths(heads, cells, right)
    if width is None:
        widths = [(max(w, cell_len(h)), fixed) for h, (w, fixed) in zip(heads, widths, strict=True)]
    if not all(w for w, _ in widths):
        return None
    if width is not None and sum(w for w, _ in widths) + 2 * (len(widths) - 1) > width:
        return None
    if any(cell_len(h) > w or _AWKWARD.search(h) for h, (w, _) in zip(heads, widths, strict=True)):
        return None
    if any(_AWKWARD.search(c) for row in cells for c in row):
        return None
    last = len(widths) - 1

    def line(row: list[str]) -> str:
        out = []
        for i, (text, (w, _fixed)) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (w - cell_len(text))
            out.append(pad + text if i in right else text + pad)
        return "  ".join(out).rstrip()

    rule = " ".join("-" * (w + (i < last)) for i, (w, _) in enumerate(widths))
    return "\n".join([line(heads), rule.rstrip(), *(line(row) for row in cells)])


def echo(text: str = "") -> None:
    """Print for people; stored text never reaches the terminal as control, format or bidi characters.

    Only the styles ``table`` marked with this process's secret come back as escape codes."""
    typer.echo(_MARK.sub(lambda m: "\x1b[" + m.group(1) + "m", safe(text)))


def stderr(text: str) -> None:
    print(safe(text), file=sys.stderr)
