"""The hash chain's rules, without a database: what seals, what breaks, and where."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from ledger.store import chain

ROWS = [(p, UUID(int=p % 3 + 1), p, f"grants:Enterprise.E{p}", f'{{"timestamp":"t{p}","amount_fen":{p * 100}}}'.encode())
        for p in (1, 2, 3, 5, 8, 9)]  # positions with gaps, as PostgreSQL's sequence leaves them


def _links(rows=ROWS):
    return [link.as_row() for link in chain.extend(0, chain.GENESIS, rows)]


def test_a_chain_walked_over_the_rows_it_sealed_holds_to_the_last_event():
    walk = chain.walk(chain.merge(iter(ROWS), iter(_links())))
    assert walk.broken is None and walk.events == len(ROWS)
    assert (walk.head_position, walk.head_hash) == (9, _links()[-1][6])


def test_extending_in_two_writes_gives_the_same_chain_as_one():
    first = chain.extend(0, chain.GENESIS, ROWS[:2])
    rest = chain.extend(first[-1].position, first[-1].hash, ROWS[2:])
    assert [link.as_row() for link in first + rest] == _links()


@given(st.integers(0, len(ROWS) - 1), st.sampled_from(["state", "topic", "version", "id"]))
def test_any_edit_of_a_sealed_field_breaks_the_chain_at_that_position(index, field):
    rows = list(ROWS)
    position, oid, version, topic, state = rows[index]
    edited = {"state": (position, oid, version, topic, state.replace(b"00", b"01", 1)),
              "topic": (position, oid, version, topic + "x", state),
              "version": (position, oid, version + 1, topic, state),
              "id": (position, UUID(int=99), version, topic, state)}[field]
    rows[index] = edited
    walk = chain.walk(chain.merge(iter(rows), iter(_links())))
    assert walk.broken is not None and walk.broken.code == chain.EDITED and walk.broken.position == position
    assert walk.events == index


def test_a_removed_row_is_named_and_an_unsealed_row_is_an_insertion():
    removed = chain.walk(chain.merge(iter(ROWS[:2] + ROWS[3:]), iter(_links())))
    assert removed.broken.code == chain.REMOVED and removed.broken.position == 3
    assert removed.broken.topic == "grants:Enterprise.E3"
    extra = (4, UUID(int=7), 1, "grants:Enterprise.Forged", b"{}")
    inserted = chain.walk(chain.merge(iter(ROWS[:3] + [extra] + ROWS[3:]), iter(_links())))
    assert inserted.broken.code == chain.INSERTED and inserted.broken.position == 4


def test_a_changed_link_hash_is_the_chain_edited_not_the_event():
    links = _links()
    links[2] = (*links[2][:6], "0" * 64)
    walk = chain.walk(chain.merge(iter(ROWS), iter(links)))
    assert walk.broken.code == chain.CHAIN_EDITED and walk.broken.position == 3


def test_ids_are_sealed_in_one_spelling_whichever_the_store_returns():
    oid = UUID(int=5)
    assert chain.canonical_id(oid) == chain.canonical_id(oid.hex) == chain.canonical_id(str(oid)) == oid.hex
