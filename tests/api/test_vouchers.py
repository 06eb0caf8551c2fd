"""Vouchers at the till: their terms (categories, minimum order, free shipping) are shown
and enforced, and the till learns the discount they grant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api

USE = """mutation($i: UseVoucherInput!) { useVoucher(input: $i) {
  redemption { id status } discount { amountMinor currency } errors { code field message } } }"""
TERMS = """query($id: ID!) { node(id: $id) { ... on Redemption { status terms {
  kind categories minimumOrder { amountMinor currency } freeShipping value { amountMinor }
  percentOff sku } } } }"""


def line(sku: str, category: str | None, price: int, quantity: int = 1) -> dict[str, Any]:
    return {"sku": sku, "category": category, "unitPriceMinor": price, "quantity": quantity}


def eur(amount: int) -> dict[str, Any]:
    return {"amountMinor": amount, "currency": "EUR"}


async def voucher(api: Api, sub: str, **reward: Any) -> dict[str, Any]:
    """A fresh voucher of a new reward for member `sub`: its redemption id and code."""
    await funded_member(api, sub, 100)
    created = await create_reward(api, pointsCost=100, **reward)
    redemption = (await redeem(api, sub, created["id"], f"k-{sub}"))["redemption"]
    return redemption


async def use(api: Api, code: str, **order: Any) -> dict[str, Any]:
    return (await api.ok(USE, {"i": {"code": code, **order}}, api.staff()))["useVoucher"]


async def status(api: Api, redemption: dict[str, Any]) -> str:
    data = await api.ok(TERMS, {"id": redemption["id"]}, api.admin())
    return str(data["node"]["status"])


@pytest.mark.asyncio
async def test_a_category_voucher_applies_to_its_lines_above_its_minimum(api: Api) -> None:
    # given a 20% voucher on shoes for orders from 50.00
    redemption = await voucher(
        api,
        "ann",
        name="20% on shoes",
        kind="PERCENT_DISCOUNT",
        percentOff=20,
        sku=None,
        category="Shoes",
        minOrderMinor=5000,
    )
    # then the voucher says how it applies
    terms = (await api.ok(TERMS, {"id": redemption["id"]}, api.member("ann")))["node"]["terms"]
    assert terms == {
        "kind": "PERCENT_DISCOUNT",
        "categories": ["Shoes"],
        "minimumOrder": eur(5000),
        "freeShipping": False,
        "value": None,
        "percentOff": 20,
        "sku": None,
    }
    code = redemption["voucherCode"]
    # an order without shoes is refused, and the voucher stays usable
    no_shoes = await use(api, code, lines=[line("shirt", "tops", 6000)], total=eur(6000))
    assert [(e["code"], e["field"]) for e in no_shoes["errors"]] == [
        ("VOUCHER_NOT_APPLICABLE", ["input", "lines"])
    ]
    # so is one below the minimum order
    small = await use(api, code, lines=[line("boot", "shoes", 4000)], total=eur(4000))
    assert [(e["code"], e["field"]) for e in small["errors"]] == [
        ("VOUCHER_NOT_APPLICABLE", ["input", "total"])
    ]
    assert await status(api, redemption) == "ISSUED"
    # an order with shoes gets 20% off the shoes only
    order = [line("boot", "SHOES", 3000, 2), line("sock", "socks", 1000)]
    used = await use(api, code, lines=order, total=eur(7000))
    assert used["errors"] == []
    assert used["redemption"]["status"] == "USED"
    assert used["discount"] == eur(1200)
    again = await use(api, code, lines=order, total=eur(7000))
    assert again["errors"][0]["code"] == "VOUCHER_ALREADY_USED"


@pytest.mark.asyncio
async def test_fixed_discounts_never_exceed_the_order_and_legacy_tills_still_work(
    api: Api,
) -> None:
    ten_off = {"name": "10 off", "kind": "FIXED_DISCOUNT", "valueMinor": 1000, "sku": None}
    small = await voucher(api, "bob", **ten_off)
    assert (await use(api, small["voucherCode"], total=eur(600)))["discount"] == eur(600)
    large = await voucher(api, "cat", **ten_off)
    used = await use(api, large["voucherCode"], lines=[line("a", None, 2500)])
    assert used["discount"] == eur(1000)
    # a till that sends no order is accepted as before, with no computed discount
    legacy = await voucher(api, "dev", **ten_off)
    result = await use(api, legacy["voucherCode"])
    assert result["errors"] == [] and result["discount"] is None
    assert result["redemption"]["status"] == "USED"


@pytest.mark.asyncio
async def test_free_shipping_and_free_products(api: Api) -> None:
    shipping = await voucher(api, "eli", name="Free shipping", kind="FREE_SHIPPING", sku=None)
    terms = (await api.ok(TERMS, {"id": shipping["id"]}, api.admin()))["node"]["terms"]
    assert terms["freeShipping"] is True and terms["categories"] == []
    used = await use(api, shipping["voucherCode"], total=eur(3000))
    assert used["errors"] == [] and used["discount"] is None
    # a free coffee applies only to an order with the coffee, and takes one off
    coffee = await voucher(api, "fin", name="Free coffee", kind="FREE_PRODUCT", sku="coffee")
    without = await use(api, coffee["voucherCode"], lines=[line("tea", "drinks", 300)])
    assert without["errors"][0]["code"] == "VOUCHER_NOT_APPLICABLE"
    with_it = await use(api, coffee["voucherCode"], lines=[line("coffee", "drinks", 350, 2)])
    assert with_it["errors"] == [] and with_it["discount"] == eur(350)


@pytest.mark.asyncio
async def test_bad_order_input_is_refused_and_uses_nothing(api: Api) -> None:
    redemption = await voucher(api, "gil", name="5 off", kind="FIXED_DISCOUNT", valueMinor=500)
    code = redemption["voucherCode"]
    for order, field in (
        ({"total": {"amountMinor": 1000, "currency": "USD"}}, ["input", "total", "currency"]),
        ({"total": eur(-1)}, ["input", "total", "amountMinor"]),
        ({"lines": [line("a", None, 100, 0)]}, ["input", "lines", "0", "quantity"]),
    ):
        result = await use(api, code, **order)
        assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID_INPUT", field)]
    assert await status(api, redemption) == "ISSUED"
    # the minimum order is validated when the reward is made
    bad = await api.ok(
        """mutation { createReward(input: {name: "x", kind: FIXED_DISCOUNT, pointsCost: 1,
             valueMinor: 1, minOrderMinor: 0}) { errors { code field } } }""",
        token=api.admin(),
    )
    assert bad["createReward"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "minOrderMinor"]}
    ]
