"""How much a voucher takes off an order, and when it does not apply at all."""

from __future__ import annotations

import pytest

from domain.earning import OrderLine
from domain.errors import VoucherNotApplicable
from domain.rewards import RewardKind
from domain.vouchers import Order, VoucherTerms, discount


def terms(kind: RewardKind, **values: object) -> VoucherTerms:
    base: dict[str, object] = {
        "categories": (),
        "min_order_minor": None,
        "free_shipping": kind is RewardKind.FREE_SHIPPING,
        "value_minor": None,
        "percent_off": None,
        "sku": None,
    }
    return VoucherTerms(kind=kind, **{**base, **values})  # type: ignore[arg-type]


SHOES = OrderLine("boot", "Shoes", 1, 3333)
SOCKS = OrderLine("sock", None, 3, 100)


@pytest.mark.parametrize(
    ("voucher", "order", "expected"),
    [
        (terms(RewardKind.PERCENT_DISCOUNT, percent_off=15), Order(1001), 150),  # floor
        (
            terms(RewardKind.PERCENT_DISCOUNT, percent_off=50, categories=("shoes",)),
            Order(None, (SHOES, SOCKS)),
            1666,
        ),
        # a total below the lines (a discount given before) caps the base
        (terms(RewardKind.FIXED_DISCOUNT, value_minor=5000), Order(3000, (SHOES, SOCKS)), 3000),
        (terms(RewardKind.FIXED_DISCOUNT, value_minor=500), Order(), None),  # legacy till
        # a category voucher without lines: accepted, nothing computed
        (
            terms(RewardKind.FIXED_DISCOUNT, value_minor=500, categories=("shoes",)),
            Order(9000),
            None,
        ),
        (terms(RewardKind.FREE_SHIPPING, min_order_minor=2000), Order(2000), None),
        (terms(RewardKind.FREE_PRODUCT, sku="sock"), Order(None, (SHOES, SOCKS)), 100),
    ],
)
def test_discount(voucher: VoucherTerms, order: Order, expected: int | None) -> None:
    assert discount(voucher, order) == expected


@pytest.mark.parametrize(
    ("voucher", "order", "field"),
    [
        (terms(RewardKind.FREE_SHIPPING, min_order_minor=2000), Order(1999), ("input", "total")),
        (
            terms(RewardKind.FIXED_DISCOUNT, value_minor=1, min_order_minor=5000),
            Order(None, (SHOES,)),
            ("input", "lines"),
        ),
        (
            terms(RewardKind.PERCENT_DISCOUNT, percent_off=5, categories=("bags",)),
            Order(5000, (SHOES, SOCKS)),
            ("input", "lines"),
        ),
        (terms(RewardKind.FREE_PRODUCT, sku="hat"), Order(None, (SHOES,)), ("input", "lines")),
    ],
)
def test_not_applicable(voucher: VoucherTerms, order: Order, field: tuple[str, ...]) -> None:
    with pytest.raises(VoucherNotApplicable) as raised:
        discount(voucher, order)
    assert raised.value.field == field
