"""One place for what the CLI prints: data on stdout (a table, or JSON with --json),
messages and logs on stderr, and the table that maps failures to exit codes."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import structlog
import typer

from commands import logs
from commands.context import Context, NoLedger
from ledger.errors import INVALID_INPUT, Refused
from ledger.money import format_fen
from ledger.service import Busy
from ledger.store_errors import LOCKED, PERMISSION_DENIED, READ_ONLY, StoreError, classify
from ledger.text import safe

log = structlog.get_logger("grants")

EXIT_OK = 0
EXIT_REFUSED = 1  # the ledger turned the command down under a rule of the policy
EXIT_INVALID = 2  # malformed input (also Typer's own usage errors)
EXIT_NO_LEDGER = 3  # no ledger at that database, or it cannot be reached
EXIT_BUSY = 4  # the store stayed contended, or another writer held its lock; nothing was written, try again
EXIT_NOT_PERMITTED = 5  # the ledger is there, but this user or a read-only URL/file may not write it
EXIT_TAMPERED = 6  # `grants audit verify`: the event log or its hash chain was changed behind the ledger's back
EXIT_FINDINGS = 7  # `grants audit verify`: the chain holds, but a whole-ledger check found something
EXIT_GAP = 8  # `grants audit reconcile`: one payer has paid what the other has not
EXIT_INTERNAL = 70  # a bug: the traceback is shown with GRANTS_DEBUG=1

F = TypeVar("F", bound=Callable[..., Any])


def emit_json(data: Any) -> None:
    typer.echo(safe(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)))


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
        typer.echo(safe(f"error: {message}"), err=True)


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


def handled(func: F) -> F:
    """Turn the ledger's refusals and the store's failures into messages and exit codes.

    No traceback reaches a user for a mistake of theirs; a bug prints one only
    when GRANTS_DEBUG is set.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
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
        except Busy as exc:
            error(str(exc), as_json=as_json, data={"code": "busy", "message": str(exc)})
            raise typer.Exit(EXIT_BUSY) from None
        except StoreError as failure:
            fail_store(failure, func.__name__, as_json)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            store = _store_of(args, kwargs)
            failure = classify(exc, store) if store is not None else None
            if failure is not None:
                fail_store(failure, func.__name__, as_json)
            if os.environ.get("GRANTS_DEBUG"):
                traceback.print_exc()
            message = (f"internal error ({type(exc).__name__}: {exc}); the command did not complete and its "
                       "own events were written all or none. Set GRANTS_DEBUG=1 to see the traceback, and report it.")
            error(message, as_json=as_json, data={"code": "internal-error", "message": message})
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def fail_store(failure: StoreError, command: str, as_json: bool) -> None:
    error(f"{failure.code}: {failure.message}", as_json=as_json, data=failure.as_dict())
    log.info("store failure", command=command, code=failure.code)
    raise typer.Exit(exit_code_for_store(failure)) from None


def yuan(fen: int | None) -> str:
    return "-" if fen is None else format_fen(fen)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = ()) -> str:
    """A plain aligned text table (wide CJK characters count double)."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def echo(text: str = "") -> None:
    """Print for people; stored text never reaches the terminal as control, format or bidi characters."""
    typer.echo(safe(text))


def stderr(text: str) -> None:
    print(safe(text), file=sys.stderr)
