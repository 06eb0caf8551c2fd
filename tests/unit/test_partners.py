"""Partner settlement rules without a database: a period's points are priced once."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from domain.model import new_id
from domain.partners import (
    PartnerTerms,
    SettlementEntry,
    issued_hundredths,
    statement,
    to_minor,
)

PARTNER, PROGRAM = new_id(), new_id()
AT = datetime(2026, 10, 5, tzinfo=UTC)


def issued(points: int, terms: PartnerTerms) -> SettlementEntry:
    return SettlementEntry(
        id=new_id(),
        program_id=PROGRAM,
        partner_id=PARTNER,
        kind="POINTS_ISSUED",
        points=points,
        amount_hundredths=issued_hundredths(points, terms),
        reference="order",
        occurred_at=AT,
    )


def owed(orders: list[int], terms: PartnerTerms) -> int:
    entries = [issued(points, terms) for points in orders]
    return statement(PARTNER, "2026-10", entries, closed=False).owed_by_partner_minor


def test_forty_one_point_orders_owe_what_one_forty_point_order_owes() -> None:
    terms = PartnerTerms(price_per_100_points_minor=50)
    assert owed([1] * 40, terms) == owed([40], terms) == 20


@given(
    orders=st.lists(st.integers(min_value=0, max_value=5_000), max_size=60),
    price=st.integers(min_value=0, max_value=100_000),
    data=st.data(),
)
def test_the_amount_owed_is_the_price_of_the_total_however_it_was_split(
    orders: list[int], price: int, data: st.DataObject
) -> None:
    terms = PartnerTerms(price_per_100_points_minor=price)
    total = sum(orders)
    # the same points in any other split into orders (here: shuffled, then re-cut)
    shuffled = data.draw(st.permutations(orders))
    cuts = sorted(data.draw(st.lists(st.integers(0, total), max_size=10)))
    resplit = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    assert sum(resplit) == total
    exact = Fraction(total * price, 100)
    for split in (orders, shuffled, resplit):
        amount = owed(split, terms)
        assert amount == to_minor(total * price)
        # rounded half up: within half a minor unit of the exact price, never below half
        assert exact - Fraction(1, 2) < amount <= exact + Fraction(1, 2)


def test_half_a_minor_unit_rounds_up() -> None:
    assert [to_minor(h) for h in (0, 49, 50, 149, 150)] == [0, 0, 1, 1, 2]
