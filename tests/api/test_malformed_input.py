"""Malformed input that used to answer INTERNAL_SERVER_ERROR: forged cursors, times without
an offset or off the calendar, periods past year 9998, and text no field can hold (lone
surrogates, NUL). Each is INVALID_INPUT with the field, and nothing is written."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from domain.model import Role
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api


def forged(text: str) -> str:
    """A cursor as a client could forge one: base64url of any text."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def post(api: Api, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """A call whose JSON escapes what httpx cannot encode (e.g. "\\ud800")."""
    body = json.dumps({"query": query, "variables": variables})  # ensure_ascii: "\ud800" stays
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",  # 200 for every well-formed request
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def refused_argument(body: dict[str, Any], field: str) -> None:
    """A top-level INVALID_INPUT naming the argument (queries have no payload)."""
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "INVALID_INPUT", body
    assert extensions["field"] == [field], body


HISTORY = "query($a: String) { me { wallet { history(after: $a) { edges { cursor } } } } }"
REDEMPTIONS = "query($a: String) { me { redemptions(after: $a) { edges { cursor } } } }"
REWARDS = "query($a: String) { rewards(after: $a) { edges { cursor } } }"
AUDIT = "query($a: String) { auditLog(after: $a) { edges { cursor } } }"
PARTNER_REDEMPTIONS = """query($a: String, $s: DateTime, $u: DateTime) {
  partnerRedemptions(after: $a, since: $s, until: $u) { edges { cursor } } }"""
ZERO = "0" * 32


@pytest.mark.asyncio
async def test_forged_cursors_are_invalid_input(api: Api) -> None:
    # given a member with history, a redemption, an audit trail and a partner
    await funded_member(api, "alice", 1000)
    reward = await create_reward(api)
    await redeem(api, "alice", reward["id"], "k-1")
    await api.scan("alice")
    await api.ok(
        'mutation { createPartner(input: {slug: "pp", name: "PP"}) { errors { code } } }',
        token=api.admin(),
    )
    partner = api.token(Role.PARTNER, "box", partner="pp")
    alice, admin = api.member("alice"), api.admin()
    forgeries = [
        (HISTORY, "v:²", alice),  # a digit to str.isdigit, not to int()
        (HISTORY, "v:" + "9" * 40, alice),  # past every integer column
        (HISTORY, "v:-1", alice),
        (REWARDS, "rw:" + "9" * 30 + "|" + ZERO, admin),
        (REWARDS, "rw:²|" + ZERO, admin),
        (REDEMPTIONS, f"rd:2026-01-01T00:00:00|{ZERO}", alice),  # naive time
        (REDEMPTIONS, f"rd:0001-01-01T00:00:00+05:00|{ZERO}", alice),  # before year 1 in UTC
        (AUDIT, f"au:2026-01-01T00:00:00|{ZERO}", admin),
        (AUDIT, "au:2026-01-01T00:00:00+00:00|not-a-uuid", admin),
        (PARTNER_REDEMPTIONS, f"pr:2026-01-01T00:00:00|{ZERO}", partner),
        (PARTNER_REDEMPTIONS, f"pr:9999-12-31T23:00:00-05:00|{ZERO}", partner),
        (PARTNER_REDEMPTIONS, "pr:" + "x" * 300, partner),
    ]
    for query, text, token in forgeries:
        # when a forged cursor is passed
        body = await post(api, query, {"a": forged(text)}, token)
        # then it is an invalid `after`, not an internal error
        refused_argument(body, "after")
    # and a cursor that is no base64 at all, or not ASCII
    for cursor in ("%%%", "é" * 10):
        refused_argument(await post(api, HISTORY, {"a": cursor}, alice), "after")
    # and the cursors handed out still page
    page = await api.ok(
        HISTORY.replace("edges", "pageInfo { endCursor } edges"), {"a": None}, alice
    )
    end = page["me"]["wallet"]["history"]["pageInfo"]["endCursor"]
    assert (await api.ok(HISTORY, {"a": end}, alice))["me"]["wallet"]["history"] is not None


@pytest.mark.asyncio
async def test_partner_times_and_periods_out_of_range_are_invalid_input(api: Api) -> None:
    await api.ok(
        'mutation { createPartner(input: {slug: "pp", name: "PP"}) { errors { code } } }',
        token=api.admin(),
    )
    partner = api.token(Role.PARTNER, "box", partner="pp")
    for name in ("s", "u"):
        for moment in (
            "2026-01-01T00:00:00",
            "0001-01-01T00:00:00+05:00",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:00:00-05:00",
        ):
            body = await post(api, PARTNER_REDEMPTIONS, {name: moment}, partner)
            refused_argument(body, {"s": "since", "u": "until"}[name])
    # a time with its offset is fine
    fine = await post(api, PARTNER_REDEMPTIONS, {"s": "2026-01-01T00:00:00+01:00"}, partner)
    assert "errors" not in fine, fine
    statement = "query($p: String!) { partnerStatement(period: $p) { period } }"
    for period in ("9999-12", "0000-01", "2026-11\n", "٢٠٢٦-11"):
        refused_argument(await post(api, statement, {"p": period}, partner), "period")
    close = """mutation($i: ClosePartnerPeriodInput!) { closePartnerPeriod(input: $i) {
      errors { code field } } }"""
    found = await api.ok(
        'mutation { createPartner(input: {slug: "qq", name: "QQ"}) { partner { id } } }',
        token=api.admin(),
    )
    closing = await post(
        api,
        close,
        {"i": {"partnerId": found["createPartner"]["partner"]["id"], "period": "9999-12"}},
        api.admin(),
    )
    assert closing["data"]["closePartnerPeriod"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "period"]}
    ], closing


def mutation(name: str, input_type: str) -> str:
    return f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ errors {{ code field }} }} }}"


ENROLL = """mutation($i: EnrollInput!) { enroll(input: $i) {
  member { id } errors { code field } } }"""


@pytest.mark.asyncio
async def test_text_no_field_can_hold_is_invalid_input_with_its_field(api: Api) -> None:
    # given a funded member and a partner
    member = await funded_member(api, "alice", 1000)
    await api.ok(
        'mutation { createPartner(input: {slug: "pp", name: "PP"}) { errors { code } } }',
        token=api.admin(),
    )
    partner = api.token(Role.PARTNER, "box", partner="pp")
    money = {"amountMinor": 100, "currency": "EUR"}
    calls = [
        ("enroll", ENROLL, {"displayName": "Bob\ud800"}, api.member("bob"), "displayName"),
        ("enroll", ENROLL, {"referralCode": "\udfff"}, api.member("bob"), "referralCode"),
        ("enroll", ENROLL, {"email": "b\x00@example.com"}, api.member("bob"), "email"),
        (
            "adjustPoints",
            mutation("adjustPoints", "AdjustPointsInput"),
            {"memberId": member["id"], "points": 5, "reason": "\ud800", "idempotencyKey": "a"},
            api.admin(),
            "reason",
        ),
        (
            "blockMember",
            mutation("blockMember", "BlockMemberInput"),
            {"memberId": member["id"], "blocked": True, "reason": "x" * 100_000},
            api.admin(),
            "reason",
        ),
        (
            "lookupMember",
            mutation("lookupMember", "LookupMemberInput"),
            {"cardNumber": "\ud800"},
            api.staff(),
            "cardNumber",
        ),
        (
            "createPartner",
            mutation("createPartner", "CreatePartnerInput"),
            {"slug": "zz", "name": "\ud800"},
            api.admin(),
            "name",
        ),
        (
            "recordPartnerPurchase",
            """mutation($i: RecordPartnerPurchaseInput!) { recordPartnerPurchase(input: $i) {
                 errors { code field } } }""",
            {"orderId": "o-1", "total": money, "cardNumber": "\ud800"},
            partner,
            "cardNumber",
        ),
        (
            "recordPurchase",
            """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
                 errors { code field } } }""",
            {
                "memberId": member["id"],
                "orderId": "o-2",
                "total": money,
                "lines": [{"sku": "a\x00", "quantity": 1, "unitPriceMinor": 100}],
            },
            api.admin(),
            "lines.0.sku",
        ),
    ]
    for name, query, values, token, field in calls:
        # when the text arrives as JSON (which allows it)
        body = await post(api, query, {"i": values}, token)
        # then the payload names the field, and there is no top-level error
        assert "errors" not in body, (name, body)
        assert body["data"][name]["errors"] == [
            {"code": "INVALID_INPUT", "field": ["input", *field.split(".")]}
        ], (name, body)
    # and nothing was written
    assert (await api.wallet("alice"))["balance"] == 1000
    assert (await api.ok("{ me { id } }", token=api.member("bob")))["me"] is None
    blocked = await api.ok(
        "query($id: ID!) { member(id: $id) { blocked } }", {"id": member["id"]}, api.admin()
    )
    assert blocked["member"]["blocked"] is False


@pytest.mark.asyncio
async def test_an_error_echoing_a_lone_surrogate_is_still_a_json_answer(api: Api) -> None:
    # given a value GraphQL refuses and quotes in its message
    await api.enroll("alice")
    body = await post(api, PARTNER_REDEMPTIONS, {"s": "\ud800"}, api.member("alice"))
    # then the answer is JSON with the refusal (it was a 500: the encoder refused the text)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "\ud800" in body["errors"][0]["message"]
