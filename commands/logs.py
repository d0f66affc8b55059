"""Logging is configured once, here, at the entry point: structlog to stderr, a
console rendering in a terminal and JSON lines otherwise. One summary line per
command; no personal data (names are not logged, only filing numbers and codes).
Level from GRANTS_LOG_LEVEL (default info). Timestamps are China time, ISO 8601 with
its offset (2024-01-15T18:00:00.123456+08:00), whatever the machine's zone."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

import structlog

from commands.clock import CHINA
from ledger.text import safe

_quiet = False


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
    global _quiet
    _quiet = False
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
