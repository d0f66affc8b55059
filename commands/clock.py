"""The day of recording: the one clock the ledger reads, at the edge.

The rules take no clock; the CLI and the import read this and pass the day in.
The ledger's day is China's (Asia/Shanghai, UTC+8 all year, no daylight saving),
so a payment recorded at 07:00 in Shiyan is dated that day whatever the server's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _china() -> tzinfo:
    try:
        return ZoneInfo("Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):  # no tz database on this host: the same offset, fixed
        return timezone(timedelta(hours=8), "CST")


CHINA = _china()


def today() -> date:
    """Today in China (Asia/Shanghai)."""
    return datetime.now(CHINA).date()
