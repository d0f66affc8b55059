"""Read-model tables, kept on the same database as the event store.

They are derived data: dropping their rows and replaying the event log gives
the same rows (``grants projections rebuild``). Money is integer fen; dates
are the dates the events take effect, so reports can be cut at any date.
"""

from __future__ import annotations

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
    Index("rm_entries_uscc_date", "uscc", "date"),
    Index("rm_entries_area_date", "area", "date"),
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

VIEW_TABLES = (enterprises, applications, entries, policy_versions)

# Kinds of entry: what is owed (awards and their revocations) and what is paid
# (payments, less reversals and recoveries).
AWARD, PAYMENT, EXTERNAL = "award", "payment", "external"
REVOCATION, REVERSAL, RECOVERY = "revocation", "reversal", "recovery"
OWED_KINDS = (AWARD, REVOCATION)
PAID_KINDS = (PAYMENT, REVERSAL, RECOVERY)

# Bumped whenever a view table changes shape: views of an older shape are dropped
# and replayed from the log (they are derived data).
VIEWS_VERSION = 2
