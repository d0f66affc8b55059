"""Logging is configured once, here, at the entry point: structlog to stderr, a
console rendering in a terminal and JSON lines otherwise. One summary line per
command; no personal data (names are not logged, only filing numbers and codes).
Level from GRANTS_LOG_LEVEL (default info). Timestamps are China time, ISO 8601 with
its offset (2024-01-15T18:00:00.123456+08:00), whatever the machine's zone.

structlog (which loads Rich's traceback and pretty-printing modules) is imported on the first
line logged, or when a command opens the ledger, whose modules log too (``ready``): a command
that logs nothing, such as `grants config`, starts without it."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from commands.clock import CHINA
from ledger.text import safe

_quiet = False
_pending = False  # configure() was called and structlog is not configured for this command yet


def quiet_for_json() -> None:
    """With --json, stderr carries one JSON document (the error, if any): no log lines beside it,
    unless GRANTS_LOG_LEVEL asks for them."""
    global _quiet
    _quiet = "GRANTS_LOG_LEVEL" not in os.environ


class _Stderr:
    """Writes each line to whatever sys.stderr is at that moment (tests swap it)."""

    def msg(self, message: str) -> None:
        if not _quiet:
            print(safe(message), file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_: object) -> _Stderr:
    return _Stderr()


def china_timestamp(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Stamp the line with the moment in China (Asia/Shanghai, +08:00), ISO 8601."""
    event_dict["timestamp"] = datetime.now(CHINA).isoformat()
    return event_dict


def configure() -> None:
    """Once per command, at the entry point; structlog itself is configured by ``ready`` (at once if
    it is imported already)."""
    global _quiet, _pending
    _quiet = False
    _pending = True
    if "structlog" in sys.modules:
        ready()


def ready() -> None:
    """Configure structlog as ``configure`` asked, before anything logs (once per command)."""
    global _pending
    if not _pending:
        return
    import logging

    import structlog

    _pending = False
    level_name = os.environ.get("GRANTS_LOG_LEVEL", "info").upper()
    level = getattr(logging, level_name, logging.INFO)
    renderer: structlog.typing.Processor
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            china_timestamp,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


class _Log:
    """``structlog.get_logger("grants")``, configured (``ready``) on the first line logged."""

    def __getattr__(self, name: str) -> Any:
        ready()
        import structlog

        return getattr(structlog.get_logger("grants"), name)


log = _Log()
