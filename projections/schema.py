"""Read-model tables, kept on the same database as the event store.

They are derived data: dropping their rows and replaying the event log gives
the same rows (``grants projections rebuild``). Money is integer fen; dates
are the dates the events take effect, so reports can be cut at any date.

Two times: ``date`` columns are when a thing takes effect (``--as-of``), ``*_us``
columns when the ledger recorded it (the event's timestamp, microseconds since
1970-01-01 UTC), so a report "as known at" a moment (``--known-at``) is a query too.

Besides the rows (enterprises, applications, entries), the projection keeps totals,
written in the same transaction as the rows they sum: per enterprise (its row, and
its running totals per day it had a movement), per area and per measure per day
(``rm_day_totals``), and per application the days it was paid more by one payer than
the other. The reports read those, so they do not grow with the history.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

tracking = Table(
    "rm_tracking",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

enterprises = Table(
    "rm_enterprises",
    metadata,
    Column("uscc", String(18), primary_key=True),
    Column("enterprise_id", String(36), nullable=False, unique=True),  # the aggregate's id in the event store
    Column("name", String(500), nullable=False),
    Column("area", String(50), nullable=False, index=True),
    Column("registered_on", Date, nullable=True),
    Column("recorded_us", BigInteger, nullable=False),
    # totals over every entry of the enterprise, whatever its date
    Column("awarded_fen", BigInteger, nullable=False, default=0),
    Column("city_paid_fen", BigInteger, nullable=False, default=0),
    Column("county_paid_fen", BigInteger, nullable=False, default=0),
)

applications = Table(
    "rm_applications",
    metadata,
    Column("ref", String(100), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("measure", String(50), nullable=False),
    Column("project", String(200), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("policy_version", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decided_on", Date, nullable=True),  # approved, rejected or withdrawn on
    Column("revoked_on", Date, nullable=True),
    Column("entitlement_fen", BigInteger, nullable=False, default=0),
    Column("awarded_fen", BigInteger, nullable=False, default=0),
    Column("city_share_fen", BigInteger, nullable=False, default=0),
    Column("county_share_fen", BigInteger, nullable=False, default=0),
    # when the ledger recorded the filing, the decision and the revocation (for --known-at)
    Column("submitted_us", BigInteger, nullable=False),
    Column("decided_us", BigInteger, nullable=True),
    Column("revoked_us", BigInteger, nullable=True),
    # The first and the last-plus-one day on which one payer had paid (net) more of its half than
    # the other (``reports._half_paid``); ``until`` is OPEN while it still has. A superset of the days:
    # the report selects the applications whose span holds its as-of day, then sums their entries.
    Column("half_paid_from", Date, nullable=True),
    Column("half_paid_until", Date, nullable=True),
    # While it still is (``until`` OPEN): the day of the first payment of the payer ahead, by which
    # `report shares` orders the awards it lists (``reports._half_paid``), so a page of them is a read.
    Column("half_paid_since", Date, nullable=True),
    Index("rm_applications_half_paid", "half_paid_until"),
)

# One row per money movement: an approved award (the obligation, split in two
# halves), a payment by one payer, or an award under another policy; and, as
# red-ink entries (红字) with negative amounts, a revocation of an award, a
# reversal of a payment and a recovery of money paid. Reports are sums over these
# rows, cut by date, so every figure is net of corrections as of any day.
entries = Table(
    "rm_entries",
    metadata,
    Column("position", BigInteger, primary_key=True),  # the event's place in the log
    Column("kind", String(20), nullable=False),  # award | payment | external | revocation | reversal | recovery
    Column("ref", String(100), nullable=True),
    Column("uscc", String(18), nullable=False),
    Column("area", String(50), nullable=False),
    Column("measure", String(50), nullable=True),
    Column("date", Date, nullable=False),
    Column("payer", String(10), nullable=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("city_fen", BigInteger, nullable=False, default=0),
    Column("county_fen", BigInteger, nullable=False, default=0),
    Column("voucher", String(100), nullable=True),
    Column("policy", String(500), nullable=True),
    Column("recorded_us", BigInteger, nullable=False),
    Index("rm_entries_uscc_date", "uscc", "date"),
    Index("rm_entries_area_date", "area", "date"),
    Index("rm_entries_ref", "ref"),
)

# Per enterprise and day it had a movement: its running totals up to and including that day
# (``report enterprise --as-of``: the last row on or before the day, one indexed read per enterprise).
enterprise_days = Table(
    "rm_enterprise_days",
    metadata,
    Column("uscc", String(18), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("awarded_fen", BigInteger, nullable=False),
    Column("city_paid_fen", BigInteger, nullable=False),
    Column("county_paid_fen", BigInteger, nullable=False),
)

# Per area (scope "area") and per measure (scope "measure") and day: what the entries dated that
# day add (``report shares --as-of D`` sums the days up to D: at most the areas or measures times
# the days of the policy, whatever the number of events). ``*_to_recover_fen`` is money paid on an
# award revoked by then, counted on the later of the payment's and the revocation's day. An area's
# row also marks the day its first enterprise registered (zeros), so the area is listed from then.
SUMS = ("city_owed_fen", "county_owed_fen", "city_paid_fen", "county_paid_fen", "city_to_recover_fen",
        "county_to_recover_fen")
MOVES = tuple(f"{payer}_{k}" for payer in ("city", "county")
              for k in ("payments", "payments_fen", "reversals_fen", "recoveries_fen", "moves"))
day_totals = Table(
    "rm_day_totals",
    metadata,
    Column("scope", String(10), primary_key=True),
    Column("key", String(50), primary_key=True),
    Column("date", Date, primary_key=True),
    *[Column(name, BigInteger, nullable=False) for name in (*SUMS, *MOVES)],
)

policy_versions = Table(
    "rm_policy_versions",
    metadata,
    Column("version", String(200), primary_key=True),
    Column("catalogue", String(200), nullable=False),
    Column("effective", Date, nullable=False),
    Column("ends", Date, nullable=False),
    Column("adopted_on", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
)

# Events the read models passed over because they could not take them (a row written past the ledger, with
# fields missing or of the wrong type): the views go on without them, `audit verify` names each.
malformed = Table(
    "rm_malformed",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("error", String(1000), nullable=False),
    # set aside by an admin (`grants admin set-aside`): the position of the set-aside event, who, when, why
    Column("set_aside_position", BigInteger, nullable=True),
    Column("set_aside_by", String(100), nullable=True),
    Column("set_aside_on", Date, nullable=True),
    Column("set_aside_reason", String(1000), nullable=True),
)

VIEW_TABLES = (enterprises, applications, entries, policy_versions, enterprise_days, day_totals, malformed)
AREA_SCOPE, MEASURE_SCOPE = "area", "measure"
OPEN = date(9999, 12, 31)  # half_paid_until of an application still paid more by one payer
UNDATED = date(1, 1, 1)  # the day totals' day of a registration without a date

# Kinds of entry: what is owed (awards and their revocations) and what is paid
# (payments, less reversals and recoveries).
AWARD, PAYMENT, EXTERNAL = "award", "payment", "external"
REVOCATION, REVERSAL, RECOVERY = "revocation", "reversal", "recovery"
REDECISION = "redecision"  # 改判: what a re-decision adds to an award in force (its city and county halves)
OWED_KINDS = (AWARD, REVOCATION, REDECISION)
PAID_KINDS = (PAYMENT, REVERSAL, RECOVERY)

# Bumped whenever a view table changes shape: views of an older shape are dropped
# and replayed from the log (they are derived data).
VIEWS_VERSION = 6
