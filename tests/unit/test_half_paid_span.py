"""The days an award is paid more by one payer than the other, from its entries, and while it still is, the
day of the first payment of the payer ahead (worked examples)."""

from __future__ import annotations

from datetime import date

from projections.schema import OPEN
from projections.totals import half_paid_span

AWARD = (date(2023, 2, 1), "award", None, 10000, 5000, 5000)


def _pay(day: date, payer: str, fen: int, kind: str = "payment") -> tuple[date, str, str, int, int, int]:
    return (day, kind, payer, fen, 0, 0)


def test_city_paid_first_is_half_paid_until_the_county_pays_the_same():
    entries = [AWARD, _pay(date(2023, 3, 1), "city", 5000), _pay(date(2023, 5, 1), "county", 5000)]
    assert half_paid_span(entries) == (date(2023, 3, 1), date(2023, 5, 1), None)


def test_a_half_still_unpaid_keeps_the_span_open():
    assert half_paid_span([AWARD, _pay(date(2023, 3, 1), "county", 2000)]) == (date(2023, 3, 1), OPEN, date(2023, 3, 1))


def test_both_halves_paid_alike_on_one_day_is_never_half_paid():
    entries = [AWARD, _pay(date(2023, 3, 1), "city", 5000), _pay(date(2023, 3, 1), "county", 5000)]
    assert half_paid_span(entries) == (None, None, None)


def test_an_award_with_nothing_paid_is_not_half_paid_and_a_revoked_one_owes_nothing():
    assert half_paid_span([AWARD]) == (None, None, None)
    revoked = [AWARD, _pay(date(2023, 3, 1), "city", 5000), (date(2023, 4, 1), "revocation", None, -10000, -5000, -5000)]
    assert half_paid_span(revoked) == (date(2023, 3, 1), date(2023, 4, 1), None)


def test_the_span_covers_from_the_first_such_day_to_the_end_of_the_last():
    entries = [AWARD, _pay(date(2023, 3, 1), "city", 5000), _pay(date(2023, 4, 1), "county", 5000),
               _pay(date(2023, 6, 1), "city", -5000, "reversal"), _pay(date(2023, 7, 1), "city", 5000)]
    assert half_paid_span(entries) == (date(2023, 3, 1), date(2023, 7, 1), None)


def test_entries_out_of_date_order_give_the_same_span():
    entries = [_pay(date(2023, 5, 1), "county", 5000), AWARD, _pay(date(2023, 3, 1), "city", 5000)]
    assert half_paid_span(entries) == (date(2023, 3, 1), date(2023, 5, 1), None)


def test_while_still_half_paid_since_is_the_first_payment_of_the_payer_ahead_now():
    """The county paid first and is behind now: the city is ahead, since its own first payment."""
    entries = [AWARD, _pay(date(2023, 3, 1), "county", 1000), _pay(date(2023, 4, 1), "city", 3000),
               _pay(date(2023, 6, 1), "city", 1000)]
    assert half_paid_span(entries) == (date(2023, 3, 1), OPEN, date(2023, 4, 1))
    reversed_first = [AWARD, _pay(date(2023, 3, 1), "city", 5000), _pay(date(2023, 3, 2), "city", -5000, "reversal"),
                      _pay(date(2023, 5, 1), "city", 2000)]
    assert half_paid_span(reversed_first) == (date(2023, 3, 1), OPEN, date(2023, 3, 1))


ODD = (date(2023, 2, 1), "award", None, 10001, 5001, 5000)  # the city takes the odd fen


def test_an_odd_fen_award_with_nothing_paid_is_unpaid_not_half_paid():
    assert half_paid_span([ODD]) == (None, None, None)


def test_an_odd_fen_award_paid_in_the_same_part_of_each_half_is_not_half_paid():
    entries = [ODD, _pay(date(2023, 3, 1), "city", 2501), _pay(date(2023, 3, 1), "county", 2500),
               _pay(date(2023, 4, 1), "city", 2500), _pay(date(2023, 4, 1), "county", 2500)]
    assert half_paid_span(entries) == (None, None, None)


def test_an_odd_fen_award_with_the_county_paid_and_the_city_short_of_its_odd_fen_is_half_paid():
    entries = [ODD, _pay(date(2023, 3, 1), "county", 5000), _pay(date(2023, 3, 1), "city", 5000)]
    assert half_paid_span(entries) == (date(2023, 3, 1), OPEN, date(2023, 3, 1))
    assert half_paid_span([*entries, _pay(date(2023, 3, 5), "city", 1)]) == (date(2023, 3, 1), date(2023, 3, 5), None)


def test_a_re_decision_that_raises_the_award_counts_as_owed_whatever_its_kind_is_named(monkeypatch):
    """The span reads ``schema.OWED_KINDS``, not the kind "award": a new owed kind raises both halves."""
    from projections import schema

    monkeypatch.setattr(schema, "OWED_KINDS", (*schema.OWED_KINDS, "raised"))
    entries = [AWARD, _pay(date(2023, 3, 1), "city", 5000), _pay(date(2023, 3, 1), "county", 5000),
               (date(2023, 4, 1), "raised", None, 4000, 2000, 2000), _pay(date(2023, 5, 1), "city", 2000)]
    assert half_paid_span(entries) == (date(2023, 5, 1), OPEN, date(2023, 3, 1))
