"""How a voucher's discount applies to an order: categories, minimum order, free shipping.

Pure rules over the reward a voucher was issued for and the order the till shows. A till
that sends neither lines nor a total (as before these rules) gets the voucher accepted
and no computed discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.earning import OrderLine
from domain.errors import VoucherNotApplicable
from domain.rewards import Reward, RewardKind


@dataclass(frozen=True)
class VoucherTerms:
    """What a voucher grants and on which orders."""

    kind: RewardKind
    categories: tuple[str, ...]  # empty: the whole order
    min_order_minor: int | None
    free_shipping: bool
    value_minor: int | None  # FIXED_DISCOUNT
    percent_off: int | None  # PERCENT_DISCOUNT
    sku: str | None  # FREE_PRODUCT


def terms_of(reward: Reward) -> VoucherTerms:
    """The terms of the vouchers of `reward`."""
    return VoucherTerms(
        kind=reward.kind,
        categories=(reward.category,) if reward.category else (),
        min_order_minor=reward.min_order_minor,
        free_shipping=reward.kind is RewardKind.FREE_SHIPPING,
        value_minor=reward.value_minor,
        percent_off=reward.percent_off,
        sku=reward.sku,
    )


@dataclass(frozen=True)
class Order:
    """The order a voucher is used on, as far as the till tells: total and/or lines."""

    total_minor: int | None = None
    lines: tuple[OrderLine, ...] = ()

    @property
    def known(self) -> bool:
        return self.total_minor is not None or bool(self.lines)


def _in(line: OrderLine, categories: Sequence[str]) -> bool:
    wanted = {c.casefold() for c in categories}
    return line.category is not None and line.category.casefold() in wanted


def discount(terms: VoucherTerms, order: Order) -> int | None:
    """Money off (minor units) the voucher grants `order`, never more than the goods it
    applies to; None when it cannot be computed (no lines or total, a category voucher
    without lines) or the voucher grants no money off goods (free shipping, experiences).

    VOUCHER_NOT_APPLICABLE when the order is below the minimum, has no line in the
    voucher's categories, or lacks the free product.
    """
    if not order.known:
        return None
    lines_total = sum(line.amount_minor for line in order.lines)
    total = order.total_minor if order.total_minor is not None else lines_total
    if terms.min_order_minor is not None and total < terms.min_order_minor:
        raise VoucherNotApplicable(
            f"This voucher needs an order of at least {terms.min_order_minor} (minor units); "
            f"this one is {total}.",
            ("input", "total") if order.total_minor is not None else ("input", "lines"),
        )
    if terms.kind is RewardKind.FREE_PRODUCT:
        if not order.lines:
            return None
        product = next((line for line in order.lines if line.sku == terms.sku), None)
        if product is None:
            raise VoucherNotApplicable(
                f"The free product {terms.sku!r} is not in the order.", ("input", "lines")
            )
        return product.unit_price_minor
    if terms.kind not in (RewardKind.FIXED_DISCOUNT, RewardKind.PERCENT_DISCOUNT):
        return None
    if terms.categories:
        if not order.lines:
            return None  # the till did not say what the order holds
        eligible = [line for line in order.lines if _in(line, terms.categories)]
        if not eligible:
            raise VoucherNotApplicable(
                "No line of the order is in the voucher's categories: "
                + ", ".join(terms.categories)
                + ".",
                ("input", "lines"),
            )
        base = sum(line.amount_minor for line in eligible)
    else:
        base = lines_total if order.lines else total
    base = min(base, total)  # a total below the lines (discounts) caps what is off
    if terms.kind is RewardKind.FIXED_DISCOUNT:
        return min(terms.value_minor or 0, base)
    return base * (terms.percent_off or 0) // 100
