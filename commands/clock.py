"""The day of recording: the one clock the ledger reads, at the edge.

The rules take no clock; the CLI and the import read this and pass the day in.
The ledger's day is China's (Asia/Shanghai, UTC+8 all year, no daylight saving),
so a payment recorded at 07:00 in Shiyan is dated that day whatever the server's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China time is UTC+8 with no daylight saving, fixed: the tz database's Asia/Shanghai also knows the
# local mean time before 1901 (+08:05:43) and the summer times of 1986-1991, which no day of this
# ledger is, and which would print an odd offset for a moment like `--known-at 1900-01-01`.
CHINA = timezone(timedelta(hours=8), "CST")


def today() -> date:
    """Today in China (Asia/Shanghai)."""
    return datetime.now(CHINA).date()
