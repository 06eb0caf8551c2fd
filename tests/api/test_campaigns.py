"""Earning campaigns through GraphQL: ids, the admins' connection, changing and ending them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.ids import parse
from tests.support import Api, MovableClock

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FIELDS = "id name startsAt endsAt multiplier categories status minTier { name }"
CREATE = f"""mutation($i: CreateCampaignInput!) {{ createCampaign(input: $i) {{
  campaign {{ {FIELDS} }} errors {{ code field message }} }} }}"""
UPDATE = f"""mutation($i: UpdateCampaignInput!) {{ updateCampaign(input: $i) {{
  campaign {{ {FIELDS} }} errors {{ code field message }} }} }}"""
END = f"""mutation($id: ID!) {{ endCampaign(input: {{campaignId: $id}}) {{
  campaign {{ {FIELDS} }} errors {{ code field message }} }} }}"""
LIST = """query($first: Int, $after: String, $active: Boolean) {
  campaigns(first: $first, after: $after, active: $active) {
    edges { cursor node { id name status } } pageInfo { hasNextPage endCursor } } }"""


async def create(api: Api, name: str, start: timedelta, end: timedelta, **extra: Any) -> dict:
    now = api.runtime.clock.now()
    values = {
        "name": name,
        "startsAt": (now + start).isoformat(),
        "endsAt": (now + end).isoformat(),
        "multiplier": 2,
        **extra,
    }
    payload = (await api.ok(CREATE, {"i": values}, api.admin()))["createCampaign"]
    assert payload["errors"] == [], payload
    return payload["campaign"]


async def names(api: Api, **variables: Any) -> list[str]:
    data = await api.ok(LIST, variables, api.admin())
    return [e["node"]["name"] for e in data["campaigns"]["edges"]]


@pytest.mark.asyncio
async def test_campaigns_have_ids_and_admins_page_through_them(
    api: Api, clock: MovableClock
) -> None:
    # given a finished, a running and two scheduled campaigns
    clock.freeze(T0)
    past = await create(api, "Summer", -timedelta(days=90), -timedelta(days=60))
    running = await create(api, "Black Week", -timedelta(days=1), timedelta(days=6))
    await create(api, "Advent", timedelta(days=10), timedelta(days=34))
    await create(api, "New Year", timedelta(days=40), timedelta(days=41))
    # then each has a Campaign global ID that node() resolves for admins
    assert parse(running["id"])[0] == "Campaign"
    assert running["status"] == "RUNNING" and past["status"] == "ENDED"
    node = "query($id: ID!) { node(id: $id) { ... on Campaign { name multiplier } } }"
    found = await api.ok(node, {"id": running["id"]}, api.admin())
    assert found["node"] == {"name": "Black Week", "multiplier": 2.0}
    # and nobody else sees campaigns by id
    for token in (api.member("alice"), api.staff()):
        assert (await api.ok(node, {"id": running["id"]}, token))["node"] is None
    # the connection lists them latest start first, page by page (keyset cursors)
    first = (await api.ok(LIST, {"first": 3}, api.admin()))["campaigns"]
    assert [e["node"]["name"] for e in first["edges"]] == ["New Year", "Advent", "Black Week"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await names(api, first=3, after=first["pageInfo"]["endCursor"])
    assert rest == ["Summer"]
    # filtered by whether they run now
    assert await names(api, active=True) == ["Black Week"]
    assert await names(api, active=False) == ["New Year", "Advent", "Summer"]
    # only admins list campaigns; a forged cursor is a clean error
    refused = await api.raw(LIST, {}, api.staff())
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await api.raw(LIST, {"after": "bm90LWEtY3Vyc29y"}, api.admin())
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@pytest.mark.asyncio
async def test_update_changes_only_the_fields_given(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    gold = (
        await api.ok(
            'mutation { createTier(input: {name: "Gold", threshold: 1000}) { tier { id } } }',
            token=api.admin(),
        )
    )["createTier"]["tier"]["id"]
    campaign = await create(
        api,
        "Shoe days",
        -timedelta(hours=1),
        timedelta(days=2),
        minTierId=gold,
        categories=["Shoes"],
    )
    member = await api.enroll("bea")
    # when only the multiplier changes
    data = await api.ok(UPDATE, {"i": {"campaignId": campaign["id"], "multiplier": 3}}, api.admin())
    changed = data["updateCampaign"]
    assert changed["errors"] == []
    assert changed["campaign"] == {**campaign, "multiplier": 3.0}
    # an explicit null opens it to every tier, categories [] to the whole order
    data = await api.ok(
        UPDATE,
        {"i": {"campaignId": campaign["id"], "minTierId": None, "categories": []}},
        api.admin(),
    )
    opened = data["updateCampaign"]["campaign"]
    assert opened == {**campaign, "multiplier": 3.0, "minTier": None, "categories": []}
    # and purchases earn what it says now
    assert (await api.purchase(member["id"], "o-1", 1000))["pointsEarned"] == 300
    # bad changes are refused with the field, and change nothing
    for values, field in (
        ({"endsAt": (T0 - timedelta(days=1)).isoformat()}, "endsAt"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"name": "  "}, "name"),
        ({"minTierId": "eA"}, "minTierId"),
    ):
        data = await api.ok(UPDATE, {"i": {"campaignId": campaign["id"], **values}}, api.admin())
        assert data["updateCampaign"]["errors"][0]["field"] == ["input", field], values
    unknown = await api.ok(UPDATE, {"i": {"campaignId": member["id"]}}, api.admin())
    assert unknown["updateCampaign"]["errors"][0]["code"] == "INVALID_INPUT"
    node = "query($id: ID!) { node(id: $id) { ... on Campaign { multiplier name } } }"
    assert (await api.ok(node, {"id": campaign["id"]}, api.admin()))["node"] == {
        "multiplier": 3.0,
        "name": "Shoe days",
    }


@pytest.mark.asyncio
async def test_ending_a_campaign_stops_it_now_and_keeps_it(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    running = await create(api, "Black Friday", -timedelta(hours=2), timedelta(days=1))
    scheduled = await create(api, "Cyber Monday", timedelta(days=3), timedelta(days=4))
    member = await api.enroll("cid")
    assert (await api.purchase(member["id"], "o-1", 1000))["pointsEarned"] == 200
    # when the admin ends both
    clock.advance(timedelta(minutes=5))
    ended = (await api.ok(END, {"id": running["id"]}, api.admin()))["endCampaign"]
    assert ended["errors"] == []
    assert ended["campaign"]["status"] == "ENDED"
    assert ended["campaign"]["startsAt"] == running["startsAt"]
    assert datetime.fromisoformat(ended["campaign"]["endsAt"]) == clock.now()
    cancelled = (await api.ok(END, {"id": scheduled["id"]}, api.admin()))["endCampaign"]
    assert cancelled["campaign"]["status"] == "ENDED"
    # then purchases earn the base rate at once, also when its old window would have run
    assert (await api.purchase(member["id"], "o-2", 1000))["pointsEarned"] == 100
    clock.advance(timedelta(days=3, hours=1))
    assert (await api.purchase(member["id"], "o-3", 1000))["pointsEarned"] == 100
    # the history keeps them, as ended; ending again changes nothing, changing is refused
    assert await names(api) == ["Cyber Monday", "Black Friday"]
    assert await names(api, active=True) == []
    again = (await api.ok(END, {"id": running["id"]}, api.admin()))["endCampaign"]
    assert again == ended
    data = await api.ok(UPDATE, {"i": {"campaignId": running["id"], "name": "X"}}, api.admin())
    assert data["updateCampaign"]["errors"][0]["code"] == "INVALID_INPUT"
    assert data["updateCampaign"]["errors"][0]["field"] == ["input", "campaignId"]
    # members and staff may not end campaigns
    for token in (api.member("cid"), api.staff()):
        refused = await api.raw(END, {"id": running["id"]}, token)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
