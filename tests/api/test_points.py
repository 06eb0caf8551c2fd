"""Crediting purchases and adjusting points through GraphQL: idempotency, validation, history."""

from __future__ import annotations

import pytest

from tests.support import Api

PURCHASE = """mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
  pointsEarned wallet { balance lifetimeEarned version } errors { code field message } } }"""

HISTORY = """query($first: Int, $after: String) { me { wallet {
  history(first: $first, after: $after) {
  edges { cursor node { id kind points balanceAfter description occurredAt } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""


def purchase_input(member_id: str, order: str, amount: int, currency: str = "EUR") -> dict:
    return {
        "input": {
            "memberId": member_id,
            "orderId": order,
            "total": {"amountMinor": amount, "currency": currency},
        }
    }


@pytest.mark.asyncio
async def test_purchase_earns_floor_of_rate_and_shows_in_wallet(api: Api) -> None:
    # given a member and the default rate of 10 points per 1.00
    member = await api.enroll("alice")
    # when a purchase of 12.99 is recorded
    result = await api.purchase(member["id"], "order-1", 1299)
    # then floor(1299 * 10 / 100) = 129 points are credited
    assert result["errors"] == []
    assert result["pointsEarned"] == 129
    wallet = await api.wallet("alice")
    assert wallet == {"balance": 129, "pending": 0, "lifetimeEarned": 129, "version": 1}


@pytest.mark.asyncio
async def test_same_order_twice_credits_once_and_answers_the_same(api: Api) -> None:
    member = await api.enroll("bob")
    first = await api.purchase(member["id"], "order-7", 5000)
    second = await api.purchase(member["id"], "order-7", 5000)
    assert first["pointsEarned"] == second["pointsEarned"] == 500
    assert second["errors"] == []
    assert (await api.wallet("bob"))["balance"] == 500


@pytest.mark.asyncio
async def test_same_order_with_a_different_amount_is_a_conflict(api: Api) -> None:
    member = await api.enroll("carol")
    await api.purchase(member["id"], "order-9", 5000)
    conflict = await api.purchase(member["id"], "order-9", 6000)
    assert conflict["pointsEarned"] is None
    assert conflict["errors"] == [
        {
            "code": "IDEMPOTENCY_CONFLICT",
            "field": ["input", "orderId"],
            "message": conflict["errors"][0]["message"],
        }
    ]
    assert (await api.wallet("carol"))["balance"] == 500


@pytest.mark.asyncio
async def test_updated_earn_rate_applies_to_later_purchases(api: Api) -> None:
    member = await api.enroll("dan")
    data = await api.ok(
        """mutation { updateProgram(input: {pointsName: "stars",
             earnRate: {points: 3, perAmountMinor: 250}}) {
             program { pointsName earnRate { points perAmountMinor } } errors { code } } }""",
        token=api.admin(),
    )
    assert data["updateProgram"]["program"] == {
        "pointsName": "stars",
        "earnRate": {"points": 3, "perAmountMinor": 250},
    }
    result = await api.purchase(member["id"], "o-1", 999)
    assert result["pointsEarned"] == 999 * 3 // 250


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (-100, "EUR", ["input", "total", "amountMinor"]),
        (0, "EUR", ["input", "total", "amountMinor"]),
        (1_000_000_001, "EUR", ["input", "total", "amountMinor"]),
        (100, "USD", ["input", "total", "currency"]),
        (100, "EURO", ["input", "total", "currency"]),
        (100, "XYZ", ["input", "total", "currency"]),
    ],
)
async def test_bad_amounts_and_currencies_are_refused_and_nothing_is_credited(
    api: Api, amount: int, currency: str, field: list[str]
) -> None:
    member = await api.enroll("erin")
    result = await api.purchase(member["id"], "o-bad", amount, currency)
    assert result["pointsEarned"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID_INPUT", field)]
    assert (await api.wallet("erin"))["version"] == 0
    # the order id was not used up by the failed attempt
    assert (await api.purchase(member["id"], "o-bad", 100))["pointsEarned"] == 10


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("member_id", "order_id", "field", "code"),
    [
        ("not-an-id", "o-1", ["input", "memberId"], "INVALID_INPUT"),
        ("TWVtYmVyOjEyMw", "o-1", ["input", "memberId"], "INVALID_INPUT"),
        (
            "TWVtYmVyOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw",
            "o-1",
            ["input", "memberId"],
            "NOT_FOUND",
        ),
        (None, "", ["input", "orderId"], "INVALID_INPUT"),
        (None, "x" * 201, ["input", "orderId"], "INVALID_INPUT"),
    ],
)
async def test_bad_member_ids_and_order_ids_are_refused(
    api: Api, member_id: str | None, order_id: str, field: list[str], code: str
) -> None:
    member = await api.enroll("fay")
    result = await api.purchase(member_id or member["id"], order_id, 1000)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)]
    assert (await api.wallet("fay"))["version"] == 0


@pytest.mark.asyncio
async def test_future_purchase_time_is_refused(api: Api, clock) -> None:
    member = await api.enroll("gil")
    variables = purchase_input(member["id"], "o-future", 1000)
    variables["input"]["occurredAt"] = "2999-01-01T00:00:00+00:00"
    data = await api.ok(PURCHASE, variables, api.staff())
    assert data["recordPurchase"]["errors"][0]["field"] == ["input", "occurredAt"]


@pytest.mark.asyncio
async def test_adjustments_need_a_reason_are_idempotent_and_never_overdraw(api: Api) -> None:
    member = await api.enroll("hal")
    up = await api.adjust(member["id"], 300, "k-1", reason="Goodwill")
    assert up == {"wallet": {"balance": 300, "version": 1}, "errors": []}
    # retry with the same key: same effect, once
    assert (await api.adjust(member["id"], 300, "k-1", reason="Goodwill"))["errors"] == []
    # same key, different request
    conflict = await api.adjust(member["id"], 301, "k-1", reason="Goodwill")
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    # taking more than the balance
    over = await api.adjust(member["id"], -301, "k-2")
    assert over["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    down = await api.adjust(member["id"], -120, "k-3")
    assert down["wallet"] == {"balance": 180, "version": 2}
    # blank reason and zero points
    blank = await api.adjust(member["id"], 5, "k-4", reason="   ")
    assert blank["errors"][0]["field"] == ["input", "reason"]
    zero = await api.adjust(member["id"], 0, "k-5")
    assert zero["errors"][0]["field"] == ["input", "points"]
    assert (await api.wallet("hal"))["balance"] == 180


@pytest.mark.asyncio
async def test_history_pages_newest_first_without_overlap_and_stable_under_inserts(
    api: Api,
) -> None:
    member = await api.enroll("ivy")
    for n in range(7):
        await api.purchase(member["id"], f"o-{n}", 100 * (n + 1))
    token = api.member("ivy")

    first = (await api.ok(HISTORY, {"first": 3}, token))["me"]["wallet"]["history"]
    # a new entry arrives between page loads
    await api.purchase(member["id"], "o-late", 5000)
    second = (await api.ok(HISTORY, {"first": 3, "after": first["pageInfo"]["endCursor"]}, token))[
        "me"
    ]["wallet"]["history"]
    third = (await api.ok(HISTORY, {"first": 3, "after": second["pageInfo"]["endCursor"]}, token))[
        "me"
    ]["wallet"]["history"]

    points = [e["node"]["points"] for p in (first, second, third) for e in p["edges"]]
    assert points == [70, 60, 50, 40, 30, 20, 10]
    assert first["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasNextPage"]
    assert not third["pageInfo"]["hasNextPage"]
    assert not first["pageInfo"]["hasPreviousPage"] and second["pageInfo"]["hasPreviousPage"]
    ids = [e["node"]["id"] for p in (first, second, third) for e in p["edges"]]
    assert len(set(ids)) == 7
    balances = [e["node"]["balanceAfter"] for p in (first, second, third) for e in p["edges"]]
    assert balances == [280, 210, 150, 100, 60, 30, 10]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("variables", "message_part"),
    [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"first": 5, "after": "garbage!"}, "cursor"),
        ({"first": 5, "after": "eDox"}, "cursor"),
    ],
)
async def test_bad_page_arguments_are_refused_with_a_code(
    api: Api, variables: dict, message_part: str
) -> None:
    await api.enroll("jo")
    body = await api.raw(HISTORY, variables, api.member("jo"))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert message_part in error["message"]


@pytest.mark.asyncio
async def test_ledger_entries_are_nodes_readable_by_their_owner_only(api: Api) -> None:
    member = await api.enroll("kim")
    await api.enroll("lee")
    await api.purchase(member["id"], "o-1", 1000)
    page = (await api.ok(HISTORY, {"first": 1}, api.member("kim")))["me"]["wallet"]["history"]
    entry_id = page["edges"][0]["node"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on LedgerEntry { points kind } } }"
    mine = await api.ok(query, {"id": entry_id}, api.member("kim"))
    assert mine["node"] == {"id": entry_id, "points": 100, "kind": "EARN"}
    theirs = await api.ok(query, {"id": entry_id}, api.member("lee"))
    assert theirs["node"] is None


@pytest.mark.asyncio
async def test_amount_beyond_graphql_int_is_a_validation_error_not_a_crash(api: Api) -> None:
    member = await api.enroll("max")
    body = await api.raw(PURCHASE, purchase_input(member["id"], "o-big", 10**13), api.staff())
    assert "data" not in body
    assert "32-bit" in body["errors"][0]["message"]
    assert (await api.wallet("max"))["version"] == 0
