"""The figures every output prints (projections/figures.py), by worked examples and by properties:
what a payer still has to pay, what it has to recover, the gap, and when an award lags."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, literal, select

from projections import figures


def test_paid_on_a_revoked_award_is_paid_and_to_recover_not_due():
    """The demo's 竹溪县: nothing owed after the revocation, 25,000.00 paid by the county, all to recover."""
    row = figures.completed({"city_owed_fen": 0, "city_paid_fen": 0, "city_to_recover_fen": 0,
                             "county_owed_fen": 0, "county_paid_fen": 2500000, "county_to_recover_fen": 2500000})
    assert (row["county_outstanding_fen"], row["gap_fen"]) == (0, -2500000)


def test_due_is_owed_less_what_was_paid_on_awards_in_force():
    row = figures.completed({"city_owed_fen": 100000, "city_paid_fen": 70000, "city_to_recover_fen": 20000,
                             "county_owed_fen": 100000, "county_paid_fen": 30000, "county_to_recover_fen": 0})
    assert (row["city_outstanding_fen"], row["county_outstanding_fen"], row["gap_fen"]) == (50000, 70000, 40000)
    assert figures.payable(100000, 70000) == row["city_outstanding_fen"] - row["city_to_recover_fen"]


def test_an_application_revoked_owes_nothing_and_has_what_was_paid_to_recover():
    revoked = figures.per_application({"city": 0, "county": 0}, {"city": 5000, "county": 0}, True)
    assert revoked == {"city_to_recover_fen": 5000, "city_outstanding_fen": 0, "county_to_recover_fen": 0,
                       "county_outstanding_fen": 0, "gap_fen": 5000}
    in_force = figures.per_application({"city": 5001, "county": 5000}, {"city": 5001, "county": 0}, False)
    assert (in_force["city_outstanding_fen"], in_force["county_outstanding_fen"]) == (0, 5000)


def test_nothing_paid_is_unpaid_not_behind_even_with_the_citys_odd_fen():
    assert figures.behind(5001, 5000, 0, 0) is None
    assert figures.behind(5001, 5000, 5001, 5000) is None
    assert figures.behind(5001, 5000, 2501, 2500) is None and figures.behind(5001, 5000, 2500, 2500) is None


def test_behind_names_the_payer_that_paid_a_smaller_part_of_its_own_half():
    assert figures.behind(5001, 5000, 5001, 0) == ("county", 5000)
    assert figures.behind(5001, 5000, 0, 5000) == ("city", 5001)
    assert figures.behind(5001, 5000, 5000, 5000) == ("city", 1)  # the county paid all, the city not its odd fen
    assert figures.behind(0, 0, 5000, 0) is None  # revoked: to recover, not lagging
    assert figures.behind(1, 0, 0, 0) is None  # a half of nothing is never ahead


# SQLite multiplies exactly below 2**63: halves up to 30亿 fen (3,000万 yuan, six times the policy's largest
# award) keep the products exact there; PostgreSQL computes in NUMERIC, exact at any size.
HALF = st.integers(min_value=0, max_value=3 * 10**9)


@st.composite
def halves(draw: st.DrawFn, most: int = 2 * 10**13) -> tuple[int, int, int, int]:
    award = draw(st.integers(min_value=0, max_value=most))
    city, county = award - award // 2, award // 2
    return city, county, draw(st.integers(0, city)), draw(st.integers(0, county))


@given(halves())
def test_at_most_one_payer_is_behind_and_never_by_more_than_its_own_due(case):
    city, county, city_paid, county_paid = case
    found = figures.behind(city, county, city_paid, county_paid)
    if city_paid == county_paid == 0 or (city_paid, county_paid) == (city, county):
        assert found is None
    if found is not None:
        payer, short = found
        own_due = city - city_paid if payer == "city" else county - county_paid
        assert 0 < short <= own_due
        assert figures.behind(city, county, *((city_paid + short, county_paid) if payer == "city"
                                              else (city_paid, county_paid + short))) is None


@settings(max_examples=300)
@given(st.one_of(halves(most=6 * 10**9), st.tuples(HALF, HALF, HALF, HALF)))
def test_the_databases_test_of_behind_is_the_same_as_the_reports(case):
    """``behind_sql`` filters the awards the report lists; ``behind`` says who and by how much: the two agree
    (here on SQLite; the PostgreSQL runs are in tests/integration/test_reconcile.py)."""
    engine = _ENGINE
    lagging, city_behind = figures.behind_sql(*(literal(v) for v in case))
    with engine.connect() as conn:
        is_lagging, is_city = conn.execute(select(lagging, city_behind)).one()
    found = figures.behind(*case)
    assert bool(is_lagging) == (found is not None)
    if found is not None:
        assert bool(is_city) == (found[0] == "city")


_ENGINE = create_engine("sqlite://")
