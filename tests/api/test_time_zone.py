"""The program's time zone through GraphQL: set by admins, checked, kept."""

from __future__ import annotations

import pytest

from tests.support import Api

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
