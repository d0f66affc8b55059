"""The figures every output prints, defined once: the text and JSON of the reports, the HTML
report, the CSV and XLSX exports and the Beancount ledger all take them from here.

Per payer (the city, or the area's treasury for the county half), as of a day:

- **owed**: its half of every award in force (the entries of ``schema.OWED_KINDS``, whatever
  kinds those are: an award, a re-decision, a revocation's red ink);
- **paid** (net): its payments less its reversals less its recoveries, on every award,
  revoked ones included: what left its treasury and did not come back;
- **to recover**: the part of *paid* that is on awards revoked by then (追回);
- **due**: what it still has to pay on the awards in force, ``owed - (paid - to recover)``.

And between the two halves, **gap** = city paid - county paid (the same *paid*).

So the JSON adds up: ``paid = owed - due + to recover`` for each payer, and
``gap = city paid - county paid``. A Beancount payable holds ``owed - paid`` (= due - to
recover), a treasury ``-paid``.

An award **lags** (is listed by ``report shares`` and ``audit reconcile``) when one payer has paid
less of its own half than the other has of its own: the payer behind would have to pay
``floor(its half x paid ahead / half ahead) - its paid`` to have paid the same part of its half.
An award on which nothing is paid is unpaid, not lagging; nor is one whose halves differ by the
city's odd fen while each payer has paid the same part of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Numeric, and_, case, cast, or_

from ledger.domain.areas import CITY, COUNTY, Payer

PAYERS = (CITY, COUNTY)


def other(payer: str) -> Payer:
    return COUNTY if payer == CITY else CITY


def due(owed: int, paid: int, to_recover: int) -> int:
    """What a payer still has to pay on the awards in force."""
    return owed - (paid - to_recover)


def payable(owed: int, paid: int) -> int:
    """What a payer's payable account holds (a liability): owed less paid, that is due less to recover."""
    return owed - paid


def completed(row: dict[str, Any]) -> dict[str, Any]:
    """A row of sums (``{payer}_owed_fen``, ``{payer}_paid_fen``, ``{payer}_to_recover_fen``) with the
    figures derived from them: ``{payer}_outstanding_fen`` (due) and ``gap_fen``."""
    for payer in PAYERS:
        row[f"{payer}_outstanding_fen"] = due(row[f"{payer}_owed_fen"], row[f"{payer}_paid_fen"],
                                              row[f"{payer}_to_recover_fen"])
    row["gap_fen"] = row[f"{CITY}_paid_fen"] - row[f"{COUNTY}_paid_fen"]
    return row


def per_application(share: Mapping[str, int], paid: Mapping[str, int], revoked: bool) -> dict[str, int]:
    """One application's figures, from its halves in force (0 once revoked) and what each payer paid:
    ``{payer}_to_recover_fen``, ``{payer}_outstanding_fen`` and ``gap_fen``."""
    row: dict[str, int] = {}
    for payer in PAYERS:
        row |= {f"{payer}_owed_fen": share[payer], f"{payer}_paid_fen": paid[payer],
                f"{payer}_to_recover_fen": paid[payer] if revoked else 0}
    completed(row)
    return {k: v for k, v in row.items() if not k.endswith(("_owed_fen", "_paid_fen"))}


def behind(city_owed: int, county_owed: int, city_paid: int, county_paid: int) -> tuple[str, int] | None:
    """On one award in force: the payer behind and by how much (fen), or None when neither is (nothing
    paid, or each half paid in the same part, to the fen; or nothing owed: a revoked award is to recover)."""
    if city_owed + county_owed <= 0:
        return None
    halves: dict[str, tuple[int, int]] = {CITY: (city_owed, city_paid), COUNTY: (county_owed, county_paid)}
    for payer in PAYERS:
        (own_owed, own_paid), (ahead_owed, ahead_paid) = halves[payer], halves[other(payer)]
        if ahead_owed > 0:
            short = own_owed * ahead_paid // ahead_owed - own_paid
            if short > 0:
                return payer, short
    return None


def behind_sql(city_owed: Any, county_owed: Any, city_paid: Any, county_paid: Any) -> tuple[Any, Any]:
    """``behind`` as SQL: (a condition true when some payer is behind, one true when it is the city).
    ``floor(a x b / c) - d > 0`` is ``(d + 1) x c <= a x b``, in NUMERIC so the products do not overflow on
    PostgreSQL; SQLite's are exact below 2**63, halves up to 3,000万 yuan (six times the largest award)."""
    def n(value: Any) -> Any:
        return cast(value, Numeric(38, 0))

    city_behind = and_(county_owed > 0, (n(city_paid) + 1) * n(county_owed) <= n(city_owed) * n(county_paid))
    county_behind = and_(city_owed > 0, (n(county_paid) + 1) * n(city_owed) <= n(county_owed) * n(city_paid))
    return and_(city_owed + county_owed > 0, or_(city_behind, county_behind)), city_behind


def ahead_first(city_behind: Any, city_first: Any, county_first: Any) -> Any:
    """SQL: the first payment day of the payer ahead."""
    return case((city_behind, county_first), else_=city_first)
