"""The program's time zone through GraphQL: set by admins, checked, kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import Api, MovableClock

SET_ZONE = """mutation($zone: String!) { updateProgram(input: {timeZone: $zone}) {
  program { timeZone } errors { code field } } }"""


@pytest.mark.asyncio
async def test_programs_start_in_utc_and_admins_set_an_iana_zone(api: Api) -> None:
    data = await api.ok("{ program { timeZone } }", token=api.admin())
    assert data["program"]["timeZone"] == "UTC"
    data = await api.ok(SET_ZONE, {"zone": "Europe/Berlin"}, token=api.admin())
    assert data["updateProgram"] == {"program": {"timeZone": "Europe/Berlin"}, "errors": []}
    data = await api.ok("{ program { timeZone } }", token=api.admin())
    assert data["program"]["timeZone"] == "Europe/Berlin"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "zone", ["", "Mars/Olympus", "europe/berlin", "../../etc/passwd", "/etc/localtime", "x" * 65]
)
async def test_unknown_zones_are_refused_and_nothing_changes(api: Api, zone: str) -> None:
    data = await api.ok(SET_ZONE, {"zone": zone}, token=api.admin())
    assert data["updateProgram"] == {
        "program": None,
        "errors": [{"code": "INVALID_INPUT", "field": ["input", "timeZone"]}],
    }
    data = await api.ok("{ program { timeZone } }", token=api.admin())
    assert data["program"]["timeZone"] == "UTC"


@pytest.mark.asyncio
async def test_members_and_staff_cannot_change_the_zone(api: Api) -> None:
    await api.enroll("mia")
    for token in (api.member("mia"), api.staff()):
        result = await api.raw(SET_ZONE, {"zone": "Asia/Tokyo"}, token=token)
        assert result.get("data") in (None, {"updateProgram": None})
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await api.ok("{ program { timeZone } }", token=api.admin())
    assert data["program"]["timeZone"] == "UTC"


@pytest.mark.asyncio
async def test_a_calendar_year_and_a_kept_tier_run_in_the_programs_zone(
    api: Api, clock: MovableClock
) -> None:
    # given a Berlin program with Gold from 100 points, and points earned on 31 December
    zone = await api.ok(SET_ZONE, {"zone": "Europe/Berlin"}, token=api.admin())
    assert zone["updateProgram"]["errors"] == []
    gold = await api.ok(
        'mutation { createTier(input: {name: "Gold", threshold: 100}) { errors { code } } }',
        token=api.admin(),
    )
    assert gold["createTier"]["errors"] == []
    clock.freeze(datetime(2026, 12, 31, 12, tzinfo=UTC))
    member = await api.enroll("alice")
    await api.purchase(member["id"], "o-2026", 900)  # 90 points in Berlin's 2026
    # when she buys again at 23:30 UTC, which is already 2027 in Berlin
    clock.freeze(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    await api.purchase(member["id"], "o-2027", 200)  # 20 points in Berlin's 2027
    # then the 2027 period holds only the later purchase, ends when 2027 ends in Berlin,
    # and 110 points over both years reach no tier
    progress = (
        """{ me { tier { name } tierProgress { qualifyingPoints periodEndsAt keptUntil } } }"""
    )
    me = (await api.ok(progress, token=api.member("alice")))["me"]
    assert me["tier"]["name"] == "Member"
    assert me["tierProgress"]["qualifyingPoints"] == 20
    assert me["tierProgress"]["periodEndsAt"].startswith("2027-12-31T23:00:00")
    # and Gold reached in Berlin's 2027 is kept until 2028 ends there
    await api.purchase(member["id"], "o-2027-b", 800)
    me = (await api.ok(progress, token=api.member("alice")))["me"]
    assert me["tier"]["name"] == "Gold"
    assert me["tierProgress"]["keptUntil"].startswith("2028-12-31T23:00:00")


@pytest.mark.asyncio
async def test_a_birthday_is_in_the_future_by_the_programs_calendar(
    api: Api, clock: MovableClock
) -> None:
    # given a Tokyo program at 00:30 on 2 March there (still 1 March in UTC)
    await api.ok(SET_ZONE, {"zone": "Asia/Tokyo"}, token=api.admin())
    clock.freeze(datetime(2027, 3, 1, 15, 30, tzinfo=UTC))
    enroll = """mutation($d: Date!) { enroll(input: {displayName: "N", birthday: $d}) {
      member { birthday } errors { code field } } }"""
    # then a baby born today in Tokyo may enroll, one born tomorrow may not
    tomorrow = await api.ok(enroll, {"d": "2027-03-03"}, token=api.member("nao"))
    assert tomorrow["enroll"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "birthday"]}
    ]
    today = await api.ok(enroll, {"d": "2027-03-02"}, token=api.member("nao"))
    assert today["enroll"] == {"member": {"birthday": "2027-03-02"}, "errors": []}
